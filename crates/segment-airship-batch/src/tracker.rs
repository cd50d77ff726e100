//! Bookkeeping of the messages done per input, which decides how far each input's checkpoint
//! may advance.
//!
//! Every item read gets a slot, in input order. A slot is resolved when its message gets a final
//! outcome: at intake (skipped, invalid, duplicate) or when the engine settles it (delivered or
//! dead letter). The resolved slots at the front of an input are popped: their outcomes are
//! counted, invalid messages and dead letters become problem records, and the input's cursor
//! moves to the last popped slot. The committer then writes the problems and the checkpoint.
//!
//! `outstanding` counts slots registered and not yet committed. The reader waits while it is at
//! the window, which bounds both memory and the messages sent again after a crash.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use segment_airship_delivery::{Failure, SpoolKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;

use crate::checkpoint::{Counts, Fingerprint};
use crate::progress::Counters;
use crate::read::Cursor;

/// Problems logged one by one before the log only counts them.
const LOGGED_PROBLEMS: u64 = 100;

/// The final outcome of one slot.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    Delivered,
    /// The spool had already accepted a message with the same `messageId` in this run.
    Duplicate,
    Skipped {
        reason: &'static str,
    },
    Invalid {
        reason: &'static str,
        message: String,
    },
    DeadLetter {
        failure: Failure,
        attempts: u32,
    },
    /// Not a message: reading moved past content without one.
    Advance,
}

impl Resolution {
    /// Returns the key this outcome is counted under, or `None` for [`Resolution::Advance`].
    fn count_key(&self) -> Option<String> {
        Some(match self {
            Resolution::Delivered => "delivered".to_owned(),
            Resolution::Duplicate => "duplicate".to_owned(),
            Resolution::Skipped { reason } => format!("skipped.{reason}"),
            Resolution::Invalid { reason, .. } => format!("invalid.{reason}"),
            Resolution::DeadLetter { failure, .. } => {
                format!("dead_letter.{}", failure.reason.code())
            }
            Resolution::Advance => return None,
        })
    }
}

/// One invalid message or dead letter, as written to the problems file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// The input's name, as given on the command line.
    pub input: String,
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// `invalid` or `dead_letter`.
    pub outcome: String,
    pub reason: String,
    pub message: String,
    /// HTTP status of Airship's response, for a dead letter that got one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `error` of Airship's error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `details` of Airship's error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Failed delivery attempts of a dead letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

/// A registered slot, named by its input and sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotRef {
    pub input: usize,
    pub seq: u64,
}

/// The slot the driver registers for each item read.
#[derive(Debug, Clone)]
pub struct NewSlot {
    pub after: Cursor,
    pub line: u64,
    pub message_id: Option<String>,
    /// `false` for [`Resolution::Advance`] items, which count as no message.
    pub is_message: bool,
}

#[derive(Debug)]
struct Slot {
    after: Cursor,
    line: u64,
    message_id: Option<String>,
    is_message: bool,
    resolution: Option<Resolution>,
}

/// The end of reading an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEnd {
    Finished,
    Failed(String),
}

/// The progress of one input.
#[derive(Debug)]
pub struct InputTrack {
    /// The name used in messages.
    pub name: String,
    /// Key in the checkpoint; `None` for standard input, which is not checkpointed.
    pub key: Option<String>,
    pub fingerprint: Option<Fingerprint>,
    /// Sequence number of the first slot in `slots`.
    base: u64,
    slots: VecDeque<Slot>,
    /// Every message before this cursor is done.
    pub cursor: Cursor,
    /// Messages done, including those of earlier runs.
    pub messages: u64,
    /// Outcomes, including those of earlier runs.
    pub counts: Counts,
    pub read_end: Option<ReadEnd>,
    /// Whether this input was already complete in the checkpoint, so it was not read again.
    pub already_complete: bool,
    dirty: bool,
}

impl InputTrack {
    /// Starts tracking an input at `cursor`, with what earlier runs did before it.
    pub fn new(
        name: String,
        key: Option<String>,
        fingerprint: Option<Fingerprint>,
        cursor: Cursor,
        messages: u64,
        counts: Counts,
    ) -> InputTrack {
        InputTrack {
            name,
            key,
            fingerprint,
            base: 0,
            slots: VecDeque::new(),
            cursor,
            messages,
            counts,
            read_end: None,
            already_complete: false,
            dirty: false,
        }
    }

