//! Route handlers: one message per call, a batch, health and unknown paths.

use airship_mapping::{InvalidReason, Mapped, Outcome};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::Json;
use segment_airship_delivery::{deliver_message, Delivered};
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
    let delivered = deliver_message(state.client.as_ref(), message, &state.settings, now).await;
    Ok(CallResponse {
        kind: CallKind::Single,
        messages: vec![delivered],
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

    // NOTE: messages are delivered one after another before the response, so a large batch to a
    // slow Airship can outlast the caller's timeout. Durable delivery will respond after spooling.
    let now = (state.clock)();
    let mut messages = Vec::with_capacity(batch.messages.len());
    for (message, size) in batch.messages.into_iter().zip(sizes) {
        let delivered = if size > MAX_MESSAGE_BYTES {
            too_large(&message, size)
        } else {
            deliver_message(state.client.as_ref(), message, &state.settings, now).await
        };
        messages.push(delivered);
    }

    Ok(CallResponse {
        kind: CallKind::Batch,
        messages,
    })
}

/// Builds the invalid outcome of a batch message over the size limit.
///
/// Such a message is neither mapped nor sent.
fn too_large(message: &Value, size: usize) -> Delivered {
    let text_field = |key: &str| message.get(key).and_then(Value::as_str).map(str::to_owned);
    let mapped = Mapped {
        message_id: text_field("messageId"),
        message_type: text_field("type"),
        outcome: Outcome::invalid(
            InvalidReason::MessageTooLarge,
            "message",
            ApiError::MessageTooLarge { size }.to_string(),
        ),
        warnings: Vec::new(),
    };
    Delivered {
        mapped,
        requests: Vec::new(),
    }
}

/// `GET /health`: the process is up and serving.
pub(crate) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Any other path or method.
pub(crate) async fn not_found(method: Method, uri: Uri) -> Response {
    let body = json!({
        "error": "not_found",
        "message": format!("no route for {method} {}", uri.path()),
    });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
