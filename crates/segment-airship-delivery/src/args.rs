//! Command-line flags of the spool and the delivery engine, shared by every front end.

use std::path::PathBuf;
use std::time::Duration;

use crate::engine::{EngineConfig, RetryPolicy};
use crate::spool::{SqliteSpoolOptions, Synchronous};

/// Location of the spool that stores accepted messages until delivered, and the deduplication
/// window.
#[derive(Debug, Clone, clap::Args)]
pub struct SpoolArgs {
    /// SQLite file holding accepted messages, dead letters and deduplication ids; created with
    /// its directory when missing. One running service per file.
    #[arg(
        long = "spool",
        env = "SPOOL_PATH",
        value_name = "PATH",
        default_value = "./data/spool.db"
    )]
    pub path: PathBuf,

    /// When a commit counts as done. `full` flushes every commit to the disk before the caller
    /// gets `200`, so acknowledged messages survive a power loss. `normal` flushes only at
    /// checkpoints, so they survive a crash of the service but not of the machine.
    #[arg(
        long = "spool-sync",
        env = "SPOOL_SYNC",
        value_name = "MODE",
        value_enum,
        default_value = "full"
    )]
    pub synchronous: Synchronous,

    /// How long a `messageId` is remembered: a message sent again within it is acknowledged but
    /// not delivered twice. Such as 24h or 90m, or 0 to turn deduplication off.
    #[arg(
        long = "dedup-window",
        env = "DEDUP_WINDOW",
        value_name = "DURATION",
        value_parser = parse_duration,
        default_value = "24h"
    )]
    pub dedup_window: Duration,
}

impl SpoolArgs {
    /// Returns the options for [`SqliteSpool`](crate::SqliteSpool).
    pub fn options(&self) -> SqliteSpoolOptions {
        SqliteSpoolOptions {
            synchronous: self.synchronous,
            dedup_window: self.dedup_window,
        }
    }
}

/// Batching and retry settings of the delivery engine.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// Maximum wait in milliseconds for more messages before a partial batch is sent to Airship.
    #[arg(
        long,
        env = "FLUSH_INTERVAL_MS",
        value_name = "MS",
        default_value_t = 20
    )]
    pub flush_interval_ms: u64,

    /// Maximum number of messages coalesced into one batch of Airship requests.
    #[arg(long, env = "FLUSH_SIZE", value_name = "COUNT", default_value_t = 1_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub flush_size: u64,

    /// Delivery workers. Each owns the named users that hash to it and delivers their messages
    /// in order.
    #[arg(long, env = "DELIVERY_WORKERS", value_name = "COUNT", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=256))]
    pub delivery_workers: u64,

    /// Failed attempts after which a message becomes a dead letter; 0 for no limit, leaving
    /// --max-age alone to decide.
    #[arg(long, env = "MAX_ATTEMPTS", value_name = "COUNT", default_value_t = 0)]
    pub max_attempts: u32,

    /// Time in the spool after which a message that fails again becomes a dead letter, such as
    /// 24h or 30m.
    #[arg(
        long,
        env = "MAX_AGE",
        value_name = "DURATION",
        value_parser = parse_duration,
        default_value = "24h"
    )]
    pub max_age: Duration,

    /// Wait after the first failed attempt; it doubles with each further failure, with jitter.
    #[arg(
        long,
        env = "BACKOFF_INITIAL",
        value_name = "DURATION",
        value_parser = parse_duration,
        default_value = "250ms"
    )]
    pub backoff_initial: Duration,

    /// Maximum wait between attempts, unless Airship requests longer with Retry-After (followed
    /// up to 15 minutes).
    #[arg(
        long,
        env = "BACKOFF_MAX",
        value_name = "DURATION",
        value_parser = parse_duration,
        default_value = "60s"
    )]
    pub backoff_max: Duration,
}

impl EngineArgs {
    /// Returns the engine settings these flags describe.
    pub fn config(&self) -> EngineConfig {
        EngineConfig {
            flush_interval: Duration::from_millis(self.flush_interval_ms),
            flush_size: usize::try_from(self.flush_size).unwrap_or(usize::MAX),
            workers: usize::try_from(self.delivery_workers).unwrap_or(1),
            retry: RetryPolicy {
                initial_backoff: self.backoff_initial,
                max_backoff: self.backoff_max.max(self.backoff_initial),
                max_attempts: (self.max_attempts > 0).then_some(self.max_attempts),
                max_age: self.max_age,
            },
            ..EngineConfig::default()
        }
    }
}

/// Parses a duration written as an integer and a unit: `ms`, `s`, `m`, `h` or `d`. `0` alone is
/// zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit; write it as 500ms, 30s, 15m, 24h or 7d"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| {
        format!(
            "`{text}` does not start with a whole number; write it as 500ms, 30s, 15m, 24h or 7d"
        )
    })?;
    let seconds_per_unit = match unit {
        "ms" => return Ok(Duration::from_millis(number)),
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`; use ms, s, m, h or d"
            ))
        }
    };
    number
        .checked_mul(seconds_per_unit)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units_parse() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn durations_without_valid_unit_are_rejected() {
        for text in ["30", "h", "1.5h", "10 weeks", "-1s"] {
            let error = parse_duration(text).unwrap_err();
            assert!(error.contains(text.trim()), "{error}");
        }
    }

    #[derive(Debug, clap::Parser)]
    struct Command {
        #[command(flatten)]
        spool: SpoolArgs,
        #[command(flatten)]
        engine: EngineArgs,
    }

    #[test]
    fn defaults_match_documented_values() {
        use clap::Parser as _;

        let command = Command::try_parse_from(["test"]).unwrap();
        let config = command.engine.config();

        assert_eq!(command.spool.path, PathBuf::from("./data/spool.db"));
        assert_eq!(command.spool.synchronous, Synchronous::Full);
        assert_eq!(command.spool.dedup_window, Duration::from_secs(86_400));
        assert_eq!(config.flush_interval, Duration::from_millis(20));
        assert_eq!(config.flush_size, 1_000);
        assert_eq!(config.workers, 4);
        assert_eq!(config.retry.max_attempts, None);
        assert_eq!(config.retry.max_age, Duration::from_secs(86_400));
    }

    #[test]
    fn flags_set_engine_config() {
        use clap::Parser as _;

        let command = Command::try_parse_from([
            "test",
            "--spool",
            "/tmp/s.db",
            "--spool-sync",
            "normal",
            "--dedup-window",
            "0",
            "--flush-interval-ms",
            "5",
            "--max-attempts",
            "3",
            "--max-age",
            "2s",
        ])
        .unwrap();
        let config = command.engine.config();

        assert_eq!(command.spool.options().synchronous, Synchronous::Normal);
        assert_eq!(command.spool.options().dedup_window, Duration::ZERO);
        assert_eq!(config.flush_interval, Duration::from_millis(5));
        assert_eq!(config.retry.max_attempts, Some(3));
        assert_eq!(config.retry.max_age, Duration::from_secs(2));
    }
}
