//! Body of `POST /api/named_users/{id}/attributes`: `{"attributes":[...]}` with set and remove
//! operations.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use super::{json_type_name, optional_time, reject_unknown_keys};
use crate::reply::ApiError;

/// Maximum length of an attribute key in Airship's API, in characters, `#<instance>` included.
const MAX_KEY_CHARS: usize = 64;
/// Latest expiry of a JSON attribute, counted from now.
const MAX_JSON_EXPIRY: Duration = Duration::days(731);

const SET_KEYS: [&str; 4] = ["action", "key", "value", "timestamp"];
const REMOVE_KEYS: [&str; 3] = ["action", "key", "timestamp"];

/// `set` or `remove`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttributeAction {
    Set,
    Remove,
}

/// One checked attribute operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AttributeOperation {
    pub(crate) action: AttributeAction,
    /// The key as sent, `<attribute>#<instance>` for JSON attributes.
    pub(crate) key: String,
    /// The value of a `set`: a string, number or object.
    pub(crate) value: Option<Value>,
}

impl AttributeOperation {
    /// Returns the attribute id: the key without `#<instance>`.
    pub(crate) fn attribute(&self) -> &str {
        self.key.split('#').next().unwrap_or_default()
    }

    /// Returns whether the key names an instance of a JSON attribute.
    pub(crate) fn has_instance(&self) -> bool {
        self.key.contains('#')
    }
}

/// Checks `body` as Airship does and returns its operations in request order.
///
/// The spec's schema shows the body as a bare array, but Airship's own example, docs and clients
/// use `{"attributes":[...]}`, which is what the mock accepts.
pub(crate) fn validate_named_user_attributes(
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Vec<AttributeOperation>, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::invalid_body(
            "body",
            "expected a JSON object with an attributes array",
        ));
    };
    reject_unknown_keys(fields, &["attributes"], "body")?;
    let operations = match fields.get("attributes") {
        Some(Value::Array(operations)) if !operations.is_empty() => operations,
        Some(_) | None => {
            return Err(ApiError::invalid_body(
                "body.attributes",
                "attributes must be a non-empty array of set or remove operations",
            ))
        }
    };

    let checked = operations
        .iter()
        .enumerate()
        .map(|(index, operation)| {
            validate_operation(operation, &format!("body.attributes[{index}]"), now)
        })
        .collect::<Result<Vec<_>, _>>()?;
    reject_set_remove_conflict(&checked)?;
    Ok(checked)
}

fn validate_operation(
    operation: &Value,
    path: &str,
    now: DateTime<Utc>,
) -> Result<AttributeOperation, ApiError> {
    let Value::Object(operation) = operation else {
        return Err(ApiError::invalid_body(
            path,
            "expected an attribute operation object",
        ));
    };
    let action = match operation.get("action").and_then(Value::as_str) {
        Some("set") => AttributeAction::Set,
        Some("remove") => AttributeAction::Remove,
        Some(_) | None => {
            return Err(ApiError::invalid_body(
                format!("{path}.action"),
                "action must be set or remove",
            ))
        }
    };
    let allowed: &[&str] = match action {
        AttributeAction::Set => &SET_KEYS,
        AttributeAction::Remove => &REMOVE_KEYS,
    };
    reject_unknown_keys(operation, allowed, path)?;

    let key = validate_key(operation.get("key"), &format!("{path}.key"))?;
    optional_time(operation.get("timestamp"), &format!("{path}.timestamp"))?;
    let value = match action {
        AttributeAction::Set => Some(validate_value(
            operation.get("value"),
            &format!("{path}.value"),
            now,
        )?),
        AttributeAction::Remove => None,
    };
    Ok(AttributeOperation { action, key, value })
}

