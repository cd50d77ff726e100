//! Handlers of the Airship endpoints: header checks, then JSON parsing, then the body checks,
//! then the change to the named users.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::checks::{self, Credentials};
use crate::named_users::Warnings;
use crate::reply::{self, ApiError, Rejection, PARSE_ERROR, VND_JSON_V3};
use crate::validate::{
    check_named_user_id, validate_custom_events, validate_named_user_attributes,
    validate_named_user_tags,
};
use crate::MockAirship;

/// `POST /api/custom-events`
pub(crate) async fn custom_events(
    State(mock): State<MockAirship>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(accept_custom_events(&mock, &headers, &body))
}

/// `POST /api/named_users/tags`
pub(crate) async fn named_user_tags(
    State(mock): State<MockAirship>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(accept_named_user_tags(&mock, &headers, &body))
}

/// `POST /api/named_users/{named_user_id}/attributes`, with the id percent-decoded by axum.
pub(crate) async fn named_user_attributes(
    State(mock): State<MockAirship>,
    named_user_id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(accept_named_user_attributes(
        &mock,
        named_user_id.map(|Path(id)| id),
        &headers,
        &body,
    ))
}

/// `GET /api/named_users?id=<named_user_id>`: one named user, or all of them without `id`.
pub(crate) async fn lookup_named_users(
    State(mock): State<MockAirship>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    respond(lookup(&mock, query.get("id"), &headers))
}

fn respond(result: Result<Response, Rejection>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Runs the checks every endpoint shares, in Airship's order: `Accept` (406), then auth (401).
fn check_headers(mock: &MockAirship, headers: &HeaderMap) -> Result<Credentials, Rejection> {
    checks::accept(headers)?;
    checks::authenticate(headers, mock.config())
}

fn accept_custom_events(
    mock: &MockAirship,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Rejection> {
    let credentials = check_headers(mock, headers)?;
    checks::require_bearer(credentials)?;
    // Only custom events declare X-UA-Appkey as a required header.
    checks::app_key(headers, mock.config())?;

    let now = mock.now();
    let events = validate_custom_events(&parse_json(body)?, now)?;
    mock.lock_named_users().record_events(events, now);
    Ok(reply::ok(VND_JSON_V3))
}

fn accept_named_user_tags(
    mock: &MockAirship,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Rejection> {
    check_headers(mock, headers)?;

    let change = validate_named_user_tags(&parse_json(body)?)?;
    let warnings =
        mock.lock_named_users()
            .apply_tags(&mock.config().project, &change, mock.now())?;
    Ok(reply::ok_with("application/json", warning_fields(warnings)))
}

fn accept_named_user_attributes(
    mock: &MockAirship,
    named_user_id: Result<String, axum::extract::rejection::PathRejection>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Rejection> {
    check_headers(mock, headers)?;

    let named_user_id = named_user_id
        .map_err(|rejection| ApiError::invalid_body("named_user_id", rejection.body_text()))?;
    check_named_user_id(&named_user_id, "named_user_id")?;
    let now = mock.now();
    let operations = validate_named_user_attributes(&parse_json(body)?, now)?;
    let warnings = mock.lock_named_users().apply_attributes(
        &mock.config().project,
        &named_user_id,
        &operations,
        now,
    )?;
    Ok(reply::ok_with("application/json", warning_fields(warnings)))
}

fn lookup(
    mock: &MockAirship,
    id: Option<&String>,
    headers: &HeaderMap,
) -> Result<Response, Rejection> {
    let credentials = check_headers(mock, headers)?;
    checks::require_read_access(credentials)?;

    let body = match id {
        Some(id) => {
            let user = mock.named_user(id).ok_or_else(ApiError::entity_not_found)?;
            json!({"ok": true, "named_user": user.to_airship_json()})
        }
        None => {
            let users: Vec<Value> = mock
                .named_users()
                .iter()
                .map(|user| user.to_airship_json())
                .collect();
            json!({"ok": true, "named_users": users})
        }
    };
    Ok(reply::json_response(StatusCode::OK, VND_JSON_V3, &body))
}

/// `tag_warnings` and `warnings` as Airship sends them: comma-separated, left out when empty.
fn warning_fields(warnings: Warnings) -> Map<String, Value> {
    let mut fields = Map::new();
    if !warnings.tag_warnings.is_empty() {
        fields.insert(
            "tag_warnings".into(),
            Value::String(warnings.tag_warnings.join(",")),
        );
    }
    if !warnings.warnings.is_empty() {
        fields.insert(
            "warnings".into(),
            Value::String(warnings.warnings.join(",")),
        );
    }
    fields
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
