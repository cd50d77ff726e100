//! The SQL of the SQLite spool: schema, and one function per spool operation.
//!
//! Every function runs on the spool's storage thread, inside the transaction the caller opened.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, Row};

use crate::spool::{
    Appended, DeadLetter, DeadLetterFilter, DeadLetterReason, Failure, NewMessage, Settlement,
    SpoolCounts, SpoolKey, SpooledMessage,
};

/// Schema version in `PRAGMA user_version`; a file with a higher one was written by a newer
/// release and is not opened.
pub(super) const SCHEMA_VERSION: i64 = 1;

/// Dedup entries examined per pruning round, so one round never keeps the storage thread busy
/// for long.
const PRUNE_PAGE: i64 = 10_000;

/// Rows read per query while leasing.
const LEASE_PAGE: usize = 1_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   TEXT,
    named_user   TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    enqueued_at  INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    raw          BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   TEXT,
    named_user   TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    dead_at      INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    status       INTEGER,
    error        TEXT,
    details      TEXT,
    operation_id TEXT,
    raw          BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS dedup (
    seq          INTEGER PRIMARY KEY,
    message_id   TEXT    NOT NULL UNIQUE,
    seen_at      INTEGER NOT NULL
);
";

/// Creates the tables of an empty file, or checks the version of an existing one.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<Result<(), i64>> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Ok(Err(version));
    }
    conn.execute_batch(SCHEMA)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(Ok(()))
}

/// Messages handed out by this process and not yet settled.
///
/// Leases live in memory: the spool file has one delivering process at a time, and a restart
/// makes every unsettled message pending again.
#[derive(Debug, Default)]
pub(super) struct Leases {
    /// Every message with a key up to this one has been handed out or examined.
    cursor: i64,
    leased: HashSet<i64>,
}

impl Leases {
    /// Ends the leases of settled messages; released ones become available again, so the next
    /// lease scans from the oldest of them.
    pub(super) fn settle(&mut self, settlements: &[Settlement]) {
        for settlement in settlements {
            match settlement {
                Settlement::Delivered(key) | Settlement::DeadLetter { key, .. } => {
                    self.leased.remove(&key.0);
                }
                Settlement::Released(key) => {
                    if self.leased.remove(&key.0) {
                        self.cursor = self.cursor.min(key.0 - 1);
                    }
                }
            }
        }
    }
}

