//! Body shape of `POST /api/named_users/{id}/attributes`: `{"attributes":[...]}` with operations.

use serde_json::Value;

use crate::reply::ApiError;

/// Checks for a non-empty `attributes` array whose items are objects with `action` `set` or
/// `remove` and a string `key`.
pub(crate) fn validate_named_user_attributes(body: &Value) -> Result<(), ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::invalid_body(
            "body",
            "expected a JSON object with an attributes array",
        ));
    };
    let operations = match fields.get("attributes") {
        Some(Value::Array(operations)) if !operations.is_empty() => operations,
        Some(_) | None => {
            return Err(ApiError::invalid_body(
                "body.attributes",
                "attributes must be a non-empty array of set or remove operations",
            ))
        }
    };

    for (index, operation) in operations.iter().enumerate() {
        let path = format!("body.attributes[{index}]");
        let Value::Object(operation) = operation else {
            return Err(ApiError::invalid_body(
                path,
                "expected an attribute operation object",
            ));
        };
        match operation.get("action").and_then(Value::as_str) {
            Some("set" | "remove") => {}
            Some(_) | None => {
                return Err(ApiError::invalid_body(
                    format!("{path}.action"),
                    "action must be set or remove",
                ))
            }
        }
        if !operation.get("key").is_some_and(Value::is_string) {
            return Err(ApiError::invalid_body(
                format!("{path}.key"),
                "key is required and must be a string",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn set_and_remove_accepted() {
        let body = json!({"attributes": [
            {"action": "set", "key": "first_name", "value": "Ada"},
            {"action": "remove", "key": "loyalty_tier"}
        ]});

        assert_eq!(validate_named_user_attributes(&body), Ok(()));
    }

    #[test]
    fn bare_array_rejected() {
        let body = json!([{"action": "set", "key": "k", "value": 1}]);

        let error = validate_named_user_attributes(&body).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body"));
    }

    #[test]
    fn empty_attributes_rejected() {
        let error = validate_named_user_attributes(&json!({"attributes": []})).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body.attributes"));
    }

    #[test]
    fn unknown_action_rejected() {
        let body = json!({"attributes": [{"action": "increment", "key": "k"}]});

        let error = validate_named_user_attributes(&body).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body.attributes[0].action"));
    }

    #[test]
    fn missing_key_rejected() {
        let body = json!({"attributes": [{"action": "remove"}]});

        let error = validate_named_user_attributes(&body).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body.attributes[0].key"));
    }
}
