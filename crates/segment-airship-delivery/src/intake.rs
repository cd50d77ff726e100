//! The front ends' entry to durable delivery: map each message to validate it, commit the
//! sendable ones to the spool, and report each message's status.

use std::sync::Arc;

use airship_mapping::{map_message, Mapped, Outcome, Settings};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::engine::stats::Counter;
use crate::engine::EngineHandle;
use crate::spool::{Appended, NewMessage, Spool, SpoolError, SpoolKey};

/// Status of one message a front end accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeStatus {
    /// Committed to the spool; the engine delivers it or makes it a dead letter.
    Queued,
    /// Its `messageId` was accepted within the deduplication window; not stored again.
    Duplicate,
    /// The mapping skips it, so nothing is sent.
    Skipped,
    /// The mapping found it invalid, so nothing is sent.
    Invalid,
}

impl IntakeStatus {
    /// Returns the snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            IntakeStatus::Queued => "queued",
            IntakeStatus::Duplicate => "duplicate",
            IntakeStatus::Skipped => "skipped",
            IntakeStatus::Invalid => "invalid",
        }
    }
}

/// One message handed to [`Intake::accept`].
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A message to map and spool.
    Message(Value),
    /// A message the front end already rejected, such as one over its size limit; it is reported
    /// with this outcome and not spooled.
    Rejected(Mapped),
}

/// One message's mapping result and its status.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub mapped: Mapped,
    pub status: IntakeStatus,
    /// The spool key of a `queued` message; `None` for every other status.
    pub key: Option<SpoolKey>,
}

/// Maps and spools messages for the engine; cheap to clone.
#[derive(Debug, Clone)]
pub struct Intake {
    spool: Arc<dyn Spool>,
    settings: Arc<Settings>,
    engine: EngineHandle,
}

impl Intake {
    /// Creates an intake writing to `spool`, which `engine` delivers from.
    pub fn new(spool: Arc<dyn Spool>, settings: Arc<Settings>, engine: EngineHandle) -> Intake {
        Intake {
            spool,
            settings,
            engine,
        }
    }

    /// Returns the engine handle, for health and counters.
    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// Maps each message at `now`, commits the sendable ones to the spool in one append, and
    /// returns one result per message in input order.
    ///
    /// Returns after the commit, so a caller may acknowledge the messages once this succeeds. On
    /// error nothing was committed.
    pub async fn accept(
        &self,
        messages: Vec<Incoming>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Accepted>, SpoolError> {
        let mut accepted = Vec::with_capacity(messages.len());
        let mut spooled = Vec::new();
        let mut spooled_index = Vec::new();

        for incoming in messages {
            let raw = match incoming {
                Incoming::Message(raw) => raw,
                Incoming::Rejected(mapped) => {
                    accepted.push(Accepted {
                        mapped,
                        status: IntakeStatus::Invalid,
                        key: None,
                    });
                    continue;
                }
            };
            let named_user = named_user(&raw);
            let bytes = serde_json::to_vec(&raw).expect("a JSON value serialises");
            let mapped = map_message(raw, &self.settings, now);
            let status = match &mapped.outcome {
                Outcome::Sent { .. } => {
                    spooled_index.push(accepted.len());
                    spooled.push(NewMessage {
                        message_id: mapped.message_id.clone(),
                        // A sent outcome always has a valid userId.
                        named_user: named_user.unwrap_or_default(),
                        received_at: now,
                        raw: bytes,
                    });
                    IntakeStatus::Queued
                }
                Outcome::Skipped { .. } => IntakeStatus::Skipped,
                Outcome::Invalid(_) => IntakeStatus::Invalid,
            };
            accepted.push(Accepted {
                mapped,
                status,
                key: None,
            });
        }

        if spooled.is_empty() {
            return Ok(accepted);
        }
        let appended = self.spool.append(spooled).await?;
        let mut duplicates = 0;
        for (index, result) in spooled_index.into_iter().zip(appended) {
            match result {
                Appended::Queued(key) => accepted[index].key = Some(key),
                Appended::Duplicate => {
                    accepted[index].status = IntakeStatus::Duplicate;
                    duplicates += 1;
                }
            }
        }
        let queued = accepted
            .iter()
            .filter(|entry| entry.status == IntakeStatus::Queued)
            .count() as u64;
        self.engine.count(Counter::Queued, queued);
        self.engine.count(Counter::Duplicates, duplicates);
        if queued > 0 {
            self.engine.wake();
        }
        Ok(accepted)
    }
}

/// Returns the Airship named user of a raw message: `userId` as text, a number written in
/// decimal.
fn named_user(raw: &Value) -> Option<String> {
    match raw.get("userId")? {
        Value::String(id) => Some(id.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    }
}
