//! A successful Airship response, parsed without assuming its exact shape.

use serde::Serialize;
use serde_json::Value;

/// Keys under which Airship reports partially applied requests: `warnings` (named-user
/// attributes), `warning` (channel attributes), `tag_warnings` and `attribute_warnings`
/// (named-user tags and update).
const WARNING_KEYS: [&str; 4] = ["warnings", "warning", "tag_warnings", "attribute_warnings"];

/// A 2xx response from Airship.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AirshipResponse {
    /// HTTP status, 200 for every endpoint this destination calls.
    pub status: u16,
    /// Airship's id for the operation, which Airship support requests when investigating.
    pub operation_id: Option<String>,
    /// Groups, keys or users Airship skipped although the request succeeded.
    pub warnings: Vec<String>,
    /// The JSON body, `Value::String` of the raw text if it is not JSON, or `Null` if empty.
    pub body: Value,
}

impl AirshipResponse {
    /// Builds a response from the status and raw body text of a 2xx response.
    pub(crate) fn from_body(status: u16, text: &str) -> AirshipResponse {
        let body = parse_body(text);
        let operation_id = body
            .get("operation_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let warnings = collect_warnings(&body);

        AirshipResponse {
            status,
            operation_id,
            warnings,
            body,
        }
    }
}

/// Parses `text` as JSON, keeping it as a string when it is not JSON.
pub(crate) fn parse_body(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Gathers the warning entries of every warning key. Airship documents each as a CSV string;
/// an array of strings is accepted too.
fn collect_warnings(body: &Value) -> Vec<String> {
    let mut warnings = Vec::new();
    for key in WARNING_KEYS {
        match body.get(key) {
            Some(Value::String(csv)) => warnings.extend(split_csv(csv)),
            Some(Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(text) => warnings.extend(split_csv(text)),
                        other => warnings.push(other.to_string()),
                    }
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => warnings.push(other.to_string()),
        }
    }
    warnings
}

fn split_csv(csv: &str) -> impl Iterator<Item = String> + '_ {
    csv.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn operation_id_read_from_json_body() {
        let response = AirshipResponse::from_body(200, r#"{"ok":true,"operation_id":"op-1"}"#);

        assert_eq!(response.operation_id.as_deref(), Some("op-1"));
        assert_eq!(response.body, json!({"ok": true, "operation_id": "op-1"}));
        assert!(response.warnings.is_empty());
    }

    #[test]
    fn warnings_split_from_csv_strings() {
        let body = r#"{"ok":true,"tag_warnings":"crm, plan ,","attribute_warnings":"age"}"#;

        let response = AirshipResponse::from_body(200, body);

        assert_eq!(response.warnings, ["crm", "plan", "age"]);
    }

    #[test]
    fn warnings_read_from_arrays_and_singular_key() {
        let body = r#"{"ok":true,"warnings":["first_name","zipcode"],"warning":"unknown user"}"#;

        let response = AirshipResponse::from_body(200, body);

        assert_eq!(response.warnings, ["first_name", "zipcode", "unknown user"]);
    }

    #[test]
    fn non_json_body_kept_as_string() {
        let response = AirshipResponse::from_body(200, "accepted");

        assert_eq!(response.body, Value::String("accepted".into()));
        assert_eq!(response.operation_id, None);
    }

    #[test]
    fn empty_body_is_null() {
        let response = AirshipResponse::from_body(200, "");

        assert_eq!(response.body, Value::Null);
    }
}
