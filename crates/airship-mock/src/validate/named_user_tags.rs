//! Body shape of `POST /api/named_users/tags`: an audience and at least one tag operation.

use serde_json::Value;

use crate::reply::ApiError;

const OPERATIONS: [&str; 3] = ["add", "remove", "set"];

/// Checks for `audience.named_user_id` and at least one of `add`, `remove` or `set`, each an
/// object of tag groups.
pub(crate) fn validate_named_user_tags(body: &Value) -> Result<(), ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::invalid_body("body", "expected a JSON object"));
    };

    let audience = fields
        .get("audience")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::invalid_body(
                "body.audience",
                "audience is required and must be an object",
            )
        })?;
    match audience.get("named_user_id") {
        // Airship's python library sends a single id as a bare string.
        Some(Value::String(_)) => {}
        Some(Value::Array(ids)) if !ids.is_empty() && ids.iter().all(Value::is_string) => {}
        Some(_) | None => {
            return Err(ApiError::invalid_body(
                "body.audience.named_user_id",
                "named_user_id must be a string or a non-empty array of strings",
            ))
        }
    }

    let mut operation_count = 0;
    for operation in OPERATIONS {
        match fields.get(operation) {
            Some(Value::Object(_)) => operation_count += 1,
            Some(_) => {
                return Err(ApiError::invalid_body(
                    format!("body.{operation}"),
                    format!("{operation} must be an object of tag groups"),
                ))
            }
            None => {}
        }
    }
    if operation_count == 0 {
        return Err(ApiError::invalid_body(
            "body",
            "at least one of add, remove or set is required",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn add_and_remove_accepted() {
        let body = json!({
            "audience": {"named_user_id": ["u-42"]},
            "add": {"segment": ["plan_pro"]},
            "remove": {"segment": ["plan_free"]}
        });

        assert_eq!(validate_named_user_tags(&body), Ok(()));
    }

    #[test]
    fn missing_audience_rejected() {
        let error = validate_named_user_tags(&json!({"add": {"g": ["t"]}})).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body.audience"));
    }

    #[test]
    fn missing_named_user_id_rejected() {
        let body = json!({"audience": {"channel": ["c"]}, "add": {"g": ["t"]}});

        let error = validate_named_user_tags(&body).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body.audience.named_user_id"));
    }

    #[test]
    fn no_operation_rejected() {
        let body = json!({"audience": {"named_user_id": "u-42"}});

        let error = validate_named_user_tags(&body).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body"));
    }

    #[test]
    fn non_object_operation_rejected() {
        let body = json!({"audience": {"named_user_id": "u-42"}, "set": ["t"]});

        let error = validate_named_user_tags(&body).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body.set"));
    }
}
