//! State shared by every connection of one mock server: its config, the recorded requests, the
//! named users and the injected faults.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::{check_count, check_status, FaultError, FaultKind, FaultRule, Faults};
use crate::named_users::{NamedUser, NamedUsers};
use crate::validate::named_user_id_problem;
use crate::MockConfig;

/// The kind of injected fault that handled a recorded request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectedFault {
    /// The request got the injected status instead of being handled.
    Status,
    /// The connection was closed without a response.
    DroppedConnection,
}

/// One request as the mock received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method, such as `POST`.
    pub method: String,
    /// Path exactly as sent, still percent-encoded, without the query string.
    pub path: String,
    /// Every header by lower-case name; repeated headers are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON, the raw text when it is not JSON, or `null` when it was over
    /// 5 MiB and not read.
    pub body: Value,
    /// Status of the response, or `None` while the request is still being handled and when its
    /// connection was dropped.
    #[serde(default)]
    pub status: Option<u16>,
    /// The injected fault that handled it, if any.
    #[serde(default)]
    pub fault: Option<InjectedFault>,
}

impl RecordedRequest {
    pub(crate) fn new(parts: &Parts, body: &[u8]) -> RecordedRequest {
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in &parts.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|joined| {
                    joined.push_str(", ");
                    joined.push_str(&value);
                })
                .or_insert_with(|| value.into_owned());
        }
        let body = serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));

        RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            headers,
            body,
            status: None,
            fault: None,
        }
    }
}

/// Recorded requests with the sequence number each got, so the response status can be filled in
/// after a reset.
#[derive(Debug, Default)]
struct RequestLog {
    next_sequence: u64,
    entries: Vec<(u64, RecordedRequest)>,
}

/// A mock Airship server's shared state. Cloning is cheap and shares the same state.
#[derive(Clone, Debug)]
pub struct MockAirship {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: MockConfig,
    requests: Mutex<RequestLog>,
    named_users: Mutex<NamedUsers>,
    faults: Mutex<Faults>,
}

impl MockAirship {
    /// Creates state with no recorded requests, no faults, and only the config's known named
    /// users.
    pub fn new(config: MockConfig) -> MockAirship {
        let now = config.now.unwrap_or_else(Utc::now);
        let named_users =
            NamedUsers::new(config.strict_named_users, &config.known_named_users, now);
        MockAirship {
            inner: Arc::new(Inner {
                config,
                requests: Mutex::new(RequestLog::default()),
                named_users: Mutex::new(named_users),
                faults: Mutex::new(Faults::default()),
            }),
        }
    }

    /// Returns the config the server checks requests against.
    pub fn config(&self) -> &MockConfig {
        &self.inner.config
    }

    /// Returns the configured fixed time, or the system clock's.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.config.now.unwrap_or_else(Utc::now)
    }

    /// Returns every recorded request in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.requests)
            .entries
            .iter()
            .map(|(_, request)| request.clone())
            .collect()
    }

    /// Clears every recorded request, and nothing else.
    pub fn clear_requests(&self) {
        lock(&self.inner.requests).entries.clear();
    }

    /// Restores the start state: no recorded requests, no faults, and only the known named
    /// users, with no tags, attributes or events.
    pub fn reset(&self) {
        self.clear_requests();
        self.clear_faults();
        lock(&self.inner.named_users).reset(self.now());
    }

    /// Returns named user `id`, or `None` when it does not exist.
    pub fn named_user(&self, id: &str) -> Option<NamedUser> {
        lock(&self.inner.named_users).get(id).cloned()
    }

    /// Returns every named user, sorted by id.
    pub fn named_users(&self) -> Vec<NamedUser> {
        lock(&self.inner.named_users).all()
    }

    /// Creates named user `id` with no tags or attributes, as associating a channel would in
    /// Airship. An existing user is left unchanged. Fails when the id is not one Airship accepts.
    pub fn add_named_user(&self, id: &str) -> Result<(), String> {
        if let Some(problem) = named_user_id_problem(id) {
            return Err(problem);
        }
        lock(&self.inner.named_users).add(id, self.now());
        Ok(())
    }

    /// Responds to the next `count` API requests (every one when `None`) with `status`, and with
    /// `Retry-After: <seconds>` when `retry_after` is set. The rule joins the end of the queue.
    pub fn fail_requests(
        &self,
        status: u16,
        count: Option<u32>,
        retry_after: Option<u64>,
    ) -> Result<(), FaultError> {
        check_status(status)?;
        check_count(count)?;
        self.add_fault_rule(FaultRule {
            fault: FaultKind::Status {
                status,
                retry_after,
            },
            remaining: count,
        });
        Ok(())
    }

    /// Closes the connection of the next `count` API requests without a response. The rule
    /// joins the end of the queue.
    pub fn drop_connections(&self, count: u32) -> Result<(), FaultError> {
        check_count(Some(count))?;
        self.add_fault_rule(FaultRule {
            fault: FaultKind::DropConnection,
            remaining: Some(count),
        });
        Ok(())
    }

    /// Adds `rule` to the end of the fault queue.
    pub fn add_fault_rule(&self, rule: FaultRule) {
        lock(&self.inner.faults).rules.push(rule);
    }

    /// Delays the response to every API request by `latency`, until changed or cleared.
    pub fn set_latency(&self, latency: Duration) {
        let millis = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        lock(&self.inner.faults).latency_ms = millis;
    }

    /// Removes every fault rule and the latency.
    pub fn clear_faults(&self) {
        *lock(&self.inner.faults) = Faults::default();
    }

    /// Returns the configured faults.
    pub fn faults(&self) -> Faults {
        lock(&self.inner.faults).clone()
    }

    pub(crate) fn latency(&self) -> Duration {
        lock(&self.inner.faults).latency()
    }

    pub(crate) fn next_fault(&self) -> Option<FaultKind> {
        lock(&self.inner.faults).next_fault()
    }

    pub(crate) fn lock_named_users(&self) -> MutexGuard<'_, NamedUsers> {
        lock(&self.inner.named_users)
    }

    /// Records `request` and returns its sequence number for [`MockAirship::finish`].
    pub(crate) fn record(&self, request: RecordedRequest) -> u64 {
        let mut log = lock(&self.inner.requests);
        let sequence = log.next_sequence;
        log.next_sequence += 1;
        log.entries.push((sequence, request));
        sequence
    }

    /// Fills in the outcome of recorded request `sequence`, unless it was cleared meanwhile.
    pub(crate) fn finish(&self, sequence: u64, status: Option<u16>, fault: Option<InjectedFault>) {
        let mut log = lock(&self.inner.requests);
        // Entries are pushed in sequence order, so a binary search keeps this O(log n) however
        // long the log grows.
        if let Ok(index) = log.entries.binary_search_by_key(&sequence, |(s, _)| *s) {
            let request = &mut log.entries[index].1;
            request.status = status;
            request.fault = fault;
        }
    }
}

/// Locks `mutex`, also after a panic in another holder: every change made under these locks
/// leaves the data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