fn validate_key(key: Option<&Value>, path: &str) -> Result<String, ApiError> {
    let key = match key {
        Some(Value::String(key)) => key,
        Some(_) | None => {
            return Err(ApiError::invalid_body(
                path,
                "key is required and must be a string",
            ))
        }
    };
    let length = key.chars().count();
    if length == 0 || length > MAX_KEY_CHARS {
        return Err(ApiError::invalid_body(
            path,
            format!("attribute key has {length} characters; Airship accepts 1 to {MAX_KEY_CHARS}"),
        ));
    }
    let parts: Vec<&str> = key.split('#').collect();
    if parts.len() > 2 || parts.iter().any(|part| part.is_empty()) {
        return Err(ApiError::invalid_body(
            path,
            format!("attribute key {key:?} must be <attribute> or <attribute>#<instance>, with no other `#`"),
        ));
    }
    Ok(key.clone())
}

/// Checks a `set` value: a string, a number or a JSON attribute object. Airship's schema has no
/// boolean, array or null value.
fn validate_value(
    value: Option<&Value>,
    path: &str,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    match value {
        Some(value @ (Value::String(_) | Value::Number(_))) => Ok(value.clone()),
        Some(Value::Object(object)) => {
            check_expiry(object, &format!("{path}.exp"), now)?;
            check_json_nulls(object, path)?;
            Ok(Value::Object(object.clone()))
        }
        Some(other) => Err(ApiError::invalid_body(
            path,
            format!(
                "value must be a string, a number or an object, found {}",
                json_type_name(other)
            ),
        )),
        None => Err(ApiError::invalid_body(path, "set requires a value")),
    }
}

/// Checks `exp` of a JSON attribute: epoch seconds, at most 731 days after now.
fn check_expiry(
    object: &Map<String, Value>,
    path: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(exp) = object.get("exp") else {
        return Ok(());
    };
    let Some(seconds) = exp.as_f64() else {
        return Err(ApiError::invalid_body(
            path,
            format!(
                "exp must be a number of epoch seconds, found {}",
                json_type_name(exp)
            ),
        ));
    };
    let latest = (now + MAX_JSON_EXPIRY).timestamp() as f64;
    if seconds > latest {
        return Err(ApiError::invalid_body(
            path,
            format!("exp {exp} is more than 731 days after now; Airship accepts at most {latest}"),
        ));
    }
    Ok(())
}

/// Rejects `null` as a property value or array item of a JSON attribute, because Airship's
/// schema allows only strings, numbers, booleans, objects and arrays there. Objects nested inside
/// are not checked, because the schema leaves them open.
fn check_json_nulls(object: &Map<String, Value>, path: &str) -> Result<(), ApiError> {
    fn check(value: &Value, path: &str) -> Result<(), ApiError> {
        match value {
            Value::Null => Err(ApiError::invalid_body(
                path,
                "a JSON attribute cannot contain null; leave the property out instead",
            )),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(index, item)| check(item, &format!("{path}[{index}]"))),
            Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Object(_) => Ok(()),
        }
    }
    object
        .iter()
        .try_for_each(|(key, value)| check(value, &format!("{path}.{key}")))
}

