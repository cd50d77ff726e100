//! Everything that can go wrong sending a request, and the retry decision over it.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::config::DataCenter;
use crate::response::parse_body;

/// Maximum length of a response body quoted in an error message, in characters.
const BODY_EXCERPT_CHARS: usize = 300;

/// A request that did not produce a 2xx response.
///
/// No variant stores the access token, so messages cannot contain it.
#[derive(Debug, thiserror::Error)]
pub enum AirshipError {
    /// Airship returned 401: the token is wrong, expired, lacks the role for the endpoint, or
    /// belongs to the other data center.
    #[error(
        "airship rejected the credentials at {} (401 unauthorized): check the access token and app key, and that both belong to this data center{}",
        describe_host(.base_url),
        body_suffix(.body)
    )]
    Unauthorized {
        /// Host the request went to, which names the data center.
        base_url: String,
        /// Raw response body; Airship sends `text/plain` here.
        body: String,
    },

    /// Airship returned any other non-2xx status.
    #[error("{}", describe_api_error(*.status, .error.as_deref(), .details.as_ref(), .operation_id.as_deref(), .body, *.retry_after))]
    Api {
        /// HTTP status.
        status: u16,
        /// `error` of Airship's JSON error object, or `message` of an older JSON shape.
        error: Option<String>,
        /// `error_code`: the status followed by two digits, such as 40001.
        error_code: Option<i64>,
        /// `details`, usually `{"error", "path", "location"}` naming the rejected key.
        details: Option<Value>,
        /// `operation_id`, which Airship also returns on errors.
        operation_id: Option<String>,
        /// Raw response body, JSON or not.
        body: String,
        /// Wait requested by the `Retry-After` header.
        retry_after: Option<Duration>,
    },

    /// No complete response arrived within the configured timeout.
    #[error("airship request timed out after {timeout:?}: check network access to airship or raise the timeout")]
    Timeout {
        /// The configured limit that was hit.
        timeout: Duration,
    },

    /// The connection failed or broke: refused, DNS, TLS, or reading the body.
    #[error("could not reach airship: {message}")]
    Connect {
        /// Description of the failure, with the URL and the underlying cause.
        message: String,
    },

    /// The request or config cannot be sent at all, such as a non-POST method or a bad base URL.
    #[error("invalid airship request: {message}")]
    InvalidRequest {
        /// Description of the problem, naming the invalid value.
        message: String,
    },
}

impl AirshipError {
    /// Tells whether sending the same request again may succeed: 408, 429, 5xx, timeouts and
    /// connection failures. Other 4xx responses and invalid requests fail the same way again.
    pub fn is_retryable(&self) -> bool {
        match self {
            AirshipError::Api { status, .. } => matches!(status, 408 | 429 | 500..=599),
            AirshipError::Timeout { .. } => true,
            AirshipError::Connect { .. } => true,
            AirshipError::Unauthorized { .. } => false,
            AirshipError::InvalidRequest { .. } => false,
        }
    }

    /// Returns the wait Airship asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AirshipError::Api { retry_after, .. } => *retry_after,
            AirshipError::Unauthorized { .. } => None,
            AirshipError::Timeout { .. } => None,
            AirshipError::Connect { .. } => None,
            AirshipError::InvalidRequest { .. } => None,
        }
    }

    /// Returns the HTTP status when Airship sent a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            AirshipError::Api { status, .. } => Some(*status),
            AirshipError::Unauthorized { .. } => Some(401),
            AirshipError::Timeout { .. } => None,
            AirshipError::Connect { .. } => None,
            AirshipError::InvalidRequest { .. } => None,
        }
    }

    /// Builds [`AirshipError::Api`] from a non-2xx, non-401 response, picking fields from a JSON
    /// error body when there is one.
    pub(crate) fn from_api_response(
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    ) -> AirshipError {
        let parsed = parse_body(&body);
        let field = |key: &str| parsed.get(key).filter(|value| !value.is_null());

        let error = field("error")
            .or_else(|| field("message"))
            .map(|value| match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            });
        let error_code = field("error_code").and_then(Value::as_i64);
        let details = field("details").cloned();
        let operation_id = field("operation_id")
            .and_then(Value::as_str)
            .map(str::to_owned);

        AirshipError::Api {
            status,
            error,
            error_code,
            details,
            operation_id,
            body,
            retry_after,
        }
    }
}

fn describe_api_error(
    status: u16,
    error: Option<&str>,
    details: Option<&Value>,
    operation_id: Option<&str>,
    body: &str,
    retry_after: Option<Duration>,
) -> String {
    let mut message = format!("airship returned status {status}");

    match error {
        Some(error) => {
            let _ = write!(message, ": {error}");
        }
        None if !body.trim().is_empty() => {
            let _ = write!(message, ": {}", excerpt(body));
        }
        None => {}
    }
    if let Some(detail) = details.and_then(|details| details.get("error")?.as_str()) {
        let _ = write!(message, " ({detail}");
        if let Some(path) = details.and_then(|details| details.get("path")?.as_str()) {
            let _ = write!(message, " at {path}");
        }
        message.push(')');
    }
    if let Some(operation_id) = operation_id {
        let _ = write!(message, " [operation_id {operation_id}]");
    }

    let _ = write!(message, ": {}", status_hint(status));
    if let Some(wait) = retry_after {
        let _ = write!(message, " after {wait:?}");
    }
    message
}

