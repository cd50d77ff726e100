//! Errors that reject a whole call, each with its HTTP status and a JSON body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::access_log::ErrorCode;
use crate::limits::{MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES};

/// A call rejected before any of its messages was accepted.
///
/// The response body is `{"error": <code>, "message": <sentence>}`; the code is stable, the
/// sentence names the value at fault and the limit or the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 401: the call has no write key, or not an accepted one.
    #[error("{0}")]
    Unauthorized(Unauthorized),
    /// 400: the body is over [`MAX_REQUEST_BYTES`], before or after decompression.
    #[error("request body is {size}; the limit is 500 KB ({MAX_REQUEST_BYTES} bytes)")]
    RequestTooLarge { size: BodySize },
    /// 400: a single-message call whose message is over [`MAX_MESSAGE_BYTES`].
    #[error("message is {size} bytes; the limit is 32 KB ({MAX_MESSAGE_BYTES} bytes) per message")]
    MessageTooLarge { size: usize },
    /// 400: a batch with more than [`MAX_BATCH_MESSAGES`] messages.
    #[error("batch has {count} messages; the limit is {MAX_BATCH_MESSAGES} messages per batch")]
    TooManyMessages { count: usize },
    /// 400: the body is not JSON; the parser's message names the line and column.
    #[error("request body is not valid JSON: {reason}")]
    MalformedJson { reason: String },
    /// 400: `Content-Encoding: gzip` with a body that does not decompress.
    #[error("request body is not valid gzip: {reason}")]
    InvalidGzip { reason: String },
    /// 415: a `Content-Encoding` other than gzip or identity.
    #[error("unsupported Content-Encoding `{encoding}`; send the body as is or with gzip")]
    UnsupportedEncoding { encoding: String },
    /// 400: the body could not be read to the end.
    #[error("failed to read the request body: {reason}")]
    ReadBody { reason: String },
    /// 400: a single-message call whose body is not a JSON object.
    #[error("request body must be a JSON object, found {found}")]
    NotAnObject { found: &'static str },
    /// 400: the body's `type` disagrees with the path.
    #[error("body `type` is {found} but the path {path} sets type `{expected}`; remove `type` from the body or post to the path of its type")]
    TypeMismatch {
        path: String,
        expected: &'static str,
        /// The body's `type` as JSON text.
        found: String,
    },
    /// 400: a batch body that is not `{"batch": [...]}`.
    #[error("batch body must be a JSON object with a `batch` array")]
    NotABatch,
    /// 503: the messages could not be committed to the spool, so none of them was accepted.
    /// The cause is logged, not returned.
    #[error(
        "the service could not store the messages; nothing was accepted, send the call again later"
    )]
    SpoolUnavailable,
}

/// Reason a call is unauthorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unauthorized {
    #[error(
        "missing write key: send it as the Basic auth user name, or as `writeKey` in the body"
    )]
    MissingKey,
    #[error("invalid write key: it is not one of the keys this service accepts")]
    InvalidKey,
    #[error(
        "invalid Authorization header: expected `Basic` followed by the base64 of `<write key>:`"
    )]
    MalformedHeader,
}

/// The size of a body that is over the limit: exact when `Content-Length` gave it, otherwise
/// only known to exceed the limit, because the rest is never read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodySize {
    Exact(u64),
    OverLimit,
    OverLimitDecompressed,
}

impl std::fmt::Display for BodySize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodySize::Exact(size) => write!(f, "{size} bytes"),
            BodySize::OverLimit => write!(f, "more than {MAX_REQUEST_BYTES} bytes"),
            BodySize::OverLimitDecompressed => write!(
                f,
                "more than {MAX_REQUEST_BYTES} bytes after gzip decompression"
            ),
        }
    }
}

impl ApiError {
    /// Returns the stable code in the `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::RequestTooLarge { .. } => "request_too_large",
            ApiError::MessageTooLarge { .. } => "message_too_large",
            ApiError::TooManyMessages { .. } => "too_many_messages",
            ApiError::MalformedJson { .. } => "malformed_json",
            ApiError::InvalidGzip { .. } => "invalid_gzip",
            ApiError::UnsupportedEncoding { .. } => "unsupported_encoding",
            ApiError::ReadBody { .. } => "unreadable_body",
            ApiError::NotAnObject { .. } => "not_an_object",
            ApiError::TypeMismatch { .. } => "type_mismatch",
            ApiError::NotABatch => "not_a_batch",
            ApiError::SpoolUnavailable => "spool_unavailable",
        }
    }

    /// Returns the HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::UnsupportedEncoding { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::SpoolUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RequestTooLarge { .. }
            | ApiError::MessageTooLarge { .. }
            | ApiError::TooManyMessages { .. }
            | ApiError::MalformedJson { .. }
            | ApiError::InvalidGzip { .. }
            | ApiError::ReadBody { .. }
            | ApiError::NotAnObject { .. }
            | ApiError::TypeMismatch { .. }
            | ApiError::NotABatch => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code(), "message": self.to_string()});
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized(_)) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"segment\""),
            );
        }
        response.extensions_mut().insert(ErrorCode(self.code()));
        response
    }
}
