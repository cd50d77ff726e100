//! `airship-mock`: runs the Airship mock server until SIGINT or SIGTERM.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use airship_mock::{
    parse_now, AttributeType, FaultRequest, MockAirship, MockConfig, DEFAULT_RETRY_AFTER_SECS,
};
use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Serves a local stand-in for Airship's custom-events, named-user tags, named-user attributes and
/// named-user lookup endpoints, checking requests as Airship does and logging every request.
///
/// Settings come from the defaults, then the --config file, then the flags, each overriding the
/// one before.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on. Port 0 picks a free port, which is logged at startup.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// TOML file with credentials, clock, named users and the [project] definition.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// App key required in the X-UA-Appkey header on custom events [default: mock-app-key].
    #[arg(long, env = "AIRSHIP_MOCK_APP_KEY")]
    app_key: Option<String>,

    /// Bearer token accepted on every endpoint [default: mock-access-token].
    #[arg(long, env = "AIRSHIP_MOCK_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,

    /// Master secret accepted with Basic auth on the named-user endpoints
    /// [default: mock-master-secret].
    #[arg(long, env = "AIRSHIP_MOCK_MASTER_SECRET", hide_env_values = true)]
    master_secret: Option<String>,

    /// App secret accepted with Basic auth on the named-user write endpoints
    /// [default: mock-app-secret].
    #[arg(long, env = "AIRSHIP_MOCK_APP_SECRET", hide_env_values = true)]
    app_secret: Option<String>,

    /// Tag group that exists in the project; repeat for several. Replaces the groups of the
    /// config file or the defaults (segment-integration, segment-integration-group).
    #[arg(long = "tag-group", value_name = "GROUP")]
    tag_groups: Vec<String>,

    /// Custom attribute that exists in the project, as KEY=TYPE with TYPE one of text, number,
    /// date or json; repeat for several. Added to the configured attributes.
    #[arg(long = "attribute", value_name = "KEY=TYPE", value_parser = parse_attribute)]
    attributes: Vec<(String, AttributeType)>,

    /// Leave Airship's 23 predefined attributes out of the project.
    #[arg(long)]
    no_predefined_attributes: bool,

    /// Only known named users exist; writes to others get 200 with warnings and change nothing.
    #[arg(long)]
    strict_named_users: bool,

    /// Named user that exists from the start; repeat for several.
    #[arg(long = "known-named-user", value_name = "ID")]
    known_named_users: Vec<String>,

    /// Fixed current time (RFC 3339) for the 90-day window of custom events, instead of the
    /// system clock.
    #[arg(long, value_name = "DATE_TIME")]
    now: Option<String>,

    /// Respond to API requests with this error status (400 to 599) instead of handling them.
    #[arg(long, value_name = "STATUS")]
    fail_status: Option<u16>,

    /// Number of requests --fail-status applies to; every request when left out.
    #[arg(long, value_name = "N", requires = "fail_status")]
    fail_count: Option<u32>,

    /// Retry-After header, in seconds, sent with --fail-status [default: 1 for 429, none
    /// otherwise].
    #[arg(long, value_name = "SECONDS", requires = "fail_status")]
    retry_after: Option<u64>,

    /// Close the connection of this many API requests without a response, after any
    /// --fail-status requests.
    #[arg(long, value_name = "N")]
    drop_connections: Option<u32>,

    /// Delay before the response to every API request, in milliseconds.
    #[arg(long, value_name = "MILLISECONDS")]
    latency_ms: Option<u64>,
}

fn parse_attribute(text: &str) -> Result<(String, AttributeType), String> {
    let (key, kind) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=TYPE, got {text:?}"))?;
    let kind = match kind.trim() {
        "text" => AttributeType::Text,
        "number" => AttributeType::Number,
        "date" => AttributeType::Date,
        "json" => AttributeType::Json,
        other => {
            return Err(format!(
                "attribute type {other:?} is invalid; use text, number, date or json"
            ))
        }
    };
    Ok((key.trim().to_owned(), kind))
}

impl Args {
    /// Builds the config from the defaults, the config file and the flags, in that order.
    fn mock_config(&self) -> anyhow::Result<MockConfig> {
        let mut config = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("failed to read the mock config file {}", path.display())
                })?;
                MockConfig::from_toml_str(&text)
                    .with_context(|| format!("in mock config file {}", path.display()))?
            }
            None => MockConfig::default(),
        };
        // Logging every request is the binary's output, so it is always on.
        config.log_requests = true;

        let credentials = [
            (&self.app_key, &mut config.app_key),
            (&self.access_token, &mut config.access_token),
            (&self.master_secret, &mut config.master_secret),
            (&self.app_secret, &mut config.app_secret),
        ];
        for (flag, value) in credentials {
            if let Some(flag) = flag {
                value.clone_from(flag);
            }
        }
        if !self.tag_groups.is_empty() {
            config.project.tag_groups = self.tag_groups.iter().cloned().collect();
        }
        if self.no_predefined_attributes {
            for (key, _) in airship_mock::predefined_attributes() {
                config.project.attributes.remove(&key);
            }
        }
        config
            .project
            .attributes
            .extend(self.attributes.iter().cloned());
        config.strict_named_users |= self.strict_named_users;
        config
            .known_named_users
            .extend(self.known_named_users.iter().cloned());
        if let Some(now) = &self.now {
            config.now = Some(parse_now(now).map_err(anyhow::Error::msg)?);
        }

        config.validate()?;
        Ok(config)
    }

    /// Installs the faults the flags request on `mock`.
    fn install_faults(&self, mock: &MockAirship) -> anyhow::Result<()> {
        if let Some(status) = self.fail_status {
            let request = FaultRequest {
                status: Some(status),
                count: self.fail_count,
                retry_after: self.retry_after.map(Some),
                ..FaultRequest::default()
            };
            if let Some(rule) = request.rule()? {
                mock.add_fault_rule(rule);
            }
        }
        if let Some(count) = self.drop_connections {
            mock.drop_connections(count)?;
        }
        if let Some(latency_ms) = self.latency_ms {
            mock.set_latency(Duration::from_millis(latency_ms));
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    // The faults are installed before the server starts, so they apply from the first request.
    let mock = MockAirship::new(args.mock_config()?);
    args.install_faults(&mock)?;
    let running = airship_mock::spawn_with(mock, args.listen).await?;
    let faults = running.mock().faults();
    if !faults.rules.is_empty() || faults.latency_ms > 0 {
        tracing::info!(
            ?faults,
            default_retry_after_secs = DEFAULT_RETRY_AFTER_SECS,
            "Mock Airship faults installed"
        );
    }

    shutdown_signal().await?;
    tracing::info!("Shutdown signal received");
    running.shutdown().await
}

/// Waits for Ctrl-C, or for SIGTERM on Unix.
async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};

        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}
