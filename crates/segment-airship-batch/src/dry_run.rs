//! `--dry-run`: each message's mapping as one JSON line, as `segment-airship map` prints it.

use std::io::{BufWriter, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use airship_mapping::{map_message, Mapped, Settings};
use anyhow::Context as _;
use chrono::{DateTime, Utc};

use crate::progress::Counters;
use crate::read::{Cursor, InputReader, Item, Source};

/// The counts of a dry run.
#[derive(Debug, Default)]
pub struct DryRunSummary {
    pub messages: u64,
    /// Inputs that could not be opened or ended with an error; each was reported on standard
    /// error.
    pub failed_inputs: usize,
    /// Whether the reader of standard output went away (a closed pipe), which ended the run early.
    pub output_closed: bool,
}

/// Maps every message of `sources` at `now` and writes one line per message to `output`.
pub fn run(
    sources: &[Source],
    settings: &Settings,
    now: DateTime<Utc>,
    counters: &Arc<Counters>,
    output: impl Write,
) -> anyhow::Result<DryRunSummary> {
    let mut output = BufWriter::new(output);
    let mut summary = DryRunSummary::default();

    for source in sources {
        let mut reader =
            match InputReader::open(source, Cursor::START, Arc::clone(&counters.raw_bytes)) {
                Ok(reader) => reader,
                Err(error) => {
                    tracing::error!("{error}");
                    summary.failed_inputs += 1;
                    continue;
                }
            };
        while let Some(item) = reader.next_item() {
            let mapped = match item {
                Ok(Item::Message { raw, .. }) => map_message(raw, settings, now),
                Ok(Item::Rejected { mapped, .. }) => mapped,
                Ok(Item::Advance { .. }) => continue,
                Err(error) => {
                    tracing::error!("{error}");
                    summary.failed_inputs += 1;
                    break;
                }
            };
            counters.read.fetch_add(1, Ordering::Relaxed);
            summary.messages += 1;
            if !write_line(&mut output, &mapped)? {
                summary.output_closed = true;
                return Ok(summary);
            }
            counters.done.fetch_add(1, Ordering::Relaxed);
        }
    }
    if !keep_going(output.flush())? {
        summary.output_closed = true;
    }
    Ok(summary)
}

/// Writes one JSON line; returns `false` when the reader has gone away.
fn write_line(output: &mut impl Write, mapped: &Mapped) -> anyhow::Result<bool> {
    let result = serde_json::to_writer(&mut *output, mapped)
        .map_err(std::io::Error::from)
        .and_then(|()| output.write_all(b"\n"));
    keep_going(result)
}

fn keep_going(result: std::io::Result<()>) -> anyhow::Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(error) => Err(error).context("failed to write to standard output"),
    }
}
