//! Test-only routes under `/__mock/` for reading and clearing the recorded requests.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::{MockAirship, RecordedRequest};

/// `GET /__mock/requests`: every recorded request in arrival order.
pub(crate) async fn list_requests(State(mock): State<MockAirship>) -> Json<Vec<RecordedRequest>> {
    Json(mock.requests())
}

/// `POST /__mock/reset` and `DELETE /__mock/requests`: clears the recorded requests.
pub(crate) async fn reset(State(mock): State<MockAirship>) -> StatusCode {
    mock.reset();
    StatusCode::NO_CONTENT
}
