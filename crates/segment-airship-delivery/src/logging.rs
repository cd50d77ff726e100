//! Log output of the front-end binaries.

use std::io::IsTerminal;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::EnvFilter;

/// Sends logs to standard error at `default_level` and above, unless RUST_LOG sets another
/// filter. Colours are used only when standard error is a terminal, so redirected logs stay plain.
pub fn init_stderr_logging(default_level: LevelFilter) {
    let filter = EnvFilter::builder()
        .with_default_directive(default_level.into())
        .from_env_lossy();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