    /// Returns whether reading finished and every slot is done.
    pub fn complete(&self) -> bool {
        self.read_end == Some(ReadEnd::Finished) && self.slots.is_empty()
    }
}

/// A snapshot of one input for the checkpoint.
#[derive(Debug, Clone)]
pub struct InputSnapshot {
    pub key: String,
    pub fingerprint: Fingerprint,
    pub cursor: Cursor,
    pub messages: u64,
    pub complete: bool,
    pub error: Option<String>,
    pub counts: Counts,
}

/// The changes the committer writes in one go.
#[derive(Debug, Default)]
pub struct Commit {
    pub problems: Vec<Problem>,
    pub inputs: Vec<InputSnapshot>,
    /// Slots popped since the last commit.
    pub popped: u64,
}

#[derive(Debug, Default)]
struct State {
    inputs: Vec<InputTrack>,
    /// Queued messages waiting for the engine, by spool key.
    keys: HashMap<SpoolKey, SlotRef>,
    /// Settlements that arrived before their key was assigned to a slot.
    early: HashMap<SpoolKey, Resolution>,
    outstanding: u64,
    popped: u64,
    problems: Vec<Problem>,
    problems_seen: u64,
}

/// Shared by the driver, the spool hook and the committer.
#[derive(Debug)]
pub struct Tracker {
    state: Mutex<State>,
    /// Signalled when slots were popped, for the committer.
    pub changed: Notify,
    /// Signalled after a commit lowered the outstanding count, and when reading ends.
    pub room: Notify,
    counters: Arc<Counters>,
}

