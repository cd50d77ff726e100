//! A spool wrapper that reports to the tracker when the engine settles a message.
//!
//! The delivery engine reports a message's end only by writing a [`Settlement`] to the spool, so
//! the batch front end hands the engine this wrapper: it forwards every call and, once a
//! settlement is committed, resolves the message's slot. It also keeps the keys of the last
//! append, which [`Intake::accept`](segment_airship_delivery::Intake::accept) does not return.
//!
//! TODO: drop this wrapper once the engine reports settlements itself (a callback or channel
//! called after each settlement is committed) and `Intake::accept` returns each queued message's
//! `SpoolKey`.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use segment_airship_delivery::{
    Appended, DeadLetter, DeadLetterFilter, NewMessage, Settlement, Spool, SpoolCounts, SpoolError,
    SpoolKey, SpooledMessage,
};

use crate::tracker::{Resolution, Tracker};

/// Forwards to `inner`, reporting settlements to the tracker.
#[derive(Debug)]
pub struct ObservedSpool {
    inner: Arc<dyn Spool>,
    tracker: Arc<Tracker>,
    last_append: Mutex<Option<Vec<Appended>>>,
}

impl ObservedSpool {
    pub fn new(inner: Arc<dyn Spool>, tracker: Arc<Tracker>) -> ObservedSpool {
        ObservedSpool {
            inner,
            tracker,
            last_append: Mutex::new(None),
        }
    }

    /// Takes the results of the last append. Only the batch driver appends, one call at a time,
    /// so these are the results of its last [`Intake::accept`] call.
    ///
    /// [`Intake::accept`]: segment_airship_delivery::Intake::accept
    pub fn take_last_append(&self) -> Option<Vec<Appended>> {
        self.last_append
            .lock()
            .expect("the append lock is never poisoned")
            .take()
    }
}

#[async_trait]
impl Spool for ObservedSpool {
    async fn append(&self, messages: Vec<NewMessage>) -> Result<Vec<Appended>, SpoolError> {
        let appended = self.inner.append(messages).await?;
        *self
            .last_append
            .lock()
            .expect("the append lock is never poisoned") = Some(appended.clone());
        Ok(appended)
    }

    async fn lease(&self, limit: usize) -> Result<Vec<SpooledMessage>, SpoolError> {
        self.inner.lease(limit).await
    }

    async fn record_failures(&self, keys: Vec<SpoolKey>, error: String) -> Result<(), SpoolError> {
        self.inner.record_failures(keys, error).await
    }

    async fn settle(&self, settlements: Vec<Settlement>) -> Result<(), SpoolError> {
        let resolved: Vec<(SpoolKey, Resolution)> = settlements
            .iter()
            .filter_map(|settlement| match settlement {
                Settlement::Delivered(key) => Some((*key, Resolution::Delivered)),
                Settlement::DeadLetter {
                    key,
                    failure,
                    attempts,
                } => Some((
                    *key,
                    Resolution::DeadLetter {
                        failure: failure.clone(),
                        attempts: *attempts,
                    },
                )),
                // A released message is delivered after a restart; its slot stays open.
                Settlement::Released(_) => None,
            })
            .collect();
        self.inner.settle(settlements).await?;
        self.tracker.settled(resolved);
        Ok(())
    }

    async fn dead_letters(&self, filter: DeadLetterFilter) -> Result<Vec<DeadLetter>, SpoolError> {
        self.inner.dead_letters(filter).await
    }

    async fn replay(&self, filter: DeadLetterFilter) -> Result<u64, SpoolError> {
        self.inner.replay(filter).await
    }

    async fn counts(&self) -> Result<SpoolCounts, SpoolError> {
        self.inner.counts().await
    }
}
