//! Middleware that records every API request before it is handled, and optionally logs it.

use std::collections::BTreeMap;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::reply::ApiError;
use crate::{MockAirship, RecordedRequest};

/// Maximum body size accepted, in bytes. Airship states no limit for these endpoints, and 5 MiB
/// (for push) is the only request size limit it documents.
pub(crate) const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// Path prefix of the inspection routes, which are not recorded.
const INSPECT_PREFIX: &str = "/__mock/";

/// Records the request, passes it on, and logs it with the response status when configured.
///
/// A body over [`MAX_BODY_BYTES`] gets a 413 response and is recorded with a `null` body.
pub(crate) async fn record_request(
    State(mock): State<MockAirship>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with(INSPECT_PREFIX) {
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
            log_request(&mock, &recorded, &response);
            mock.record(recorded);
            return response;
        }
    };

    let recorded = RecordedRequest::new(&parts, &bytes);
    mock.record(recorded.clone());
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    log_request(&mock, &recorded, &response);
    response
}

fn log_request(mock: &MockAirship, recorded: &RecordedRequest, response: &Response) {
    if !mock.config().log_requests {
        return;
    }
    tracing::info!(
        method = %recorded.method,
        path = %recorded.path,
        status = response.status().as_u16(),
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
