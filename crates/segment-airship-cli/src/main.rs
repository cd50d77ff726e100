//! `segment-airship`: maps Segment messages to Airship requests (`map`), delivers them (`send`),
//! and lists or replays the service's dead letters (`dead-letters`).

mod dead_letters;
mod input;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use airship_mapping::{map_message, Settings};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use segment_airship_delivery::{
    deliver_message, init_stderr_logging, load_config_file, send_mapped, AirshipArgs,
    DeliveryStatus,
};
use serde::Serialize;
use tracing_subscriber::filter::LevelFilter;

use crate::dead_letters::DeadLettersArgs;
use crate::input::{split_messages, Item, Source};

/// Exit status when an input, the config file or the credentials could not be read.
const EXIT_INPUT_ERROR: u8 = 1;
/// Exit status of `send` when Airship rejected a request or could not be reached.
const EXIT_DELIVERY_FAILED: u8 = 3;

/// Maps Segment messages to Airship API requests, and sends them.
///
/// Input files hold NDJSON (one message per line), one JSON array of messages, or a Segment batch
/// object `{"batch": [...]}`. Output is one JSON line per message on standard output.
#[derive(Debug, Parser)]
#[command(name = "segment-airship", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Map(MapArgs),
    Send(SendArgs),
    DeadLetters(DeadLettersArgs),
}

/// Print the Airship requests each message maps to, without sending anything.
///
/// Each output line is `{"message_id", "type", "outcome": "sent"|"skipped"|"invalid", ...}` with
/// the requests of a sent message, or the reason of a skipped or invalid one. A line that is not
/// JSON becomes an invalid outcome with reason `malformed_json`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when every input was read, even if messages in it are \
    invalid, skipped or malformed (each has its own output line); 1 when the config file or an \
    input could not be read (the other inputs are still mapped); 2 for invalid arguments."
)]
struct MapArgs {
    /// Time used as "now" (the event time of messages without one, and the reference for
    /// Airship's 90-day window), as RFC 3339 such as 2026-05-02T12:00:00Z [default: current time].
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<DateTime<Utc>>,

    /// TOML config file whose `[mapping]` table sets the mapping settings.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Input files; `-` is standard input [default: standard input].
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Map each message and send its requests to Airship, in order, without retrying.
///
/// This is a one-off delivery with no spool: nothing is batched across messages, retried or kept
/// as a dead letter. Use the HTTP service for durable delivery.
///
/// Each output line is the `map` line of the message plus `"delivery": {"status":
/// "delivered"|"failed"|"skipped"|"invalid", "requests": [...]}` with Airship's status,
/// operation_id and warnings, or its error, for every request.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when Airship accepted every request sent (skipped and \
    invalid messages send nothing and do not fail the run); 3 when Airship rejected a request or \
    could not be reached; 1 when the config file, the credentials or an input could not be read, \
    which takes precedence over 3; 2 for invalid arguments."
)]
struct SendArgs {
    #[command(flatten)]
    airship: AirshipArgs,

    /// Input files; `-` is standard input.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_stderr_logging(LevelFilter::WARN);

    let result = match cli.command {
        Command::Map(args) => run_map(&args),
        Command::Send(args) => block_on(run_send(&args)),
        Command::DeadLetters(args) => block_on(args.run()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_INPUT_ERROR)
        }
    }
}

/// Runs `future` on a single-threaded runtime.
fn block_on(
    future: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?
        .block_on(future)
}

fn parse_now(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| {
            format!("expected an RFC 3339 date-time such as 2026-05-02T12:00:00Z ({error})")
        })
}

fn run_map(args: &MapArgs) -> anyhow::Result<ExitCode> {
    let settings = match &args.config {
        Some(path) => load_config_file(path)?.mapping,
        None => Settings::default(),
    };
    let now = args.now.unwrap_or_else(Utc::now);
    let mut output = BufWriter::new(std::io::stdout().lock());
    let mut unreadable_inputs = 0;

    for source in Source::from_args(&args.files) {
        let Some(text) = read_source(&source) else {
            unreadable_inputs += 1;
            continue;
        };
        for item in split_messages(&text, &source.name()) {
            let mapped = match item {
                Item::Message(raw) => map_message(raw, &settings, now),
                Item::Unreadable(unreadable) => unreadable,
            };
            if !write_line(&mut output, &mapped)? {
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
    if !flush(&mut output)? {
        return Ok(ExitCode::SUCCESS);
    }

    Ok(exit_code(unreadable_inputs, 0))
}

async fn run_send(args: &SendArgs) -> anyhow::Result<ExitCode> {
    let file = args.airship.load_config()?;
    let client = args.airship.live_client(&file)?;
    let mut output = std::io::stdout().lock();
    let mut unreadable_inputs = 0;
    let mut tally = Tally::default();

    for source in Source::from_args(&args.files) {
        let Some(text) = read_source(&source) else {
            unreadable_inputs += 1;
            continue;
        };
        for item in split_messages(&text, &source.name()) {
            let delivered = match item {
                Item::Message(raw) => {
                    deliver_message(&client, raw, &file.mapping, Utc::now()).await
                }
                Item::Unreadable(unreadable) => send_mapped(&client, unreadable).await,
            };
            tally.add(delivered.status());
            // Flushed per line, so progress is visible while requests are in flight.
            if !write_line(&mut output, &delivered)? || !flush(&mut output)? {
                return Ok(ExitCode::SUCCESS);
            }
        }
    }

    eprintln!(
        "{} messages: {} delivered, {} failed, {} skipped, {} invalid",
        tally.delivered + tally.failed + tally.skipped + tally.invalid,
        tally.delivered,
        tally.failed,
        tally.skipped,
        tally.invalid,
    );
    Ok(exit_code(unreadable_inputs, tally.failed))
}

/// Messages of a `send` run by delivery status.
#[derive(Debug, Default)]
struct Tally {
    delivered: usize,
    failed: usize,
    skipped: usize,
    invalid: usize,
}

impl Tally {
    fn add(&mut self, status: DeliveryStatus) {
        let count = match status {
            DeliveryStatus::Delivered => &mut self.delivered,
            DeliveryStatus::Failed => &mut self.failed,
            DeliveryStatus::Skipped => &mut self.skipped,
            DeliveryStatus::Invalid => &mut self.invalid,
        };
        *count += 1;
    }
}

fn exit_code(unreadable_inputs: usize, failed_deliveries: usize) -> ExitCode {
    if unreadable_inputs > 0 {
        ExitCode::from(EXIT_INPUT_ERROR)
    } else if failed_deliveries > 0 {
        ExitCode::from(EXIT_DELIVERY_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads one input, reporting a failure on standard error so the other inputs still run.
fn read_source(source: &Source) -> Option<String> {
    match source.read() {
        Ok(text) => Some(text),
        Err(error) => {
            eprintln!("error: failed to read {}: {error}", source.name());
            None
        }
    }
}

/// Writes `value` as one JSON line. Returns `false` when the reader has gone away (a closed
/// pipe, as with `| head`), which ends the run without an error.
fn write_line(output: &mut impl Write, value: &impl Serialize) -> anyhow::Result<bool> {
    let result = serde_json::to_writer(&mut *output, value)
        .map_err(std::io::Error::from)
        .and_then(|()| output.write_all(b"\n"));
    keep_going(result)
}

fn flush(output: &mut impl Write) -> anyhow::Result<bool> {
    keep_going(output.flush())
}

fn keep_going(result: std::io::Result<()>) -> anyhow::Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(error) => Err(error).context("failed to write to standard output"),
    }
}
