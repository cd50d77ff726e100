//! The end of a run: counts per outcome and reason, the dead letters, and the JSON report file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead as _, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::checkpoint::Counts;
use crate::deliver::{DeliveryResult, Stop};
use crate::tracker::Problem;

/// Dead letters printed in the summary; the problems file and the report hold all of them.
const PRINTED_DEAD_LETTERS: usize = 20;

/// Counts of every input together.
pub fn totals(result: &DeliveryResult) -> Counts {
    let mut totals = Counts::new();
    for input in &result.inputs {
        for (key, count) in &input.counts {
            *totals.entry(key.clone()).or_default() += count;
        }
    }
    totals
}

/// Sums the counts of one outcome, such as `dead_letter`, over its reasons.
pub fn outcome_total(counts: &Counts, outcome: &str) -> u64 {
    counts
        .iter()
        .filter(|(key, _)| {
            key.as_str() == outcome
                || key
                    .strip_prefix(outcome)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
        .map(|(_, count)| count)
        .sum()
}

/// Counts grouped by outcome: `{"delivered": 10, "skipped": {"no_user_id": 2}, ...}`.
fn grouped(counts: &Counts) -> serde_json::Value {
    let mut outcomes: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    for (key, count) in counts {
        match key.split_once('.') {
            Some((outcome, reason)) => {
                let entry = outcomes.entry(outcome).or_insert_with(|| json!({}));
                entry[reason] = json!(count);
            }
            None => {
                outcomes.insert(key, json!(count));
            }
        }
    }
    json!(outcomes)
}

/// Writes the summary to standard error.
pub fn print_summary(result: &DeliveryResult, elapsed_secs: f64) -> io::Result<()> {
    let totals = totals(result);
    let messages: u64 = result.inputs.iter().map(|input| input.messages).sum();
    let mut out = String::new();

    let state = match &result.stop {
        None => "finished".to_owned(),
        Some(Stop::Interrupted) => "interrupted; run the same command again to continue".to_owned(),
        Some(Stop::Failed(error)) => format!("stopped: {error}"),
    };
    out.push_str(&format!(
        "Replay {state}.\nInputs: {}. Messages done, earlier runs included: {messages}. This run \
         took {elapsed_secs:.1} s.\n",
        result.inputs.len()
    ));
    for outcome in [
        "delivered",
        "duplicate",
        "skipped",
        "invalid",
        "dead_letter",
    ] {
        let total = outcome_total(&totals, outcome);
        let reasons: Vec<String> = totals
            .iter()
            .filter_map(|(key, count)| {
                let reason = key.strip_prefix(outcome)?.strip_prefix('.')?;
                Some(format!("{reason} {count}"))
            })
            .collect();
        let label = outcome.replace('_', " ");
        if reasons.is_empty() {
            out.push_str(&format!("  {label:<12} {total:>10}\n"));
        } else {
            out.push_str(&format!(
                "  {label:<12} {total:>10}  ({})\n",
                reasons.join(", ")
            ));
        }
    }
    for input in &result.inputs {
        if let Some(error) = &input.error {
            out.push_str(&format!("  input {} failed: {error}\n", input.name));
        } else if input.status == "incomplete" {
            out.push_str(&format!("  input {} is not finished\n", input.name));
        }
    }
    out.push_str(&format!(
        "Airship requests this run: {} ({} retried)\n",
        result.stats.requests, result.stats.retries
    ));

    let dead_letters = read_problems(
        &result.problems_path,
        "dead_letter",
        PRINTED_DEAD_LETTERS + 1,
    )
    .unwrap_or_default();
    if !dead_letters.is_empty() {
        out.push_str("Dead letters:\n");
        for problem in dead_letters.iter().take(PRINTED_DEAD_LETTERS) {
            let id = problem
                .message_id
                .as_deref()
                .map(|id| format!(" (messageId {id})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {}:{}{id}: {}: {}\n",
                problem.input, problem.line, problem.reason, problem.message
            ));
        }
    }
    let problems = outcome_total(&totals, "dead_letter") + outcome_total(&totals, "invalid");
    if problems > 0 {
        out.push_str(&format!(
            "Every invalid message and dead letter is listed in {}.\n",
            result.problems_path.display()
        ));
    }
    io::stderr().write_all(out.as_bytes())
}

/// Reads up to `limit` problems with `outcome` from the problems file.
fn read_problems(path: &Path, outcome: &str, limit: usize) -> io::Result<Vec<Problem>> {
    let mut found = Vec::new();
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        let Ok(problem) = serde_json::from_str::<Problem>(&line) else {
            continue;
        };
        if problem.outcome == outcome {
            found.push(problem);
            if found.len() >= limit {
                break;
            }
        }
    }
    Ok(found)
}

#[derive(Serialize)]
struct InputEntry<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    messages: u64,
    counts: serde_json::Value,
}

