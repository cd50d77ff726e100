//! Airship's response shapes: the success object, the JSON error object and the plain-text 401.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// Content type of custom-events responses.
pub(crate) const VND_JSON_V3: &str = "application/vnd.urbanairship+json; version=3";

/// `error` text Airship uses for every body it cannot parse or validate.
pub(crate) const PARSE_ERROR: &str = "Could not parse request body.";

/// An Airship JSON error: `{"ok":false,"error","error_code","details":{"error","path"},"operation_id"}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) error: String,
    /// The status followed by two digits, such as 40000.
    pub(crate) error_code: u32,
    /// `details.error`: what exactly is wrong.
    pub(crate) detail: Option<String>,
    /// `details.path`: JSON path of the offending value, such as `body[0].user`.
    pub(crate) path: Option<String>,
}

impl ApiError {
    /// Builds a 400 for a body that is valid JSON but has the wrong shape at `path`.
    pub(crate) fn invalid_body(path: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error: PARSE_ERROR.into(),
            error_code: 40000,
            detail: Some(detail.into()),
            path: Some(path.into()),
        }
    }

    /// Builds Airship's 404 for a named user that does not exist.
    pub(crate) fn entity_not_found() -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error: "Entity not found".into(),
            error_code: 40401,
            detail: None,
            path: None,
        }
    }

    /// Builds an error without details, such as 404, 405 or 406.
    pub(crate) fn plain(status: StatusCode, error: &str) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            error_code: u32::from(status.as_u16()) * 100,
            detail: None,
            path: None,
        }
    }

    fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("ok".into(), Value::Bool(false));
        body.insert("error".into(), Value::String(self.error.clone()));
        body.insert("error_code".into(), json!(self.error_code));
        if self.detail.is_some() || self.path.is_some() {
            let mut details = Map::new();
            if let Some(detail) = &self.detail {
                details.insert("error".into(), Value::String(detail.clone()));
            }
            if let Some(path) = &self.path {
                details.insert("path".into(), Value::String(path.clone()));
            }
            body.insert("details".into(), Value::Object(details));
        }
        body.insert("operation_id".into(), Value::String(new_operation_id()));
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Airship sends 404 as its vendor type and the other JSON errors as plain JSON.
        let content_type = if self.status == StatusCode::NOT_FOUND {
            "application/vnd.urbanairship+json"
        } else {
            "application/json"
        };
        json_response(self.status, content_type, &self.to_json())
    }
}

/// Reason a request was rejected, turned into Airship's response for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rejection {
    /// 401 with a `text/plain` body, as Airship sends it; the text gives the reason.
    Unauthorized(&'static str),
    /// Any JSON error object.
    Api(ApiError),
}

impl From<ApiError> for Rejection {
    fn from(error: ApiError) -> Rejection {
        Rejection::Api(error)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Unauthorized(reason) => (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("Unauthorized: {reason}"),
            )
                .into_response(),
            Rejection::Api(error) => error.into_response(),
        }
    }
}

/// Builds a 200 `{"ok":true,"operation_id":<new uuid>}` with `content_type`.
pub(crate) fn ok(content_type: &'static str) -> Response {
    ok_with(content_type, Map::new())
}

/// Builds a 200 like [`ok`] with the extra top-level `fields`, such as `tag_warnings`.
pub(crate) fn ok_with(content_type: &'static str, fields: Map<String, Value>) -> Response {
    let mut body = Map::new();
    body.insert("ok".into(), Value::Bool(true));
    body.insert("operation_id".into(), Value::String(new_operation_id()));
    body.extend(fields);
    json_response(StatusCode::OK, content_type, &Value::Object(body))
}

/// Builds the response to an injected error `status`: a text body for 401, as Airship sends it,
/// and Airship's JSON error object otherwise, with `Retry-After` when `retry_after` is set.
pub(crate) fn injected_error(status: StatusCode, retry_after: Option<u64>) -> Response {
    let mut response = if status == StatusCode::UNAUTHORIZED {
        Rejection::Unauthorized("injected fault").into_response()
    } else {
        let reason = status.canonical_reason().unwrap_or("Error");
        ApiError::plain(status, reason).into_response()
    };
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

pub(crate) fn json_response(
    status: StatusCode,
    content_type: &'static str,
    body: &Value,
) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body.to_string(),
    )
        .into_response()
}

fn new_operation_id() -> String {
    Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_body_json_shape() {
        let error = ApiError::invalid_body("body[0]", "expected an object");

        let body = error.to_json();

        assert_eq!(body["ok"], json!(false));
        assert_eq!(body["error"], json!("Could not parse request body."));
        assert_eq!(body["error_code"], json!(40000));
        assert_eq!(
            body["details"],
            json!({"error": "expected an object", "path": "body[0]"})
        );
        assert!(Uuid::parse_str(body["operation_id"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn plain_error_code_prefixed_by_status() {
        let body = ApiError::plain(StatusCode::NOT_ACCEPTABLE, "Not acceptable").to_json();

        assert_eq!(body["error_code"], json!(40600));
        assert!(body.get("details").is_none());
    }
}
