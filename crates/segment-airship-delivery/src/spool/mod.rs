//! The spool: messages committed to storage before the caller gets `200`, until Airship accepts
//! them or they become dead letters.
//!
//! [`Spool`] is the storage contract the front ends and the delivery engine share.
//! [`SqliteSpool`] is the embedded implementation. A server database shared by several service
//! instances can implement the same trait, because every method is asynchronous, takes owned
//! batches and names messages by the [`SpoolKey`] the spool assigned.

mod sqlite;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

pub use sqlite::{SqliteSpool, SqliteSpoolOptions, Synchronous};

/// Identity of one spooled message, assigned by the spool in append order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SpoolKey(pub i64);

impl fmt::Display for SpoolKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A message to commit: the raw Segment message and what the spool indexes it by.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// The `messageId`, the deduplication key. Messages without one are never deduplicated.
    pub message_id: Option<String>,
    /// The Airship named user the message writes to. Delivery keeps the order of one user's
    /// messages.
    pub named_user: String,
    /// When the front end accepted the message; the mapping's "now" at delivery.
    pub received_at: DateTime<Utc>,
    /// The message as compact JSON, with any batch envelope fields merged in.
    pub raw: Vec<u8>,
}

/// Result of [`Spool::append`] for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Committed for delivery under this key.
    Queued(SpoolKey),
    /// A message with the same `messageId` was appended within the deduplication window, so this
    /// one is acknowledged without being stored.
    Duplicate,
}

/// A message handed to the delivery engine by [`Spool::lease`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpooledMessage {
    pub key: SpoolKey,
    pub message_id: Option<String>,
    pub named_user: String,
    /// When the front end accepted the message.
    pub received_at: DateTime<Utc>,
    /// When the message last entered the spool: `received_at`, or the time of a dead-letter
    /// replay. The maximum age of retries counts from here.
    pub enqueued_at: DateTime<Utc>,
    /// Failed delivery attempts so far, across restarts.
    pub attempts: u32,
    /// The message as compact JSON.
    pub raw: Vec<u8>,
}

/// Reason a message became a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterReason {
    /// Airship rejected a request of the message with a status that will not change on retry.
    Rejected,
    /// Retryable failures went on past the maximum age or number of attempts.
    RetriesExhausted,
    /// The message no longer maps to a request, because the mapping settings changed after it
    /// was accepted.
    Invalid,
}

impl DeadLetterReason {
    /// Returns the snake_case code stored in the spool and printed by the CLI.
    pub fn code(self) -> &'static str {
        match self {
            DeadLetterReason::Rejected => "rejected",
            DeadLetterReason::RetriesExhausted => "retries_exhausted",
            DeadLetterReason::Invalid => "invalid",
        }
    }

    /// Parses a code written by [`DeadLetterReason::code`].
    pub fn from_code(code: &str) -> Option<DeadLetterReason> {
        [
            DeadLetterReason::Rejected,
            DeadLetterReason::RetriesExhausted,
            DeadLetterReason::Invalid,
        ]
        .into_iter()
        .find(|reason| reason.code() == code)
    }
}

/// The failure that sends a message to the dead letters, with Airship's response when there was one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub reason: DeadLetterReason,
    /// One sentence: what failed and what to do.
    pub summary: String,
    /// HTTP status of Airship's response, if one arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `error` of Airship's error body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `details` of Airship's error body, usually naming the rejected key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// `operation_id` of Airship's response, which Airship support requests when investigating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

/// The end of a leased message's delivery, written by [`Spool::settle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// Airship accepted every request of the message, or it needed none: remove it.
    Delivered(SpoolKey),
    /// Move the message to the dead letters.
    DeadLetter {
        key: SpoolKey,
        failure: Failure,
        /// Failed attempts, counting the last one.
        attempts: u32,
    },
    /// Give the message back unchanged, for a later lease; used at shutdown.
    Released(SpoolKey),
}

/// A message that could not be delivered, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    /// The dead letter's own id, for replaying it.
    pub id: i64,
    pub message_id: Option<String>,
    pub named_user: String,
    pub received_at: DateTime<Utc>,
    pub dead_at: DateTime<Utc>,
    pub attempts: u32,
    #[serde(flatten)]
    pub failure: Failure,
    /// The message as it was accepted.
    pub message: Value,
}

/// Selection of dead letters to list or replay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeadLetterFilter {
    /// Only these ids; every dead letter when empty.
    pub ids: Vec<i64>,
    /// Only dead letters with this reason.
    pub reason: Option<DeadLetterReason>,
    /// At most this many, oldest first; no limit when `None`.
    pub limit: Option<usize>,
}

/// Sizes of the spool's tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SpoolCounts {
    /// Messages waiting for delivery or in flight.
    pub pending: u64,
    pub dead_letters: u64,
    /// `messageId`s remembered for deduplication.
    pub dedup_entries: u64,
}

/// Failure of the spool's storage.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The database failed; the message names the operation.
    #[error("spool {operation} failed")]
    Storage {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The spool file is already used for delivery by another process.
    #[error(
        "spool {path} is already used by another running service; stop it or pass another --spool path"
    )]
    InUse { path: String },
    /// The spool is closed or its storage thread stopped.
    #[error("spool is closed")]
    Closed,
    /// The operation needs a spool opened for delivery.
    #[error("spool was opened read-only for administration; {operation} needs a spool opened for delivery")]
    NotForDelivery { operation: &'static str },
}

/// Storage of accepted messages until they are settled.
///
/// Every method that changes the spool returns after the change is committed, so a caller that
/// acknowledges a message after [`Spool::append`] returns never loses it.
#[async_trait]
pub trait Spool: Send + Sync + fmt::Debug {
    /// Commits `messages` in order, dropping those whose `messageId` was appended within the
    /// deduplication window. Returns one result per message, in input order.
    async fn append(&self, messages: Vec<NewMessage>) -> Result<Vec<Appended>, SpoolError>;

    /// Leases up to `limit` messages that are neither leased nor settled, in append order.
    ///
    /// A leased message is not handed out again until it is released. A restart releases every
    /// lease of the process that held it.
    ///
    /// NOTE: the engine keeps one named user's messages in order only within one process. An
    /// implementation shared by several processes must lease all pending messages of a named
    /// user to one process at a time.
    async fn lease(&self, limit: usize) -> Result<Vec<SpooledMessage>, SpoolError>;

    /// Counts one more failed attempt for each of `keys` and stores `error` as the last error.
    async fn record_failures(&self, keys: Vec<SpoolKey>, error: String) -> Result<(), SpoolError>;

    /// Ends the lease of each message according to its settlement.
    async fn settle(&self, settlements: Vec<Settlement>) -> Result<(), SpoolError>;

    /// Lists dead letters, oldest first.
    async fn dead_letters(&self, filter: DeadLetterFilter) -> Result<Vec<DeadLetter>, SpoolError>;

    /// Moves the selected dead letters back to the pending messages, with their attempts reset
    /// and their age counted from now. Returns how many moved.
    async fn replay(&self, filter: DeadLetterFilter) -> Result<u64, SpoolError>;

    /// Returns the sizes of the spool's tables.
    async fn counts(&self) -> Result<SpoolCounts, SpoolError>;
}

/// Deduplication window used when none is configured: 24 hours.
pub const DEFAULT_DEDUP_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