/// Writes the JSON report to `path`. Dead letters and invalid messages are copied from the
/// problems file line by line, so the report's size does not bound memory.
pub fn write_report(
    path: &Path,
    result: &DeliveryResult,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let write = || -> io::Result<()> {
        let mut out = BufWriter::new(File::create(path)?);
        let status = match &result.stop {
            None if result.inputs.iter().all(|input| input.error.is_none()) => "complete",
            None => "incomplete",
            Some(Stop::Interrupted) => "interrupted",
            Some(Stop::Failed(_)) => "failed",
        };
        let totals = totals(result);
        let header = json!({
            "status": status,
            "error": match &result.stop { Some(Stop::Failed(error)) => Some(error), _ => None },
            "started_at": started_at,
            "finished_at": finished_at,
            "messages": result.inputs.iter().map(|input| input.messages).sum::<u64>(),
            "counts": grouped(&totals),
            "airship": {
                "requests": result.stats.requests,
                "retries": result.stats.retries,
                "airship_warnings": result.stats.airship_warnings,
            },
            "inputs": result.inputs.iter().map(|input| InputEntry {
                name: &input.name,
                path: input.path.as_deref(),
                status: input.status,
                error: input.error.as_deref(),
                messages: input.messages,
                counts: grouped(&input.counts),
            }).collect::<Vec<_>>(),
        });
        let header = serde_json::to_string(&header).map_err(io::Error::from)?;
        // Reopen the object to append the two lists.
        let open = header.strip_suffix('}').unwrap_or(&header);
        out.write_all(open.as_bytes())?;
        for (key, outcome) in [("dead_letters", "dead_letter"), ("invalid", "invalid")] {
            write!(out, ",\"{key}\":[")?;
            copy_problems(&result.problems_path, outcome, &mut out)?;
            out.write_all(b"]")?;
        }
        out.write_all(b"}\n")?;
        out.flush()
    };
    write().with_context(|| format!("failed to write the report {}", path.display()))
}

fn copy_problems(path: &Path, outcome: &str, out: &mut impl Write) -> io::Result<()> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    let mut first = true;
    for line in BufReader::new(file).lines() {
        let line = line?;
        let Ok(problem) = serde_json::from_str::<Problem>(&line) else {
            continue;
        };
        if problem.outcome != outcome {
            continue;
        }
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        serde_json::to_writer(&mut *out, &problem).map_err(io::Error::from)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_total_sums_reasons() {
        let counts = Counts::from([
            ("delivered".to_owned(), 5),
            ("dead_letter.rejected".to_owned(), 2),
            ("dead_letter.retries_exhausted".to_owned(), 1),
            ("dead_letters_other".to_owned(), 9),
        ]);

        assert_eq!(outcome_total(&counts, "dead_letter"), 3);
        assert_eq!(outcome_total(&counts, "delivered"), 5);
        assert_eq!(outcome_total(&counts, "invalid"), 0);
    }

    #[test]
    fn grouped_nests_reasons() {
        let counts = Counts::from([
            ("delivered".to_owned(), 5),
            ("skipped.no_user_id".to_owned(), 2),
        ]);

        assert_eq!(
            grouped(&counts),
            json!({"delivered": 5, "skipped": {"no_user_id": 2}})
        );
    }
}
