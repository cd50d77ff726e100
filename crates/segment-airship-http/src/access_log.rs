//! One log line per call: method, path, status, message counts and time taken.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Message counts of a call, attached to the response by the handler for the log line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSummary {
    pub(crate) messages: usize,
    pub(crate) rejected: usize,
    /// Messages committed to the spool.
    pub(crate) queued: usize,
    /// Messages acknowledged without storing, because their `messageId` was seen recently.
    pub(crate) duplicates: usize,
}

/// The `error` code of a rejected call, attached to the response for the log line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorCode(pub(crate) &'static str);

/// Logs each call once its response is ready.
///
/// Headers are never logged, because they carry write keys.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();

    let response = next.run(request).await;

    let summary = response.extensions().get::<CallSummary>().copied();
    let error = response.extensions().get::<ErrorCode>().map(|code| code.0);
    tracing::info!(
        method = %method,
        path,
        status = response.status().as_u16(),
        messages = summary.map(|summary| summary.messages),
        rejected = summary.map(|summary| summary.rejected),
        queued = summary.map(|summary| summary.queued),
        duplicates = summary.map(|summary| summary.duplicates),
        error,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "Handled a call."
    );
    response
}