/// Returns the next step for the caller after `status`.
fn status_hint(status: u16) -> &'static str {
    match status {
        400 => "the request was rejected as invalid and will fail again unchanged",
        403 => "the token may not use this endpoint; check its role and the project's plan",
        404 => "the path was not found; check the base url and the named user id",
        405 | 406 => "airship rejected the method or api version, which is a bug in this client",
        408 | 429 => "airship asked to slow down; retry later",
        413 => "the request body is too large; send fewer items per request",
        500..=599 => "airship had a server error; retry later",
        _ => "unexpected status from airship",
    }
}

/// Names the data center a base URL belongs to, so a 401 points at the likely fix.
fn describe_host(base_url: &str) -> String {
    let trimmed = base_url.trim_end_matches('/');
    if trimmed == DataCenter::Us.base_url() {
        format!("{trimmed} (data center `us`; use `eu` if the project is on Airship's EU site)")
    } else if trimmed == DataCenter::Eu.base_url() {
        format!("{trimmed} (data center `eu`; use `us` if the project is on Airship's US site)")
    } else {
        format!("{trimmed} (a custom base URL, not one of Airship's data centers)")
    }
}

fn body_suffix(body: &str) -> String {
    if body.trim().is_empty() {
        String::new()
    } else {
        format!(" (response: {})", excerpt(body))
    }
}

/// Returns the first [`BODY_EXCERPT_CHARS`] characters of `body` on one line.
fn excerpt(body: &str) -> String {
    let one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= BODY_EXCERPT_CHARS {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(BODY_EXCERPT_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unauthorized_names_data_center() {
        let error = |base_url: &str| {
            AirshipError::Unauthorized {
                base_url: base_url.into(),
                body: String::new(),
            }
            .to_string()
        };
        assert_eq!(
            error("https://go.urbanairship.com"),
            "airship rejected the credentials at https://go.urbanairship.com (data center `us`; use `eu` if the project is on Airship's EU site) (401 unauthorized): check the access token and app key, and that both belong to this data center"
        );
        assert!(error("https://go.airship.eu/").contains("(data center `eu`; use `us`"));
        assert!(error("http://127.0.0.1:9").contains("127.0.0.1:9 (a custom base URL"));
    }

    fn api(status: u16) -> AirshipError {
        AirshipError::from_api_response(status, String::new(), None)
    }

    #[test]
    fn retryable_statuses() {
        for status in [408, 429, 500, 502, 503, 504, 599] {
            assert!(api(status).is_retryable(), "{status} should be retryable");
        }
    }

    #[test]
    fn client_errors_not_retryable() {
        for status in [400, 403, 404, 405, 406, 409, 413, 422] {
            assert!(
                !api(status).is_retryable(),
                "{status} should not be retryable"
            );
        }
    }

    #[test]
    fn transport_errors_retryable() {
        let timeout = AirshipError::Timeout {
            timeout: Duration::from_secs(1),
        };
        let connect = AirshipError::Connect {
            message: "refused".into(),
        };

        assert!(timeout.is_retryable());
        assert!(connect.is_retryable());
        assert_eq!(timeout.status(), None);
    }

    #[test]
    fn unauthorized_and_invalid_not_retryable() {
        let unauthorized = AirshipError::Unauthorized {
            base_url: "https://go.airship.eu".into(),
            body: "Unauthorized".into(),
        };
        let invalid = AirshipError::InvalidRequest {
            message: "bad".into(),
        };

        assert!(!unauthorized.is_retryable());
        assert!(!invalid.is_retryable());
        assert_eq!(unauthorized.status(), Some(401));
    }

    #[test]
    fn json_error_body_fields_picked() {
        let body = json!({
            "ok": false,
            "error": "Could not parse request body.",
            "error_code": 40000,
            "details": {"error": "The key 'x' is not allowed", "path": "body.x"},
            "operation_id": "op-9"
        })
        .to_string();

        let error = AirshipError::from_api_response(400, body, None);

        let AirshipError::Api {
            error: message,
            error_code,
            details,
            operation_id,
            ..
        } = &error
        else {
            panic!("expected Api, got {error:?}");
        };
        assert_eq!(message.as_deref(), Some("Could not parse request body."));
        assert_eq!(*error_code, Some(40000));
        assert_eq!(details.as_ref().unwrap()["path"], "body.x");
        assert_eq!(operation_id.as_deref(), Some("op-9"));
        assert_eq!(
            error.to_string(),
            "airship returned status 400: Could not parse request body. \
             (The key 'x' is not allowed at body.x) [operation_id op-9]: \
             the request was rejected as invalid and will fail again unchanged"
        );
    }

    #[test]
    fn older_message_shape_used_as_error() {
        let error = AirshipError::from_api_response(400, r#"{"message":"bad"}"#.into(), None);

        assert!(matches!(error, AirshipError::Api { error: Some(ref text), .. } if text == "bad"));
    }

    #[test]
    fn long_body_shortened_in_message() {
        let error = AirshipError::from_api_response(502, "x".repeat(1000), None);

        let message = error.to_string();

        assert!(message.contains('…'), "{message}");
        assert!(message.len() < 500, "{message}");
    }

    #[test]
    fn retry_after_in_message() {
        let error =
            AirshipError::from_api_response(429, String::new(), Some(Duration::from_secs(2)));

        assert_eq!(
            error.to_string(),
            "airship returned status 429: airship asked to slow down; retry later after 2s"
        );
        assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    }
}
