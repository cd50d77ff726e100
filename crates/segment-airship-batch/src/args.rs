//! Command-line flags of `segment-airship-batch`.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Parser;
use segment_airship_delivery::{parse_duration, AirshipArgs, EngineConfig, RetryPolicy};

/// Replays archives of Segment messages into Airship.
///
/// Inputs are files, folders (every file below them, in sorted order) or standard input (`-`),
/// holding NDJSON, a JSON array of messages, or Segment batch objects (`{"batch":[...]}`), each
/// optionally gzip-compressed. Messages go through the same mapping, coalescing, retries and
/// dead letters as the HTTP service. A checkpoint in --state-dir records how far each file got,
/// so running the same command again after an interruption continues where it stopped.
#[derive(Debug, Parser)]
#[command(
    name = "segment-airship-batch",
    version,
    after_help = "Exit status: 0 when every message was delivered, skipped or found invalid (each \
    invalid one is reported with its file and line); 3 when a message became a dead letter, or \
    was invalid with --fail-on-invalid; 1 when an input, the config file, the credentials or the \
    state folder could not be read, which takes precedence over 3; 130 when interrupted, after \
    which the same command continues the run; 2 for invalid arguments."
)]
pub struct BatchArgs {
    #[command(flatten)]
    pub airship: AirshipArgs,

    /// Print what each message maps to, one JSON line per message as `segment-airship map`
    /// prints it, instead of sending anything. Uses no state folder.
    #[arg(long)]
    pub dry_run: bool,

    /// Time used as "now" by --dry-run, as RFC 3339 such as 2026-05-02T12:00:00Z [default:
    /// current time]. Delivery always uses the current time, as Airship checks event times
    /// against it.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now, requires = "dry_run")]
    pub now: Option<DateTime<Utc>>,

    /// Folder for the checkpoint, the list of invalid messages and dead letters, and the
    /// delivery spool; created when missing. One run at a time per folder.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "segment-airship-batch-state"
    )]
    pub state_dir: PathBuf,

    /// Forget the checkpoint and the recorded problems, and replay every input from the start.
    #[arg(long)]
    pub restart: bool,

    /// Most Airship requests per second, retries included [default: no limit].
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Most Airship requests in flight at once.
    #[arg(long, value_name = "COUNT", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Most messages read ahead of the checkpoint. After a crash, at most this many messages
    /// are sent again when the run continues.
    #[arg(long, value_name = "MESSAGES", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub window: u64,

    /// Most messages coalesced into one batch of Airship requests.
    #[arg(long, value_name = "COUNT", default_value_t = 1_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub flush_size: u64,

    /// Longest wait in milliseconds for more messages before a partial batch is sent.
    #[arg(long, value_name = "MS", default_value_t = 20)]
    pub flush_interval_ms: u64,

    /// Failed attempts after which a message becomes a dead letter; 0 for no limit, leaving
    /// --max-age alone to decide.
    #[arg(long, value_name = "COUNT", default_value_t = 10)]
    pub max_attempts: u32,

    /// Time after which a message that fails again becomes a dead letter, such as 10m or 1h.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1h")]
    pub max_age: Duration,

    /// Wait after the first failed attempt; it doubles with each further failure, with jitter.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "250ms")]
    pub backoff_initial: Duration,

    /// Longest wait between attempts, unless Airship asks for longer with Retry-After.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    pub backoff_max: Duration,

    /// How long a `messageId` is remembered within a run, so a repeated message is sent once;
    /// such as 24h, or 0 to send every repeat.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "24h")]
    pub dedup_window: Duration,

    /// Write a JSON report (counts per outcome and reason, per input, dead letters and invalid
    /// messages) to this file at the end.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Exit with status 3 when any message is invalid, as when one becomes a dead letter.
    #[arg(long)]
    pub fail_on_invalid: bool,

    /// Seconds between progress lines in the log when standard error is not a terminal.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub progress_interval: u64,

    /// Show no progress bar and log no progress lines.
    #[arg(long)]
    pub no_progress: bool,

    /// Input files or folders; `-` is standard input [default: standard input].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

impl BatchArgs {
    /// Returns the engine settings these flags describe.
    pub fn engine_config(&self) -> EngineConfig {
        let concurrency = usize::from(self.concurrency);
        EngineConfig {
            flush_interval: Duration::from_millis(self.flush_interval_ms),
            flush_size: usize::try_from(self.flush_size).unwrap_or(usize::MAX),
            workers: concurrency,
            request_concurrency: concurrency,
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

fn parse_now(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| {
            format!("expected an RFC 3339 date-time such as 2026-05-02T12:00:00Z ({error})")
        })
}

fn parse_rate(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "`{value}` is not a positive number of requests per second, such as 50 or 0.5"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_sets_workers_and_requests() {
        let args = BatchArgs::try_parse_from(["batch", "--concurrency", "3", "in.ndjson"]).unwrap();

        let config = args.engine_config();

        assert_eq!(config.workers, 3);
        assert_eq!(config.request_concurrency, 3);
        assert_eq!(config.retry.max_attempts, Some(10));
    }

    #[test]
    fn now_requires_dry_run() {
        let error =
            BatchArgs::try_parse_from(["batch", "--now", "2026-05-02T12:00:00Z"]).unwrap_err();

        assert!(error.to_string().contains("--dry-run"), "{error}");
    }

    #[test]
    fn rate_must_be_positive() {
        for value in ["0", "-1", "fast", "inf"] {
            assert!(
                BatchArgs::try_parse_from(["batch", "--rate", value]).is_err(),
                "{value}"
            );
        }
        let args = BatchArgs::try_parse_from(["batch", "--rate", "0.5"]).unwrap();
        assert_eq!(args.rate, Some(0.5));
    }
}
