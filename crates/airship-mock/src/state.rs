//! State shared by every connection of one mock server: its config and the recorded requests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::MockConfig;

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
        }
    }
}

/// A mock Airship server's shared state. Cloning is cheap and shares the same state.
#[derive(Clone, Debug)]
pub struct MockAirship {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: MockConfig,
    requests: Mutex<Vec<RecordedRequest>>,
}

impl MockAirship {
    /// Creates state with no recorded requests.
    pub fn new(config: MockConfig) -> MockAirship {
        MockAirship {
            inner: Arc::new(Inner {
                config,
                requests: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Returns the config the server checks requests against.
    pub fn config(&self) -> &MockConfig {
        &self.inner.config
    }

    /// Returns every recorded request in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock_requests().clone()
    }

    /// Clears every recorded request.
    pub fn reset(&self) {
        self.lock_requests().clear();
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        self.lock_requests().push(request);
    }

    fn lock_requests(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        // A handler that panicked while pushing leaves a consistent list behind.
        self.inner
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
