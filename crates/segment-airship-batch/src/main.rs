//! `segment-airship-batch`: replays files, folders or standard input of Segment messages into
//! Airship, or prints their mapping with `--dry-run`.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use clap::Parser as _;
use segment_airship_batch::args::BatchArgs;
use segment_airship_batch::deliver::{self, Stop};
use segment_airship_batch::progress::{Counters, Display, Reporter, SharedBar};
use segment_airship_batch::read::Source;
use segment_airship_batch::{dry_run, inputs, report};
use tracing_subscriber::EnvFilter;

/// Exit status when an input, the config, the credentials or the state folder could not be read.
const EXIT_INPUT_ERROR: u8 = 1;
/// Exit status when a message became a dead letter (or was invalid, with --fail-on-invalid).
const EXIT_DELIVERY_FAILED: u8 = 3;
/// Exit status after Ctrl-C or SIGTERM, as shells report a SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let args = BatchArgs::parse();
    let bar = SharedBar::default();
    init_tracing(bar.clone());

    match run(&args, bar) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_INPUT_ERROR)
        }
    }
}

/// Logs to standard error, around the progress bar: this program's progress at `info`, other
/// crates at `warn`, unless RUST_LOG sets another filter.
fn init_tracing(bar: SharedBar) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,segment_airship_batch=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(bar)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn run(args: &BatchArgs, bar: SharedBar) -> anyhow::Result<ExitCode> {
    let sources = inputs::expand(&args.paths)?;
    let counters = Arc::new(Counters::default());
    let display = Display::choose(
        args.no_progress,
        Duration::from_secs(args.progress_interval),
    );
    let reporter = Reporter::start(display, Arc::clone(&counters), total_bytes(&sources), bar);

    if args.dry_run {
        let settings = args.airship.load_config()?.mapping;
        let now = args.now.unwrap_or_else(Utc::now);
        let summary = dry_run::run(
            &sources,
            &settings,
            now,
            &counters,
            std::io::stdout().lock(),
        );
        reporter.finish();
        let summary = summary?;
        if summary.failed_inputs > 0 && !summary.output_closed {
            return Ok(ExitCode::from(EXIT_INPUT_ERROR));
        }
        return Ok(ExitCode::SUCCESS);
    }

    let started_at = Utc::now();
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let result = runtime.block_on(deliver::run(args, sources, Arc::clone(&counters)));
    reporter.finish();
    let result = result?;
    runtime.shutdown_timeout(Duration::from_secs(1));

    report::print_summary(&result, started.elapsed().as_secs_f64())
        .context("failed to write the summary")?;
    if let Some(path) = &args.report {
        report::write_report(path, &result, started_at, Utc::now())?;
    }

    let totals = report::totals(&result);
    let code = match &result.stop {
        Some(Stop::Interrupted) => EXIT_INTERRUPTED,
        Some(Stop::Failed(_)) => EXIT_INPUT_ERROR,
        None if result.inputs.iter().any(|input| input.error.is_some()) => EXIT_INPUT_ERROR,
        None if report::outcome_total(&totals, "dead_letter") > 0 => EXIT_DELIVERY_FAILED,
        None if args.fail_on_invalid && report::outcome_total(&totals, "invalid") > 0 => {
            EXIT_DELIVERY_FAILED
        }
        None => 0,
    };
    Ok(ExitCode::from(code))
}

/// Sum of the input files' sizes, or `None` when standard input is among them.
fn total_bytes(sources: &[Source]) -> Option<u64> {
    sources.iter().try_fold(0u64, |total, source| match source {
        Source::Stdin => None,
        Source::File(path) => Some(total + std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)),
    })
}
