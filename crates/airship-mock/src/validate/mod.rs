//! Body checks, one module per endpoint. Each returns the Airship 400 error for the first problem,
//! or the parsed request for the state changes that follow.
//!
//! These are the checks Airship rejects with 400: shape, unknown keys, and the documented limits
//! on names, lengths, counts and dates. Whether a tag group, attribute or named user exists is
//! decided later, against the project, and gives warnings instead.

mod custom_events;
mod named_user_attributes;
mod named_user_tags;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use crate::reply::ApiError;

pub(crate) use custom_events::{validate_custom_events, ValidEvent};
pub(crate) use named_user_attributes::{
    validate_named_user_attributes, AttributeAction, AttributeOperation,
};
pub(crate) use named_user_tags::{validate_named_user_tags, TagChange};

/// Maximum length of a named-user id, in characters.
pub(crate) const MAX_NAMED_USER_CHARS: usize = 128;

/// Rejects the first key of `object` that is not in `allowed`, as Airship rejects any key its
/// schema does not define.
pub(crate) fn reject_unknown_keys(
    object: &Map<String, Value>,
    allowed: &[&str],
    path: &str,
) -> Result<(), ApiError> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(ApiError::invalid_body(
            format!("{path}.{key}"),
            format!(
                "key '{key}' is not allowed here; allowed keys: {}",
                allowed.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// Returns why `id` is not a valid named-user id, or `None` when it is.
///
/// Airship's schema pattern is `^(?!\s).{1,128}(?<!\s)$`: 1 to 128 characters, no whitespace at
/// either end, and, because `.` does not match them, no line terminators anywhere.
pub(crate) fn named_user_id_problem(id: &str) -> Option<String> {
    let length = id.chars().count();
    if length == 0 || length > MAX_NAMED_USER_CHARS {
        return Some(format!(
            "named user id has {length} characters; Airship accepts 1 to {MAX_NAMED_USER_CHARS}"
        ));
    }
    if id.starts_with(char::is_whitespace) || id.ends_with(char::is_whitespace) {
        return Some(format!(
            "named user id {id:?} has leading or trailing whitespace"
        ));
    }
    if id.chars().any(is_line_terminator) {
        return Some(format!("named user id {id:?} contains a line break"));
    }
    None
}

/// Characters a regular expression's `.` does not match in Java and JavaScript.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Checks a named-user id at `path` with [`named_user_id_problem`].
pub(crate) fn check_named_user_id(id: &str, path: &str) -> Result<(), ApiError> {
    match named_user_id_problem(id) {
        Some(problem) => Err(ApiError::invalid_body(path, problem)),
        None => Ok(()),
    }
}

/// Parses Airship's date-time form `YYYY-MM-DD[T| ]HH:MM:SS[Z]`, which is UTC. Fractional seconds
/// and offsets are rejected because Airship's form has neither.
pub(crate) fn parse_airship_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// Checks an optional date-time field at `path` and returns it parsed.
pub(crate) fn optional_time(
    value: Option<&Value>,
    path: &str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    match value {
        None => Ok(None),
        Some(Value::String(text)) => parse_airship_time(text).map(Some).ok_or_else(|| {
            ApiError::invalid_body(
                path,
                format!("{text:?} is not a date-time of the form YYYY-MM-DDTHH:MM:SS, in UTC"),
            )
        }),
        Some(other) => Err(ApiError::invalid_body(
            path,
            format!(
                "expected a date-time string, found {}",
                json_type_name(other)
            ),
        )),
    }
}

pub(crate) use segment_model::json_type_name;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn named_user_id_limits() {
        assert_eq!(named_user_id_problem("u-42"), None);
        assert_eq!(named_user_id_problem(&"é".repeat(128)), None);
        assert_eq!(named_user_id_problem("in ner"), None);

        assert!(named_user_id_problem("").is_some());
        assert!(named_user_id_problem(&"u".repeat(129)).is_some());
        assert!(named_user_id_problem(" u").is_some());
        assert!(named_user_id_problem("u\t").is_some());
        assert!(named_user_id_problem("u\u{3000}").is_some());
        assert!(named_user_id_problem("a\nb").is_some());
        assert!(named_user_id_problem("a\u{2028}b").is_some());
    }

    #[test]
    fn airship_time_forms() {
        let expected: DateTime<Utc> = "2026-05-02T12:00:00Z".parse().unwrap();

        for text in [
            "2026-05-02T12:00:00",
            "2026-05-02T12:00:00Z",
            "2026-05-02 12:00:00",
        ] {
            assert_eq!(parse_airship_time(text), Some(expected), "{text}");
        }
        for text in [
            "2026-05-02T12:00:00.5",
            "2026-05-02T12:00:00+02:00",
            "2026-05-02",
            "yesterday",
        ] {
            assert_eq!(parse_airship_time(text), None, "{text}");
        }
    }

    #[test]
    fn unknown_key_named_with_path() {
        let object = json!({"a": 1, "zz": 2});

        let error =
            reject_unknown_keys(object.as_object().unwrap(), &["a"], "body[0]").unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body[0].zz"));
    }
}
