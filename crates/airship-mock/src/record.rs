//! Middleware that records every API request, applies the injected latency and faults, and
//! optionally logs each request with its outcome.

use std::collections::BTreeMap;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::connection::ConnectionHandle;
use crate::faults::FaultKind;
use crate::reply::{self, ApiError};
use crate::state::InjectedFault;
use crate::{MockAirship, RecordedRequest};

/// Maximum body size accepted, in bytes. Airship states no limit for these endpoints, and 5 MiB
/// (for push) is the only request size limit it documents.
pub(crate) const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// Path prefix of the inspection and control routes, which are not recorded and never faulted.
const CONTROL_PREFIX: &str = "/__mock/";

/// Records the request, waits out the configured latency, then responds with the next injected
/// fault or passes the request on, and records and logs the outcome.
///
/// A body over [`MAX_BODY_BYTES`] gets a 413 response and is recorded with a `null` body.
pub(crate) async fn record_request(
    State(mock): State<MockAirship>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with(CONTROL_PREFIX) {
        return next.run(request).await;
    }

    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let mut recorded = RecordedRequest::new(&parts, &[]);
            recorded.body = serde_json::Value::Null;
            let response = ApiError::plain(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
                .into_response();
            recorded.status = Some(response.status().as_u16());
            log_request(&mock, &recorded);
            mock.record(recorded);
            return response;
        }
    };

    let mut recorded = RecordedRequest::new(&parts, &bytes);
    let sequence = mock.record(recorded.clone());

    let latency = mock.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let connection = parts
        .extensions
        .get::<ConnectInfo<ConnectionHandle>>()
        .map(|ConnectInfo(handle)| handle.clone());
    let (response, fault) = match mock.next_fault() {
        Some(FaultKind::Status {
            status,
            retry_after,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                reply::injected_error(status, retry_after),
                Some(InjectedFault::Status),
            )
        }
        Some(FaultKind::DropConnection) => match connection {
            Some(connection) => {
                connection.drop_connection();
                (
                    StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                    Some(InjectedFault::DroppedConnection),
                )
            }
            None => {
                tracing::warn!(
                    path = %recorded.path,
                    "Cannot drop the connection of a mock not started with airship_mock::spawn; answering 500 instead"
                );
                let error = ApiError::plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the mock cannot drop this connection because it was not started with airship_mock::spawn",
                );
                (error.into_response(), Some(InjectedFault::Status))
            }
        },
        None => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            (response, None)
        }
    };

    recorded.status = match fault {
        Some(InjectedFault::DroppedConnection) => None,
        Some(InjectedFault::Status) | None => Some(response.status().as_u16()),
    };
    recorded.fault = fault;
    mock.finish(sequence, recorded.status, recorded.fault);
    log_request(&mock, &recorded);
    response
}

fn log_request(mock: &MockAirship, recorded: &RecordedRequest) {
    if !mock.config().log_requests {
        return;
    }
    tracing::info!(
        method = %recorded.method,
        path = %recorded.path,
        status = recorded.status,
        fault = ?recorded.fault,
        headers = ?redact(&recorded.headers),
        body = %recorded.body,
        "Mock Airship received request"
    );
}

/// Copies `headers` with the `Authorization` value replaced by `[redacted]`.
fn redact(headers: &BTreeMap<String, String>) -> BTreeMap<&str, &str> {
    headers
        .iter()
        .map(|(name, value)| {
            if name == header::AUTHORIZATION.as_str() {
                (name.as_str(), "[redacted]")
            } else {
                (name.as_str(), value.as_str())
            }
        })
        .collect()
}
