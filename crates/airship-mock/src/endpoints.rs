//! Handlers for the three Airship endpoints: header checks, then JSON parsing, then body shape.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::reply::{self, ApiError, Rejection, PARSE_ERROR, VND_JSON_V3};
use crate::validate::{
    validate_custom_events, validate_named_user_attributes, validate_named_user_tags,
};
use crate::{checks, MockAirship};

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    CustomEvents,
    NamedUserTags,
    NamedUserAttributes,
}

/// `POST /api/custom-events`
pub(crate) async fn custom_events(
    State(mock): State<MockAirship>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(Endpoint::CustomEvents, &mock, &headers, &body)
}

/// `POST /api/named_users/tags`
pub(crate) async fn named_user_tags(
    State(mock): State<MockAirship>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(Endpoint::NamedUserTags, &mock, &headers, &body)
}

/// `POST /api/named_users/{named_user_id}/attributes`
pub(crate) async fn named_user_attributes(
    State(mock): State<MockAirship>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(Endpoint::NamedUserAttributes, &mock, &headers, &body)
}

fn handle(endpoint: Endpoint, mock: &MockAirship, headers: &HeaderMap, body: &[u8]) -> Response {
    match accept_request(endpoint, mock, headers, body) {
        Ok(response) => response,
        Err(rejection) => rejection.into_response(),
    }
}

/// Runs Airship's checks in order: `Accept` (406), auth (401), JSON (400), body shape (400).
fn accept_request(
    endpoint: Endpoint,
    mock: &MockAirship,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Rejection> {
    checks::accept(headers)?;
    checks::bearer(headers, mock.config())?;
    match endpoint {
        // Only custom events declare X-UA-Appkey as a required header.
        Endpoint::CustomEvents => checks::app_key(headers, mock.config())?,
        Endpoint::NamedUserTags | Endpoint::NamedUserAttributes => {}
    }

    let body = parse_json(body)?;
    let shape = match endpoint {
        Endpoint::CustomEvents => validate_custom_events(&body),
        Endpoint::NamedUserTags => validate_named_user_tags(&body),
        Endpoint::NamedUserAttributes => validate_named_user_attributes(&body),
    };
    shape?;

    let content_type = match endpoint {
        Endpoint::CustomEvents => VND_JSON_V3,
        Endpoint::NamedUserTags | Endpoint::NamedUserAttributes => "application/json",
    };
    Ok(reply::ok(content_type))
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|error| ApiError {
        status: StatusCode::BAD_REQUEST,
        error: PARSE_ERROR.into(),
        error_code: 40000,
        detail: Some(error.to_string()),
        path: None,
    })
}
