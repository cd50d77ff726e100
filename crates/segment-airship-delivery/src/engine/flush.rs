//! One flush: leased messages → mapped units → coalesced requests per phase → sent → one
//! settlement per message.

use std::sync::Arc;

use airship_mapping::{map_message, Outcome, Settings};
use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use crate::engine::plan::{self, Phase, Planned, Unit};
use crate::engine::retry::Shutdown;
use crate::engine::send::{Fate, MessageInfo, RequestSender};
use crate::engine::stats::{Counter, Stats};
use crate::spool::{DeadLetterReason, Failure, Settlement, SpooledMessage};

/// The units of a flush's messages, and the fate of those that failed before sending.
struct Mapped {
    units: Vec<Unit>,
    fates: Vec<Option<Fate>>,
}

/// Delivers the messages of one flush and returns how each one ended, in input order.
pub(crate) async fn run(
    sender: &RequestSender,
    settings: &Arc<Settings>,
    request_concurrency: usize,
    messages: Vec<SpooledMessage>,
    shutdown: &Shutdown,
) -> Vec<Settlement> {
    let infos: Arc<[MessageInfo]> = messages.iter().map(info).collect();

    // Mapping and merging a full flush takes milliseconds of CPU, so it runs off the async
    // workers, which keep serving calls meanwhile.
    let stats = Arc::clone(&sender.stats);
    let settings = Arc::clone(settings);
    let (phases, mut fates) = tokio::task::spawn_blocking(move || {
        let Mapped { units, fates } = map_all(&stats, &settings, messages);
        let phases: Vec<(Phase, Vec<Planned>)> = plan::by_phase(units)
            .into_iter()
            .map(|(phase, units)| (phase, plan::plan(units)))
            .collect();
        (phases, fates)
    })
    .await
    .expect("mapping and merging do not panic");

    for (phase, planned) in phases {
        let concurrency = match phase {
            // Custom events keep their order, so their requests go one at a time.
            Phase::Events => 1,
            Phase::Tags | Phase::Attributes => request_concurrency.max(1),
        };
        let results: Vec<Vec<(usize, Fate)>> = stream::iter(planned)
            .map(|planned| {
                let infos = Arc::clone(&infos);
                let mut shutdown = shutdown.clone();
                async move { sender.deliver(planned, &infos, &mut shutdown).await }
            })
            .buffered(concurrency)
            .collect()
            .await;
        for (message, fate) in results.into_iter().flatten() {
            merge(&mut fates[message], fate);
        }
    }

    settlements(sender, &infos, fates)
}

fn info(message: &SpooledMessage) -> MessageInfo {
    MessageInfo {
        key: message.key,
        message_id: message.message_id.clone(),
        enqueued_at: message.enqueued_at,
        attempts: message.attempts,
    }
}

/// Maps each message again with the time it was received as "now", which gives the requests
/// the front end validated, unless the mapping settings changed since.
fn map_all(stats: &Stats, settings: &Settings, messages: Vec<SpooledMessage>) -> Mapped {
    let mut units = Vec::new();
    let mut fates = vec![None; messages.len()];

    for (index, message) in messages.into_iter().enumerate() {
        let raw: Value = match serde_json::from_slice(&message.raw) {
            Ok(raw) => raw,
            Err(error) => {
                fates[index] = Some(invalid(
                    format!("the spooled message is not valid JSON: {error}"),
                    message.attempts,
                ));
                continue;
            }
        };
        match map_message(raw, settings, message.received_at).outcome {
            Outcome::Sent { requests } => {
                units.extend(
                    requests
                        .into_iter()
                        .map(|request| Unit::from_request(index, request)),
                );
            }
            Outcome::Skipped { reason, .. } => {
                stats.add(Counter::SkippedAtDelivery, 1);
                tracing::info!(
                    message_id = message.message_id.as_deref(),
                    reason = reason.code(),
                    "A spooled message maps to nothing under the current settings; it is dropped as delivered."
                );
            }
            Outcome::Invalid(invalid_outcome) => {
                fates[index] = Some(invalid(
                    format!(
                        "the message is invalid under the current mapping settings: {}",
                        invalid_outcome.message
                    ),
                    message.attempts,
                ));
            }
        }
    }
    Mapped { units, fates }
}

fn invalid(summary: String, attempts: u32) -> Fate {
    Fate::Dead {
        failure: Failure {
            reason: DeadLetterReason::Invalid,
            summary,
            status: None,
            error: None,
            details: None,
            operation_id: None,
        },
        attempts,
    }
}

/// Keeps the first dead letter a message gets; a release only replaces success.
fn merge(current: &mut Option<Fate>, fate: Fate) {
    match (&current, &fate) {
        (None, _) | (Some(Fate::Released), Fate::Dead { .. }) => *current = Some(fate),
        (Some(Fate::Released), Fate::Released) | (Some(Fate::Dead { .. }), _) => {}
    }
}

fn settlements(
    sender: &RequestSender,
    infos: &[MessageInfo],
    fates: Vec<Option<Fate>>,
) -> Vec<Settlement> {
    let mut delivered = 0;
    let mut dead = 0;
    let settlements: Vec<Settlement> = infos
        .iter()
        .zip(fates)
        .map(|(info, fate)| match fate {
            None => {
                delivered += 1;
                Settlement::Delivered(info.key)
            }
            Some(Fate::Dead { failure, attempts }) => {
                dead += 1;
                Settlement::DeadLetter {
                    key: info.key,
                    failure,
                    attempts,
                }
            }
            Some(Fate::Released) => Settlement::Released(info.key),
        })
        .collect();
    sender.stats.add(Counter::Delivered, delivered);
    sender.stats.add(Counter::DeadLettered, dead);
    settlements
}