/// Inserts `messages`, skipping those whose `messageId` is in the dedup table and younger than
/// `dedup_window`. A zero window turns deduplication off.
pub(super) fn append(
    conn: &Connection,
    messages: &[NewMessage],
    dedup_window: Duration,
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<Appended>> {
    let now_ms = now.timestamp_millis();
    let cutoff_ms = now_ms.saturating_sub(duration_ms(dedup_window));
    let mut remember = conn.prepare_cached(
        "INSERT INTO dedup (message_id, seen_at) VALUES (?1, ?2)
         ON CONFLICT (message_id) DO UPDATE SET seen_at = excluded.seen_at
         WHERE dedup.seen_at < ?3",
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO messages (message_id, named_user, received_at, enqueued_at, raw)
         VALUES (?1, ?2, ?3, ?3, ?4)",
    )?;

    let mut appended = Vec::with_capacity(messages.len());
    for message in messages {
        if let (Some(message_id), false) = (&message.message_id, dedup_window.is_zero()) {
            // Zero rows changed: the id is already there and still inside the window.
            if remember.execute(params![message_id, now_ms, cutoff_ms])? == 0 {
                appended.push(Appended::Duplicate);
                continue;
            }
        }
        insert.execute(params![
            message.message_id,
            message.named_user,
            message.received_at.timestamp_millis(),
            message.raw,
        ])?;
        appended.push(Appended::Queued(SpoolKey(conn.last_insert_rowid())));
    }
    Ok(appended)
}

/// Hands out up to `limit` messages after the lease cursor that are not leased yet.
pub(super) fn lease(
    conn: &Connection,
    leases: &mut Leases,
    limit: usize,
) -> rusqlite::Result<Vec<SpooledMessage>> {
    let mut select = conn.prepare_cached(
        "SELECT seq, message_id, named_user, received_at, enqueued_at, attempts, raw
         FROM messages WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut leased = Vec::new();
    while leased.len() < limit {
        let page = select
            .query_map(params![leases.cursor, LEASE_PAGE as i64], spooled_message)?
            .collect::<rusqlite::Result<Vec<SpooledMessage>>>()?;
        let exhausted = page.len() < LEASE_PAGE;
        for message in page {
            if leased.len() == limit {
                break;
            }
            leases.cursor = message.key.0;
            if leases.leased.insert(message.key.0) {
                leased.push(message);
            }
        }
        if exhausted {
            break;
        }
    }
    Ok(leased)
}

fn spooled_message(row: &Row<'_>) -> rusqlite::Result<SpooledMessage> {
    Ok(SpooledMessage {
        key: SpoolKey(row.get(0)?),
        message_id: row.get(1)?,
        named_user: row.get(2)?,
        received_at: from_ms(row.get(3)?),
        enqueued_at: from_ms(row.get(4)?),
        attempts: row.get(5)?,
        raw: row.get(6)?,
    })
}

pub(super) fn record_failures(
    conn: &Connection,
    keys: &[SpoolKey],
    error: &str,
) -> rusqlite::Result<()> {
    let mut update = conn.prepare_cached(
        "UPDATE messages SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1",
    )?;
    for key in keys {
        update.execute(params![key.0, error])?;
    }
    Ok(())
}

/// Deletes delivered messages and moves dead ones to `dead_letters`; released ones stay as they
/// are.
pub(super) fn settle(
    conn: &Connection,
    settlements: &[Settlement],
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let mut delete = conn.prepare_cached("DELETE FROM messages WHERE seq = ?1")?;
    let mut bury = conn.prepare_cached(
        "INSERT INTO dead_letters (message_id, named_user, received_at, dead_at, attempts, reason,
                                   summary, status, error, details, operation_id, raw)
         SELECT message_id, named_user, received_at, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, raw
         FROM messages WHERE seq = ?1",
    )?;
    for settlement in settlements {
        match settlement {
            Settlement::Delivered(key) => {
                delete.execute(params![key.0])?;
            }
            Settlement::DeadLetter {
                key,
                failure,
                attempts,
            } => {
                let details = failure.details.as_ref().map(|details| details.to_string());
                bury.execute(params![
                    key.0,
                    now.timestamp_millis(),
                    attempts,
                    failure.reason.code(),
                    failure.summary,
                    failure.status,
                    failure.error,
                    details,
                    failure.operation_id,
                ])?;
                delete.execute(params![key.0])?;
            }
            Settlement::Released(_) => {}
        }
    }
    Ok(())
}

pub(super) fn dead_letters(
    conn: &Connection,
    filter: &DeadLetterFilter,
) -> rusqlite::Result<Vec<DeadLetter>> {
    let (selection, values) = dead_letter_selection(filter);
    let sql = format!(
        "SELECT id, message_id, named_user, received_at, dead_at, attempts, reason, summary,
                status, error, details, operation_id, raw
         FROM dead_letters {selection}"
    );
    let mut select = conn.prepare(&sql)?;
    let rows = select.query_map(params_from_iter(values), dead_letter)?;
    rows.collect()
}

fn dead_letter(row: &Row<'_>) -> rusqlite::Result<DeadLetter> {
    let reason: String = row.get(6)?;
    let details: Option<String> = row.get(10)?;
    let raw: Vec<u8> = row.get(12)?;
    Ok(DeadLetter {
        id: row.get(0)?,
        message_id: row.get(1)?,
        named_user: row.get(2)?,
        received_at: from_ms(row.get(3)?),
        dead_at: from_ms(row.get(4)?),
        attempts: row.get(5)?,
        failure: Failure {
            // Only this module writes codes, so an unknown one comes from a newer release. The
            // row is shown as a rejection rather than hidden.
            reason: DeadLetterReason::from_code(&reason).unwrap_or(DeadLetterReason::Rejected),
            summary: row.get(7)?,
            status: row.get(8)?,
            error: row.get(9)?,
            details: details.and_then(|text| serde_json::from_str(&text).ok()),
            operation_id: row.get(11)?,
        },
        message: serde_json::from_slice(&raw).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&raw).into_owned())
        }),
    })
}

