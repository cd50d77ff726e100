//! Test-only routes under `/__mock/`: recorded requests, faults, named users and reset.
//!
//! They need no credentials, are never recorded and never get injected faults.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::{FaultRequest, Faults};
use crate::{MockAirship, RecordedRequest};

/// `GET /__mock/requests`: every recorded request in arrival order.
pub(crate) async fn list_requests(State(mock): State<MockAirship>) -> Json<Vec<RecordedRequest>> {
    Json(mock.requests())
}

/// `DELETE /__mock/requests`: clears the recorded requests only.
pub(crate) async fn clear_requests(State(mock): State<MockAirship>) -> StatusCode {
    mock.clear_requests();
    StatusCode::NO_CONTENT
}

/// `POST /__mock/reset`: clears recorded requests, faults and named users back to the known ones.
pub(crate) async fn reset(State(mock): State<MockAirship>) -> StatusCode {
    mock.reset();
    StatusCode::NO_CONTENT
}

/// `GET /__mock/faults`: the fault queue and latency.
pub(crate) async fn list_faults(State(mock): State<MockAirship>) -> Json<Faults> {
    Json(mock.faults())
}

/// `POST /__mock/faults`: adds one rule and/or sets the latency, as described on
/// [`FaultRequest`], and returns the faults now configured.
pub(crate) async fn add_fault(State(mock): State<MockAirship>, body: Bytes) -> Response {
    let request: FaultRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return bad_request(&format!("invalid fault request: {error}")),
    };
    let rule = match request.rule() {
        Ok(rule) => rule,
        Err(error) => return bad_request(&error.to_string()),
    };

    if let Some(rule) = rule {
        mock.add_fault_rule(rule);
    }
    if let Some(latency_ms) = request.latency_ms {
        mock.set_latency(std::time::Duration::from_millis(latency_ms));
    }
    let faults = mock.faults();
    tracing::info!(?faults, "Mock Airship faults changed");
    Json(faults).into_response()
}

/// `DELETE /__mock/faults`: removes every fault rule and the latency.
pub(crate) async fn clear_faults(State(mock): State<MockAirship>) -> StatusCode {
    mock.clear_faults();
    StatusCode::NO_CONTENT
}

/// `GET /__mock/named_users`: every named user with its tags, attributes and events.
pub(crate) async fn list_named_users(State(mock): State<MockAirship>) -> Json<Value> {
    let users: Vec<Value> = mock
        .named_users()
        .iter()
        .map(|user| user.to_airship_json())
        .collect();
    Json(json!({ "named_users": users }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNamedUser {
    named_user_id: String,
}

/// `POST /__mock/named_users` with `{"named_user_id":"..."}`: creates the named user, which is
/// how tests in strict mode make a user exist.
pub(crate) async fn add_named_user(State(mock): State<MockAirship>, body: Bytes) -> Response {
    let request: NewNamedUser = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return bad_request(&format!("expected {{\"named_user_id\":\"<id>\"}}: {error}"))
        }
    };
    match mock.add_named_user(&request.named_user_id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(problem) => bad_request(&problem),
    }
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"ok": false, "error": message})),
    )
        .into_response()
}