impl Tracker {
    pub fn new(inputs: Vec<InputTrack>, counters: Arc<Counters>) -> Tracker {
        Tracker {
            state: Mutex::new(State {
                inputs,
                ..State::default()
            }),
            changed: Notify::new(),
            room: Notify::new(),
            counters,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("the tracker lock is never poisoned")
    }

    /// Returns the slots registered and not yet committed.
    pub fn outstanding(&self) -> u64 {
        self.lock().outstanding
    }

    /// Registers `slots` of `input` in order and returns their references.
    pub fn register(&self, input: usize, slots: Vec<NewSlot>) -> Vec<SlotRef> {
        let mut state = self.lock();
        state.outstanding += slots.len() as u64;
        let track = &mut state.inputs[input];
        let mut refs = Vec::with_capacity(slots.len());
        for slot in slots {
            refs.push(SlotRef {
                input,
                seq: track.base + track.slots.len() as u64,
            });
            track.slots.push_back(Slot {
                after: slot.after,
                line: slot.line,
                message_id: slot.message_id,
                is_message: slot.is_message,
                resolution: None,
            });
        }
        refs
    }

    /// Records the final outcome of a slot.
    pub fn resolve(&self, slot: SlotRef, resolution: Resolution) {
        let mut state = self.lock();
        self.resolve_locked(&mut state, slot, resolution);
    }

    /// Ties a queued message to its spool key, resolving it at once if the engine already
    /// settled it.
    pub fn assign_key(&self, slot: SlotRef, key: SpoolKey) {
        let mut state = self.lock();
        match state.early.remove(&key) {
            Some(resolution) => self.resolve_locked(&mut state, slot, resolution),
            None => {
                state.keys.insert(key, slot);
            }
        }
    }

    /// Records settlements the engine wrote to the spool.
    pub fn settled(&self, settled: Vec<(SpoolKey, Resolution)>) {
        let mut state = self.lock();
        for (key, resolution) in settled {
            match state.keys.remove(&key) {
                Some(slot) => self.resolve_locked(&mut state, slot, resolution),
                None => {
                    state.early.insert(key, resolution);
                }
            }
        }
    }

    /// Records that reading `input` ended.
    pub fn end_input(&self, input: usize, end: ReadEnd) {
        let mut state = self.lock();
        let track = &mut state.inputs[input];
        track.read_end = Some(end);
        track.dirty = true;
        drop(state);
        self.changed.notify_one();
        self.room.notify_waiters();
    }

    fn resolve_locked(&self, state: &mut State, slot: SlotRef, resolution: Resolution) {
        let track = &mut state.inputs[slot.input];
        let Some(index) = slot.seq.checked_sub(track.base) else {
            return;
        };
        let Some(entry) = track.slots.get_mut(index as usize) else {
            return;
        };
        log_problem(&track.name, entry, &resolution, &mut state.problems_seen);
        entry.resolution = Some(resolution);
        if index == 0 {
            self.pop(state, slot.input);
        }
    }

    /// Pops the resolved slots at the front of `input`.
    fn pop(&self, state: &mut State, input: usize) {
        let mut popped = 0u64;
        let mut done = 0u64;
        let track = &mut state.inputs[input];
        while track
            .slots
            .front()
            .is_some_and(|slot| slot.resolution.is_some())
        {
            let mut slot = track.slots.pop_front().expect("front exists");
            track.base += 1;
            popped += 1;
            track.cursor = slot.after;
            let resolution = slot.resolution.take().expect("checked above");
            if let Some(key) = resolution.count_key() {
                *track.counts.entry(key).or_default() += 1;
            }
            if slot.is_message {
                track.messages += 1;
                done += 1;
            }
            if let Some(problem) = problem(&track.name, &slot, resolution) {
                state.problems.push(problem);
            }
        }
        if popped > 0 {
            track.dirty = true;
            state.popped += popped;
            self.counters.done.fetch_add(done, Ordering::Relaxed);
            self.changed.notify_one();
        }
    }

    /// Takes what changed since the last commit.
    pub fn take_commit(&self) -> Commit {
        let mut state = self.lock();
        let mut inputs = Vec::new();
        for track in &mut state.inputs {
            if !std::mem::take(&mut track.dirty) {
                continue;
            }
            let (Some(key), Some(fingerprint)) = (&track.key, &track.fingerprint) else {
                continue;
            };
            inputs.push(InputSnapshot {
                key: key.clone(),
                fingerprint: fingerprint.clone(),
                cursor: track.cursor,
                messages: track.messages,
                complete: track.complete(),
                error: match &track.read_end {
                    Some(ReadEnd::Failed(error)) => Some(error.clone()),
                    _ => None,
                },
                counts: track.counts.clone(),
            });
        }
        Commit {
            problems: std::mem::take(&mut state.problems),
            inputs,
            popped: std::mem::take(&mut state.popped),
        }
    }

    /// Records that `popped` slots were committed, making room for more.
    pub fn committed(&self, popped: u64) {
        let mut state = self.lock();
        state.outstanding = state.outstanding.saturating_sub(popped);
        drop(state);
        self.room.notify_waiters();
    }

    /// Waits until `count` more slots fit in `window`, or nothing is outstanding.
    pub async fn wait_for_room(&self, count: u64, window: u64) {
        loop {
            let notified = self.room.notified();
            let outstanding = self.outstanding();
            if outstanding == 0 || outstanding + count <= window {
                return;
            }
            notified.await;
        }
    }

    /// Waits until every registered slot is committed.
    pub async fn wait_idle(&self) {
        self.wait_for_room(0, 0).await;
    }

    /// Runs `read` over every input's progress.
    pub fn with_inputs<T>(&self, read: impl FnOnce(&[InputTrack]) -> T) -> T {
        read(&self.lock().inputs)
    }
}

/// Logs an invalid message or dead letter with its file and line, the first
/// [`LOGGED_PROBLEMS`] of them one by one.
fn log_problem(name: &str, slot: &Slot, resolution: &Resolution, seen: &mut u64) {
    let (outcome, reason, message) = match resolution {
        Resolution::Invalid { reason, message } => ("invalid", *reason, message.as_str()),
        Resolution::DeadLetter { failure, .. } => (
            "dead letter",
            failure.reason.code(),
            failure.summary.as_str(),
        ),
        _ => return,
    };
    *seen += 1;
    if *seen <= LOGGED_PROBLEMS {
        tracing::warn!(
            input = name,
            line = slot.line,
            message_id = slot.message_id.as_deref(),
            reason,
            "{name}:{}: {outcome}: {message}",
            slot.line
        );
    }
    if *seen == LOGGED_PROBLEMS {
        tracing::warn!(
            "Further invalid messages and dead letters are not logged one by one; the summary \
             at the end and the problems file list them all."
        );
    }
}

fn problem(name: &str, slot: &Slot, resolution: Resolution) -> Option<Problem> {
    let base = Problem {
        input: name.to_owned(),
        line: slot.line,
        message_id: slot.message_id.clone(),
        outcome: String::new(),
        reason: String::new(),
        message: String::new(),
        status: None,
        error: None,
        details: None,
        operation_id: None,
        attempts: None,
    };
    match resolution {
        Resolution::Invalid { reason, message } => Some(Problem {
            outcome: "invalid".to_owned(),
            reason: reason.to_owned(),
            message,
            ..base
        }),
        Resolution::DeadLetter { failure, attempts } => Some(Problem {
            outcome: "dead_letter".to_owned(),
            reason: failure.reason.code().to_owned(),
            message: failure.summary,
            status: failure.status,
            error: failure.error,
            details: failure.details,
            operation_id: failure.operation_id,
            attempts: Some(attempts),
            ..base
        }),
        Resolution::Delivered
        | Resolution::Duplicate
        | Resolution::Skipped { .. }
        | Resolution::Advance => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Layout, Position};

    fn cursor(offset: u64) -> Cursor {
        Cursor {
            layout: Layout::Lines,
            position: Position {
                offset,
                line: offset + 1,
                column: 1,
            },
            skip: 0,
        }
    }

    fn tracker() -> Tracker {
        let input = InputTrack::new(
            "a.ndjson".into(),
            Some("/a.ndjson".into()),
            Some(Fingerprint {
                size: 1,
                head_bytes: 1,
                head_hash: "0".into(),
            }),
            Cursor::START,
            0,
            Counts::new(),
        );
        Tracker::new(vec![input], Arc::new(Counters::default()))
    }

    fn slots(count: u64) -> Vec<NewSlot> {
        (1..=count)
            .map(|offset| NewSlot {
                after: cursor(offset),
                line: offset,
                message_id: None,
                is_message: true,
            })
            .collect()
    }

    #[test]
    fn cursor_advances_over_done_prefix_only() {
        let tracker = tracker();
        let refs = tracker.register(0, slots(3));

        tracker.resolve(refs[1], Resolution::Delivered);
        assert!(tracker.take_commit().inputs.is_empty());

        tracker.resolve(
            refs[0],
            Resolution::Skipped {
                reason: "no_user_id",
            },
        );
        let commit = tracker.take_commit();
        assert_eq!(commit.popped, 2);
        assert_eq!(commit.inputs[0].cursor, cursor(2));
        assert_eq!(commit.inputs[0].counts.get("delivered"), Some(&1));
        assert_eq!(commit.inputs[0].counts.get("skipped.no_user_id"), Some(&1));
        assert_eq!(tracker.outstanding(), 3);

        tracker.committed(commit.popped);
        assert_eq!(tracker.outstanding(), 1);
    }

    #[test]
    fn settlement_before_key_assignment_is_kept() {
        let tracker = tracker();
        let refs = tracker.register(0, slots(1));

        tracker.settled(vec![(SpoolKey(7), Resolution::Delivered)]);
        tracker.assign_key(refs[0], SpoolKey(7));

        let commit = tracker.take_commit();
        assert_eq!(commit.popped, 1);
    }

    #[test]
    fn invalid_message_becomes_problem() {
        let tracker = tracker();
        let refs = tracker.register(0, slots(1));

        tracker.resolve(
            refs[0],
            Resolution::Invalid {
                reason: "malformed_json",
                message: "line 1 is not valid JSON".into(),
            },
        );

        let commit = tracker.take_commit();
        assert_eq!(commit.problems.len(), 1);
        assert_eq!(commit.problems[0].line, 1);
        assert_eq!(commit.problems[0].reason, "malformed_json");
    }

    #[test]
    fn input_completes_after_reading_and_last_slot() {
        let tracker = tracker();
        let refs = tracker.register(0, slots(1));
        tracker.end_input(0, ReadEnd::Finished);
        assert!(!tracker.take_commit().inputs[0].complete);

        tracker.resolve(refs[0], Resolution::Delivered);

        assert!(tracker.take_commit().inputs[0].complete);
    }
}
