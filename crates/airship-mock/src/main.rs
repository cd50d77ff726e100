//! `airship-mock`: runs the Airship mock server until SIGINT or SIGTERM.

use std::io::IsTerminal as _;
use std::net::SocketAddr;

use airship_mock::MockConfig;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Serves a local stand-in for Airship's custom-events, named-user tags and named-user
/// attributes endpoints, logging every request it receives.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on. Port 0 picks a free port, which is logged at startup.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// App key required in the X-UA-Appkey header on custom events.
    #[arg(long, env = "AIRSHIP_MOCK_APP_KEY", default_value = "mock-app-key")]
    app_key: String,

    /// Bearer token required in the Authorization header on every endpoint.
    #[arg(
        long,
        env = "AIRSHIP_MOCK_ACCESS_TOKEN",
        default_value = "mock-access-token",
        hide_env_values = true
    )]
    access_token: String,
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

    let config = MockConfig {
        app_key: args.app_key,
        access_token: args.access_token,
        log_requests: true,
    };
    let running = airship_mock::spawn(config, args.listen).await?;

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
