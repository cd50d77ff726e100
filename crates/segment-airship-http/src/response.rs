//! The JSON response to an accepted call: one result per message, and the rejected ones listed.

use airship_mapping::{Outcome, Warning};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use segment_airship_delivery::{Accepted, IntakeStatus};
use serde::Serialize;

use crate::access_log::{CallSummary, ErrorCode};

/// Whether the call carried one message or a batch; it decides the status of an invalid message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    Single,
    Batch,
}

/// The messages of an accepted call, in the order they were sent.
#[derive(Debug)]
pub(crate) struct CallResponse {
    pub(crate) kind: CallKind,
    pub(crate) messages: Vec<Accepted>,
}

/// `{"success": true, "rejected": [...], "results": [...]}`; `rejected` only when non-empty.
///
/// A single-message call whose message is invalid gets 422 with `"success": false` and
/// `error`/`message` naming the problem. Every other accepted call gets 200, sent only after
/// every `queued` message is committed to the spool. Airship's responses come later and end in
/// the log, or in the dead letters.
#[derive(Serialize)]
struct CallBody<'a> {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rejected: Vec<RejectedEntry<'a>>,
    results: Vec<ResultEntry<'a>>,
}

/// A message rejected as invalid or over the size limit.
#[derive(Serialize)]
struct RejectedEntry<'a> {
    index: usize,
    message_id: Option<&'a str>,
    reason: &'static str,
    field: &'a str,
    message: &'a str,
}

/// The outcome of one message, named like the `map` output, and what the service did with it.
#[derive(Serialize)]
struct ResultEntry<'a> {
    index: usize,
    message_id: Option<&'a str>,
    #[serde(rename = "type")]
    message_type: Option<&'a str>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    /// The field at fault, for an invalid message.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    /// `queued`, `duplicate`, `skipped` or `invalid`.
    status: IntakeStatus,
    #[serde(skip_serializing_if = "<[Warning]>::is_empty")]
    warnings: &'a [Warning],
}

impl<'a> ResultEntry<'a> {
    fn new(index: usize, accepted: &'a Accepted) -> ResultEntry<'a> {
        let mapped = &accepted.mapped;
        let (field, message) = match &mapped.outcome {
            Outcome::Sent { .. } => (None, None),
            Outcome::Skipped { message, .. } => (None, Some(message.as_str())),
            Outcome::Invalid(invalid) => {
                (Some(invalid.field.as_str()), Some(invalid.message.as_str()))
            }
        };
        ResultEntry {
            index,
            message_id: mapped.message_id.as_deref(),
            message_type: mapped.message_type.as_deref(),
            outcome: mapped.outcome.name(),
            reason: mapped.outcome.reason_code(),
            field,
            message,
            status: accepted.status,
            warnings: &mapped.warnings,
        }
    }
}

fn rejected_entry(index: usize, accepted: &Accepted) -> Option<RejectedEntry<'_>> {
    let Outcome::Invalid(invalid) = &accepted.mapped.outcome else {
        return None;
    };
    Some(RejectedEntry {
        index,
        message_id: accepted.mapped.message_id.as_deref(),
        reason: invalid.reason.code(),
        field: &invalid.field,
        message: &invalid.message,
    })
}

impl IntoResponse for CallResponse {
    fn into_response(self) -> Response {
        let rejected: Vec<RejectedEntry<'_>> = self
            .messages
            .iter()
            .enumerate()
            .filter_map(|(index, accepted)| rejected_entry(index, accepted))
            .collect();
        let results = self
            .messages
            .iter()
            .enumerate()
            .map(|(index, accepted)| ResultEntry::new(index, accepted))
            .collect();
        let count = |status: IntakeStatus| {
            self.messages
                .iter()
                .filter(|accepted| accepted.status == status)
                .count()
        };
        let summary = CallSummary {
            messages: self.messages.len(),
            rejected: rejected.len(),
            queued: count(IntakeStatus::Queued),
            duplicates: count(IntakeStatus::Duplicate),
        };

        let single_invalid = self.kind == CallKind::Single && !rejected.is_empty();
        let (status, body) = if single_invalid {
            let body = CallBody {
                success: false,
                error: Some(INVALID_MESSAGE),
                message: Some(rejected[0].message),
                rejected,
                results,
            };
            (StatusCode::UNPROCESSABLE_ENTITY, body)
        } else {
            let body = CallBody {
                success: true,
                error: None,
                message: None,
                rejected,
                results,
            };
            (StatusCode::OK, body)
        };

        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(summary);
        if single_invalid {
            response.extensions_mut().insert(ErrorCode(INVALID_MESSAGE));
        }
        response
    }
}

/// Error code of a single-message call whose message is invalid.
const INVALID_MESSAGE: &str = "invalid_message";