/// Rejects a request that sets and removes the same key, as Airship does.
fn reject_set_remove_conflict(operations: &[AttributeOperation]) -> Result<(), ApiError> {
    let set: BTreeSet<&str> = operations
        .iter()
        .filter(|operation| operation.action == AttributeAction::Set)
        .map(|operation| operation.key.as_str())
        .collect();
    let conflict = operations.iter().enumerate().find(|(_, operation)| {
        operation.action == AttributeAction::Remove && set.contains(operation.key.as_str())
    });
    match conflict {
        Some((index, operation)) => Err(ApiError::invalid_body(
            format!("body.attributes[{index}].key"),
            format!(
                "attribute {:?} is both set and removed in one request",
                operation.key
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-05-02T12:00:00Z".parse().unwrap()
    }

    fn error_path(body: Value) -> String {
        validate_named_user_attributes(&body, now())
            .unwrap_err()
            .path
            .unwrap_or_default()
    }

    fn single_operation(operation: Value) -> Value {
        json!({"attributes": [operation]})
    }

    #[test]
    fn set_and_remove_accepted() {
        let body = json!({"attributes": [
            {"action": "set", "key": "first_name", "value": "Ada", "timestamp": "2026-05-02T11:00:00"},
            {"action": "set", "key": "prefs#default", "value": {"a": [1, {"b": true}]}},
            {"action": "remove", "key": "loyalty_tier"}
        ]});

        let operations = validate_named_user_attributes(&body, now()).unwrap();

        assert_eq!(operations.len(), 3);
        assert_eq!(operations[1].attribute(), "prefs");
        assert!(operations[1].has_instance());
        assert_eq!(operations[2].action, AttributeAction::Remove);
        assert_eq!(operations[2].value, None);
    }

    #[test]
    fn shape_errors_named_by_path() {
        assert_eq!(
            error_path(json!([{"action": "set", "key": "k", "value": 1}])),
            "body"
        );
        assert_eq!(error_path(json!({"attributes": []})), "body.attributes");
        assert_eq!(
            error_path(json!({"attributes": [], "extra": 1})),
            "body.extra"
        );
        assert_eq!(
            error_path(single_operation(json!({"action": "increment", "key": "k"}))),
            "body.attributes[0].action"
        );
        assert_eq!(
            error_path(single_operation(json!({"action": "remove"}))),
            "body.attributes[0].key"
        );
        assert_eq!(
            error_path(single_operation(
                json!({"action": "remove", "key": "k", "value": 1})
            )),
            "body.attributes[0].value"
        );
        assert_eq!(
            error_path(single_operation(json!({"action": "set", "key": "k"}))),
            "body.attributes[0].value"
        );
        assert_eq!(
            error_path(single_operation(
                json!({"action": "set", "key": "k", "value": true})
            )),
            "body.attributes[0].value"
        );
        assert_eq!(
            error_path(single_operation(
                json!({"action": "set", "key": "k", "value": [1]})
            )),
            "body.attributes[0].value"
        );
        assert_eq!(
            error_path(single_operation(
                json!({"action": "set", "key": "k", "value": 1, "timestamp": "now"})
            )),
            "body.attributes[0].timestamp"
        );
    }

    #[test]
    fn key_limits() {
        let set =
            |key: String| single_operation(json!({"action": "set", "key": key, "value": "v"}));

        assert!(validate_named_user_attributes(&set("k".repeat(64)), now()).is_ok());
        assert_eq!(error_path(set("k".repeat(65))), "body.attributes[0].key");
        assert_eq!(error_path(set(String::new())), "body.attributes[0].key");
        assert_eq!(error_path(set("a#b#c".into())), "body.attributes[0].key");
        assert_eq!(error_path(set("a#".into())), "body.attributes[0].key");
    }

    #[test]
    fn set_and_remove_of_one_key_rejected() {
        let body = json!({"attributes": [
            {"action": "set", "key": "city", "value": "Oslo"},
            {"action": "remove", "key": "city"}
        ]});

        assert_eq!(error_path(body), "body.attributes[1].key");
    }

    #[test]
    fn json_attribute_nulls_rejected() {
        let set = |value: Value| {
            single_operation(json!({"action": "set", "key": "prefs#a", "value": value}))
        };

        assert!(validate_named_user_attributes(&set(json!({"a": {"b": null}})), now()).is_ok());
        assert_eq!(
            error_path(set(json!({"a": null}))),
            "body.attributes[0].value.a"
        );
        assert_eq!(
            error_path(set(json!({"a": [1, [null]]}))),
            "body.attributes[0].value.a[1][0]"
        );
    }

    #[test]
    fn json_expiry_limited_to_731_days() {
        let with_exp = |exp: Value| {
            single_operation(
                json!({"action": "set", "key": "prefs#a", "value": {"exp": exp, "x": 1}}),
            )
        };
        let latest = (now() + Duration::days(731)).timestamp();

        assert!(validate_named_user_attributes(&with_exp(json!(latest)), now()).is_ok());
        assert_eq!(
            error_path(with_exp(json!(latest + 1))),
            "body.attributes[0].value.exp"
        );
        assert_eq!(
            error_path(with_exp(json!("soon"))),
            "body.attributes[0].value.exp"
        );
    }
}
