//! Body shape of `POST /api/custom-events`: an array of 1 to 100 event objects.

use serde_json::Value;

use crate::reply::ApiError;

/// Most events Airship accepts in one request.
const MAX_EVENTS: usize = 100;

/// Checks that `body` is an array of 1 to 100 objects.
///
/// NOTE: Airship appears to accept a bare event object too, but the spec requires an array and
/// this destination always sends one, so the mock rejects the bare object to catch regressions.
pub(crate) fn validate_custom_events(body: &Value) -> Result<(), ApiError> {
    let Value::Array(events) = body else {
        return Err(ApiError::invalid_body(
            "body",
            "expected an array of custom event objects",
        ));
    };
    if events.is_empty() || events.len() > MAX_EVENTS {
        return Err(ApiError::invalid_body(
            "body",
            format!(
                "expected 1 to {MAX_EVENTS} custom events, got {}",
                events.len()
            ),
        ));
    }
    if let Some(index) = events.iter().position(|event| !event.is_object()) {
        return Err(ApiError::invalid_body(
            format!("body[{index}]"),
            "expected a custom event object",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn array_of_objects_accepted() {
        let body = json!([{"user": {"named_user_id": "u"}, "body": {"name": "e"}}]);

        assert_eq!(validate_custom_events(&body), Ok(()));
    }

    #[test]
    fn bare_object_rejected() {
        let error = validate_custom_events(&json!({"body": {"name": "e"}})).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body"));
    }

    #[test]
    fn empty_and_oversized_arrays_rejected() {
        let too_many = Value::Array(vec![json!({}); 101]);

        assert!(validate_custom_events(&json!([])).is_err());
        assert!(validate_custom_events(&too_many).is_err());
        assert!(validate_custom_events(&Value::Array(vec![json!({}); 100])).is_ok());
    }

    #[test]
    fn non_object_item_named_by_index() {
        let error = validate_custom_events(&json!([{}, "event"])).unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body[1]"));
    }
}
