//! Counters of the delivery pipeline since the process started.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counters shared by the intake and the engine; read them with [`Stats::snapshot`].
#[derive(Debug, Default)]
pub struct Stats {
    queued: AtomicU64,
    duplicates: AtomicU64,
    delivered: AtomicU64,
    dead_lettered: AtomicU64,
    skipped_at_delivery: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    airship_warnings: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    /// Messages committed to the spool.
    pub queued: u64,
    /// Messages acknowledged without being stored, because their `messageId` was seen within the
    /// deduplication window.
    pub duplicates: u64,
    /// Messages removed from the spool because Airship accepted every request they carry, or
    /// because they map to no request at delivery (also counted in `skipped_at_delivery`).
    pub delivered: u64,
    /// Messages moved to the dead letters.
    pub dead_lettered: u64,
    /// Messages that mapped to no request at delivery, because the settings changed after they
    /// were accepted.
    pub skipped_at_delivery: u64,
    /// Requests sent to Airship, retries included.
    pub requests: u64,
    /// Failed attempts that were retried or gave up on.
    pub retries: u64,
    /// Accepted requests for which Airship reported skipped groups, keys or users.
    pub airship_warnings: u64,
}

/// Counter to add to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    Queued,
    Duplicates,
    Delivered,
    DeadLettered,
    SkippedAtDelivery,
    Requests,
    Retries,
    AirshipWarnings,
}

impl Stats {
    pub(crate) fn add(&self, counter: Counter, count: u64) {
        let cell = match counter {
            Counter::Queued => &self.queued,
            Counter::Duplicates => &self.duplicates,
            Counter::Delivered => &self.delivered,
            Counter::DeadLettered => &self.dead_lettered,
            Counter::SkippedAtDelivery => &self.skipped_at_delivery,
            Counter::Requests => &self.requests,
            Counter::Retries => &self.retries,
            Counter::AirshipWarnings => &self.airship_warnings,
        };
        cell.fetch_add(count, Ordering::Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        let read = |cell: &AtomicU64| cell.load(Ordering::Relaxed);
        StatsSnapshot {
            queued: read(&self.queued),
            duplicates: read(&self.duplicates),
            delivered: read(&self.delivered),
            dead_lettered: read(&self.dead_lettered),
            skipped_at_delivery: read(&self.skipped_at_delivery),
            requests: read(&self.requests),
            retries: read(&self.retries),
            airship_warnings: read(&self.airship_warnings),
        }
    }
}
