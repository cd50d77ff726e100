//! A client for tests that records requests and returns scripted responses.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use serde_json::json;

use crate::{AirshipClient, AirshipError, AirshipRequest, AirshipResponse};

/// Records every request it is given and responds without any network.
///
/// Results queued with [`InMemoryClient::push_response`] are returned first, one per request in
/// queue order. After that every request gets 200 `{"ok":true,"operation_id":<id>}` with a
/// UUID-shaped id that counts up from 1.
#[derive(Debug, Default)]
pub struct InMemoryClient {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    requests: Vec<AirshipRequest>,
    scripted: VecDeque<Result<AirshipResponse, AirshipError>>,
    default_answers: u64,
}

impl InMemoryClient {
    /// Creates a client with no recorded requests and no scripted responses.
    pub fn new() -> InMemoryClient {
        InMemoryClient::default()
    }

    /// Queues `answer` for a later request.
    pub fn push_response(&self, answer: Result<AirshipResponse, AirshipError>) {
        self.lock().scripted.push_back(answer);
    }

    /// Returns every request sent so far, oldest first.
    pub fn requests(&self) -> Vec<AirshipRequest> {
        self.lock().requests.clone()
    }

    /// Clears the recorded requests. Scripted responses stay queued.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    fn lock(&self) -> MutexGuard<'_, MemoryState> {
        // A test that panicked while holding the lock leaves consistent data behind.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl AirshipClient for InMemoryClient {
    async fn send(&self, request: &AirshipRequest) -> Result<AirshipResponse, AirshipError> {
        let mut state = self.lock();
        state.requests.push(request.clone());
        if let Some(answer) = state.scripted.pop_front() {
            return answer;
        }

        state.default_answers += 1;
        let operation_id = format!("00000000-0000-4000-8000-{:012x}", state.default_answers);
        Ok(AirshipResponse {
            status: 200,
            operation_id: Some(operation_id.clone()),
            warnings: Vec::new(),
            body: json!({"ok": true, "operation_id": operation_id}),
        })
    }
}
