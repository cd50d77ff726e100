//! `segment-airship-http`: serves Segment's tracking API, spools each message and delivers it to
//! Airship.

use std::net::SocketAddr;
use std::sync::Arc;

use airship_client::{AirshipClient, AirshipConfig, LiveClient, Secret};
use airship_mock::{MockConfig, RunningMock};
use anyhow::{bail, Context as _};
use clap::Parser;
use segment_airship_delivery::{
    init_stderr_logging, AirshipArgs, AirshipTarget, ConfigFile, Engine, EngineArgs, Intake, Spool,
    SpoolArgs, SqliteSpool,
};
use segment_airship_http::{AppState, Auth, WriteKey};
use tokio::net::TcpListener;
use tracing_subscriber::filter::LevelFilter;

// Mapping and JSON handling allocate many small values per message; mimalloc serves them with
// far less contention than the system allocator (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Accepts Segment tracking-API calls (/v1/identify, /v1/track, /v1/group, /v1/page, /v1/screen,
/// /v1/alias, /v1/batch, /v1/import), commits each sendable message to an on-disk spool before
/// responding, and delivers the spool to Airship in batches with retries.
///
/// Callers authenticate with a Segment write key, as the Basic auth user name or as `writeKey`
/// in the body. Messages Airship rejects, or that fail past --max-age or --max-attempts, become
/// dead letters: list and replay them with `segment-airship dead-letters`. Logging follows
/// RUST_LOG (default `info`).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address and port to listen on.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    #[command(flatten)]
    airship: AirshipArgs,

    #[command(flatten)]
    spool: SpoolArgs,

    #[command(flatten)]
    engine: EngineArgs,

    /// Segment write key that callers must present; repeat the flag to accept several.
    /// SEGMENT_WRITE_KEYS takes a comma-separated list.
    #[arg(
        long = "write-key",
        env = "SEGMENT_WRITE_KEYS",
        value_name = "KEY",
        value_delimiter = ',',
        hide_env_values = true
    )]
    write_keys: Vec<WriteKey>,

    /// Accept every call without a write key, for local testing.
    #[arg(long)]
    no_auth: bool,

    /// Start a mock Airship server on 127.0.0.1 and send every request to it; no app key or
    /// access token is needed.
    #[arg(long)]
    mock_airship: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_stderr_logging(LevelFilter::INFO);

    let auth = auth(&args)?;
    let file = args.airship.load_config()?;
    let (client, target, mock) = airship_client(&args, &file).await?;

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let address = listener
        .local_addr()
        .context("failed to read the bound address")?;

    let spool = Arc::new(
        SqliteSpool::open(&args.spool.path, args.spool.options())
            .with_context(|| format!("failed to open the spool {}", args.spool.path.display()))?,
    );
    let counts = spool.counts().await.context("failed to read the spool")?;
    tracing::info!(
        path = %args.spool.path.display(),
        pending = counts.pending,
        dead_letters = counts.dead_letters,
        "Opened the spool."
    );

    let settings = Arc::new(file.mapping);
    let shared_spool: Arc<dyn Spool> = spool.clone();
    let engine = Engine::start(
        shared_spool.clone(),
        client,
        settings.clone(),
        target,
        args.engine.config(),
    );
    let intake = Intake::new(shared_spool, settings, engine.handle());
    let state = AppState::new(intake, auth);

    tracing::info!(
        address = %address,
        auth = auth_mode(&state.auth),
        "Listening for Segment calls."
    );

    let served = segment_airship_http::serve(listener, state, shutdown_signal()).await;
    tracing::info!("Stopped serving.");

    // Delivery stops after the last call has its response, so every acknowledged message is
    // either delivered now or left in the spool for the next start.
    engine.shutdown().await;
    spool.close().await;
    served.context("the HTTP server failed")?;

    if let Some(mock) = mock {
        mock.shutdown().await?;
    }
    Ok(())
}

fn auth(args: &Args) -> anyhow::Result<Auth> {
    if args.no_auth {
        if !args.write_keys.is_empty() {
            bail!(
                "--no-auth cannot be combined with write keys from --write-key or \
                 SEGMENT_WRITE_KEYS; drop one of them"
            );
        }
        tracing::warn!("Authentication is off: every call is accepted without a write key.");
        return Ok(Auth::Disabled);
    }
    if args.write_keys.is_empty() {
        bail!(
            "no Segment write key configured: pass --write-key KEY (repeatable) or set \
             SEGMENT_WRITE_KEYS to a comma-separated list, or pass --no-auth to accept every call"
        );
    }
    Auth::write_keys(args.write_keys.iter().cloned())
        .context("invalid write key in --write-key or SEGMENT_WRITE_KEYS")
}

/// Builds the live client, or with `--mock-airship` a client pointed at an in-process mock.
async fn airship_client(
    args: &Args,
    file: &ConfigFile,
) -> anyhow::Result<(Arc<dyn AirshipClient>, AirshipTarget, Option<RunningMock>)> {
    if !args.mock_airship {
        let client = args.airship.live_client(file)?;
        let config = client.config();
        tracing::info!(
            data_center = %config.data_center,
            base_url = %config.base_url,
            app_key = %config.app_key,
            "Sending to Airship."
        );
        let target = AirshipTarget {
            data_center: config.data_center,
            base_url: config.base_url.clone(),
        };
        return Ok((Arc::new(client), target, None));
    }

    if args.airship.airship_url.is_some() {
        bail!(
            "--mock-airship cannot be combined with --airship-url or AIRSHIP_URL; drop one of them"
        );
    }
    let mock_config = MockConfig {
        log_requests: true,
        ..MockConfig::default()
    };
    let mock = airship_mock::spawn(mock_config.clone(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("failed to start the mock Airship server")?;
    let config = AirshipConfig::new(
        args.airship.data_center(file),
        mock_config.app_key,
        Secret::new(mock_config.access_token),
    )
    .with_base_url(mock.base_url())
    .with_timeout(args.airship.timeout());
    let target = AirshipTarget {
        data_center: config.data_center,
        base_url: config.base_url.clone(),
    };
    let client = LiveClient::new(config).context("failed to set up the client for the mock")?;
    tracing::warn!(
        base_url = %mock.base_url(),
        "Sending to a mock Airship server, not to Airship."
    );
    Ok((Arc::new(client), target, Some(mock)))
}

fn auth_mode(auth: &Auth) -> &'static str {
    match auth {
        Auth::WriteKeys(_) => "write_keys",
        Auth::Disabled => "disabled",
    }
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "Failed to listen for Ctrl-C.");
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "Failed to listen for SIGTERM.");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("Shutdown signal received; finishing open calls.");
}
