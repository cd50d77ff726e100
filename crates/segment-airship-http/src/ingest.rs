//! Route handlers: one message per call, a batch, health and unknown paths.
//!
//! A call gets its response once its sendable messages are committed to the spool. The delivery
//! engine sends them to Airship afterwards.

use airship_mapping::{InvalidReason, Mapped, Outcome};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::Json;
use segment_airship_delivery::{Incoming, SpoolError};
use segment_model::{json_type_name, parse_batch, MessageType};
use serde_json::{json, Value};

use crate::auth::{check_body, check_header};
use crate::body::read_json;
use crate::error::ApiError;
use crate::limits::{serialized_len, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES};
use crate::response::{CallKind, CallResponse};
use crate::state::AppState;

/// `POST /v1/<type>` for one call type.
pub(crate) fn single_route(message_type: MessageType) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>, headers: HeaderMap, body: Body| async move {
            single(&state, message_type, &headers, body).await
        },
    )
}

/// Accepts one message whose type the path sets.
async fn single(
    state: &AppState,
    message_type: MessageType,
    headers: &HeaderMap,
    body: Body,
) -> Result<CallResponse, ApiError> {
    let header_check = check_header(&state.auth, headers)?;
    let mut message = read_json(headers, body).await?;
    check_body(&state.auth, header_check, &message)?;

    let Value::Object(object) = &mut message else {
        return Err(ApiError::NotAnObject {
            found: json_type_name(&message),
        });
    };
    object.remove("writeKey");
    match object.get("type") {
        None | Some(Value::Null) => {
            object.insert("type".into(), message_type.as_str().into());
        }
        Some(Value::String(found)) if found == message_type.as_str() => {}
        Some(found) => {
            return Err(ApiError::TypeMismatch {
                path: format!("/v1/{message_type}"),
                expected: message_type.as_str(),
                found: found.to_string(),
            })
        }
    }

    let size = serialized_len(&message);
    if size > MAX_MESSAGE_BYTES {
        return Err(ApiError::MessageTooLarge { size });
    }

    let now = (state.clock)();
    let messages = state
        .intake
        .accept(vec![Incoming::Message(message)], now)
        .await
        .map_err(spool_unavailable)?;
    Ok(CallResponse {
        kind: CallKind::Single,
        messages,
    })
}

/// `POST /v1/batch` and `POST /v1/import`.
pub(crate) async fn batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<CallResponse, ApiError> {
    let header_check = check_header(&state.auth, &headers)?;
    let body = read_json(&headers, body).await?;
    check_body(&state.auth, header_check, &body)?;

    let Some(items) = body.get("batch").and_then(Value::as_array) else {
        return Err(ApiError::NotABatch);
    };
    if items.len() > MAX_BATCH_MESSAGES {
        return Err(ApiError::TooManyMessages { count: items.len() });
    }
    // Measured as sent, before the envelope's `context` and `integrations` are merged in.
    let sizes: Vec<usize> = items.iter().map(serialized_len).collect();
    let batch = parse_batch(body).map_err(|_| ApiError::NotABatch)?;

    let incoming = batch
        .messages
        .into_iter()
        .zip(sizes)
        .map(|(mut message, size)| {
            // A write key is a credential: it must not reach the spool or the dead letters.
            if let Value::Object(object) = &mut message {
                object.remove("writeKey");
            }
            if size > MAX_MESSAGE_BYTES {
                Incoming::Rejected(too_large(&message, size))
            } else {
                Incoming::Message(message)
            }
        })
        .collect();

    let now = (state.clock)();
    let messages = state
        .intake
        .accept(incoming, now)
        .await
        .map_err(spool_unavailable)?;
    Ok(CallResponse {
        kind: CallKind::Batch,
        messages,
    })
}

/// Builds the invalid outcome of a batch message over the size limit.
///
/// Such a message is neither mapped nor spooled.
fn too_large(message: &Value, size: usize) -> Mapped {
    let text_field = |key: &str| message.get(key).and_then(Value::as_str).map(str::to_owned);
    Mapped {
        message_id: text_field("messageId"),
        message_type: text_field("type"),
        outcome: Outcome::invalid(
            InvalidReason::MessageTooLarge,
            "message",
            ApiError::MessageTooLarge { size }.to_string(),
        ),
        warnings: Vec::new(),
    }
}

/// Logs why the spool failed and returns the error for the caller, without the detail.
fn spool_unavailable(error: SpoolError) -> ApiError {
    tracing::error!(
        error = %ErrorChain(&error),
        "Failed to commit messages to the spool; the call is answered 503 and nothing was stored."
    );
    ApiError::SpoolUnavailable
}

/// `GET /health`: the process is up, with the delivery state and counters.
pub(crate) async fn health(State(state): State<AppState>) -> Json<Value> {
    let engine = state.intake.engine();
    Json(json!({
        "status": "ok",
        "delivery": {
            "state": engine.state(),
            "counters": engine.stats(),
        }
    }))
}

/// Displays an error with its sources, separated by `: `.
struct ErrorChain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Any other path or method.
pub(crate) async fn not_found(method: Method, uri: Uri) -> Response {
    let body = json!({
        "error": "not_found",
        "message": format!("no route for {method} {}", uri.path()),
    });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