/// Moves the selected dead letters back into `messages`, at the end of the delivery order.
pub(super) fn replay(
    conn: &Connection,
    filter: &DeadLetterFilter,
    now: DateTime<Utc>,
) -> rusqlite::Result<u64> {
    let (selection, values) = dead_letter_selection(filter);
    let ids: Vec<i64> = conn
        .prepare(&format!("SELECT id FROM dead_letters {selection}"))?
        .query_map(params_from_iter(values), |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;

    let mut restore = conn.prepare_cached(
        "INSERT INTO messages (message_id, named_user, received_at, enqueued_at, raw)
         SELECT message_id, named_user, received_at, ?2, raw FROM dead_letters WHERE id = ?1",
    )?;
    let mut delete = conn.prepare_cached("DELETE FROM dead_letters WHERE id = ?1")?;
    for id in &ids {
        restore.execute(params![id, now.timestamp_millis()])?;
        delete.execute(params![id])?;
    }
    Ok(ids.len() as u64)
}

/// Builds the `WHERE ... ORDER BY id [LIMIT n]` tail and its parameters for a dead-letter filter.
fn dead_letter_selection(filter: &DeadLetterFilter) -> (String, Vec<SqlValue>) {
    let mut clauses = vec!["1 = 1".to_owned()];
    let mut values = Vec::new();
    if !filter.ids.is_empty() {
        let marks = vec!["?"; filter.ids.len()].join(", ");
        clauses.push(format!("id IN ({marks})"));
        values.extend(filter.ids.iter().map(|id| SqlValue::Integer(*id)));
    }
    if let Some(reason) = filter.reason {
        clauses.push("reason = ?".to_owned());
        values.push(SqlValue::Text(reason.code().to_owned()));
    }
    let mut selection = format!("WHERE {} ORDER BY id", clauses.join(" AND "));
    if let Some(limit) = filter.limit {
        selection.push_str(&format!(" LIMIT {limit}"));
    }
    (selection, values)
}

pub(super) fn counts(conn: &Connection) -> rusqlite::Result<SpoolCounts> {
    let count = |table: &str| -> rusqlite::Result<u64> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })
    };
    Ok(SpoolCounts {
        pending: count("messages")?,
        dead_letters: count("dead_letters")?,
        dedup_entries: count("dedup")?,
    })
}

/// Deletes dedup entries older than the window, at most [`PRUNE_PAGE`] per call. Returns
/// whether a full page was deleted, so more may be waiting.
///
/// Entries are appended with the clock of the moment, so `seq` order is `seen_at` order, apart
/// from clock steps and the rare entry renewed in place. Pruning stops at the first live entry,
/// so it never deletes a live one.
pub(super) fn prune_dedup(
    conn: &Connection,
    dedup_window: Duration,
    now: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    let cutoff_ms = now
        .timestamp_millis()
        .saturating_sub(duration_ms(dedup_window));
    let mut page = conn.prepare_cached("SELECT seq, seen_at FROM dedup ORDER BY seq LIMIT ?1")?;
    let entries = page
        .query_map(params![PRUNE_PAGE], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<(i64, i64)>>>()?;
    let expired = entries
        .iter()
        .take_while(|(_, seen_at)| *seen_at < cutoff_ms)
        .last()
        .map(|(seq, _)| *seq);
    let Some(last_expired) = expired else {
        return Ok(false);
    };
    let deleted = conn.execute("DELETE FROM dedup WHERE seq <= ?1", params![last_expired])?;
    Ok(deleted as i64 == PRUNE_PAGE)
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}
