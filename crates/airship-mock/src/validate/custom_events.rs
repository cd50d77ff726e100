//! Body of `POST /api/custom-events`: an array of 1 to 100 event objects.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::{check_named_user_id, json_type_name, optional_time, reject_unknown_keys};
use crate::reply::ApiError;

/// Maximum number of events in one request.
const MAX_EVENTS: usize = 100;
/// Oldest `occurred` Airship accepts, counted back from now.
const MAX_EVENT_AGE: Duration = Duration::days(90);
/// Maximum length of a top-level property string, in characters.
const MAX_PROPERTY_STRING_CHARS: usize = 255;
/// Limits of `external_campaigns.categories`: item count and characters per item.
const MAX_CAMPAIGN_CATEGORIES: usize = 10;
const MAX_CAMPAIGN_CATEGORY_CHARS: usize = 64;

const EVENT_KEYS: [&str; 3] = ["occurred", "user", "body"];
/// The identifiers of `user`, exactly one of which is required.
const USER_KEYS: [&str; 6] = [
    "named_user_id",
    "ios_channel",
    "android_channel",
    "amazon_channel",
    "web_channel",
    "channel",
];
const BODY_KEYS: [&str; 9] = [
    "name",
    "value",
    "transaction",
    "interaction_id",
    "interaction_type",
    "session_id",
    "properties",
    "unique_id",
    "external_campaigns",
];
const BODY_STRING_KEYS: [&str; 5] = [
    "transaction",
    "interaction_id",
    "interaction_type",
    "session_id",
    "unique_id",
];

/// One accepted custom event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValidEvent {
    /// The named user it belongs to, or `None` for an event sent for a channel.
    pub(crate) named_user_id: Option<String>,
    /// The event as sent, with `occurred` set to `now` when it was missing.
    pub(crate) event: Value,
}

/// Checks `body` as Airship does and returns its events.
///
/// NOTE: Airship appears to accept a bare event object too, but the spec requires an array and
/// this destination always sends one, so the mock rejects the bare object to catch regressions.
pub(crate) fn validate_custom_events(
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Vec<ValidEvent>, ApiError> {
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
    events
        .iter()
        .enumerate()
        .map(|(index, event)| validate_event(event, &format!("body[{index}]"), now))
        .collect()
}

fn validate_event(event: &Value, path: &str, now: DateTime<Utc>) -> Result<ValidEvent, ApiError> {
    let Value::Object(fields) = event else {
        return Err(ApiError::invalid_body(
            path,
            "expected a custom event object",
        ));
    };
    reject_unknown_keys(fields, &EVENT_KEYS, path)?;

    let named_user_id = validate_user(fields.get("user"), &format!("{path}.user"))?;
    validate_body(fields.get("body"), &format!("{path}.body"))?;

    let occurred_path = format!("{path}.occurred");
    let occurred = optional_time(fields.get("occurred"), &occurred_path)?;
    if let Some(occurred) = occurred {
        check_occurred(occurred, now, &occurred_path)?;
    }

    let mut stored = fields.clone();
    if occurred.is_none() {
        stored.insert(
            "occurred".into(),
            Value::String(now.format("%Y-%m-%dT%H:%M:%S").to_string()),
        );
    }
    Ok(ValidEvent {
        named_user_id,
        event: Value::Object(stored),
    })
}

/// Checks `user` and returns its named-user id, if that is the identifier it uses.
fn validate_user(user: Option<&Value>, path: &str) -> Result<Option<String>, ApiError> {
    let user = match user {
        Some(Value::Object(user)) => user,
        Some(other) => {
            return Err(ApiError::invalid_body(
                path,
                format!("user must be an object, found {}", json_type_name(other)),
            ))
        }
        None => return Err(ApiError::invalid_body(path, "user is required")),
    };
    reject_unknown_keys(user, &USER_KEYS, path)?;
    if user.len() != 1 {
        return Err(ApiError::invalid_body(
            path,
            format!(
                "user must have exactly one of {}, found {}",
                USER_KEYS.join(", "),
                user.len()
            ),
        ));
    }
    let (key, value) = user.iter().next().expect("user has one key");
    let key_path = format!("{path}.{key}");
    let Value::String(id) = value else {
        return Err(ApiError::invalid_body(
            key_path,
            format!("{key} must be a string, found {}", json_type_name(value)),
        ));
    };
    if key == "named_user_id" {
        check_named_user_id(id, &key_path)?;
        return Ok(Some(id.clone()));
    }
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::invalid_body(
            key_path,
            format!("{key} {id:?} is not a channel id (a UUID)"),
        ));
    }
    Ok(None)
}

fn validate_body(body: Option<&Value>, path: &str) -> Result<(), ApiError> {
    let body = match body {
        Some(Value::Object(body)) => body,
        Some(other) => {
            return Err(ApiError::invalid_body(
                path,
                format!("body must be an object, found {}", json_type_name(other)),
            ))
        }
        None => return Err(ApiError::invalid_body(path, "body is required")),
    };
    reject_unknown_keys(body, &BODY_KEYS, path)?;

    validate_name(body.get("name"), &format!("{path}.name"))?;
    if let Some(value) = body.get("value") {
        if !value.is_number() {
            return Err(ApiError::invalid_body(
                format!("{path}.value"),
                format!("value must be a number, found {}", json_type_name(value)),
            ));
        }
    }
    for key in BODY_STRING_KEYS {
        if let Some(value) = body.get(key).filter(|value| !value.is_string()) {
            return Err(ApiError::invalid_body(
                format!("{path}.{key}"),
                format!("{key} must be a string, found {}", json_type_name(value)),
            ));
        }
    }
    if let Some(properties) = body.get("properties") {
        validate_properties(properties, &format!("{path}.properties"))?;
    }
    if let Some(campaigns) = body.get("external_campaigns") {
        validate_campaigns(campaigns, &format!("{path}.external_campaigns"))?;
    }
    Ok(())
}

/// Checks the event name. Airship rejects any name with an upper-case letter, and its schema
/// pattern is `[A-Z]`, so only ASCII letters count and `É` passes.
fn validate_name(name: Option<&Value>, path: &str) -> Result<(), ApiError> {
    match name {
        Some(Value::String(name)) if name.is_empty() => {
            Err(ApiError::invalid_body(path, "name must not be empty"))
        }
        Some(Value::String(name)) if name.chars().any(|c| c.is_ascii_uppercase()) => {
            Err(ApiError::invalid_body(
                path,
                format!("name {name:?} contains upper-case characters; send it in lower case"),
            ))
        }
        Some(Value::String(_)) => Ok(()),
        Some(other) => Err(ApiError::invalid_body(
            path,
            format!("name must be a string, found {}", json_type_name(other)),
        )),
        None => Err(ApiError::invalid_body(path, "name is required")),
    }
}

/// Checks `properties`: any keys and nesting, with top-level strings of at most 255 characters.
///
/// NOTE: Airship's spec limits property strings to 255 characters without saying whether nested
/// values count or which status a longer one gets. The mock checks top-level strings only and
/// responds with 400.
fn validate_properties(properties: &Value, path: &str) -> Result<(), ApiError> {
    let Value::Object(properties) = properties else {
        return Err(ApiError::invalid_body(
            path,
            format!(
                "properties must be an object, found {}",
                json_type_name(properties)
            ),
        ));
    };
    for (key, value) in properties {
        if let Value::String(text) = value {
            let length = text.chars().count();
            if length > MAX_PROPERTY_STRING_CHARS {
                return Err(ApiError::invalid_body(
                    format!("{path}.{key}"),
                    format!("property string has {length} characters; Airship accepts at most {MAX_PROPERTY_STRING_CHARS}"),
                ));
            }
        }
    }
    Ok(())
}

fn validate_campaigns(campaigns: &Value, path: &str) -> Result<(), ApiError> {
    let Value::Object(campaigns) = campaigns else {
        return Err(ApiError::invalid_body(
            path,
            "external_campaigns must be an object",
        ));
    };
    reject_unknown_keys(campaigns, &["categories"], path)?;
    let categories_path = format!("{path}.categories");
    let categories = match campaigns.get("categories") {
        Some(Value::Array(categories)) => categories,
        Some(_) | None => {
            return Err(ApiError::invalid_body(
                categories_path,
                "categories is required and must be an array of strings",
            ))
        }
    };
    if categories.is_empty() || categories.len() > MAX_CAMPAIGN_CATEGORIES {
        return Err(ApiError::invalid_body(
            categories_path,
            format!(
                "expected 1 to {MAX_CAMPAIGN_CATEGORIES} categories, got {}",
                categories.len()
            ),
        ));
    }
    for (index, category) in categories.iter().enumerate() {
        let valid = category
            .as_str()
            .is_some_and(|text| text.chars().count() <= MAX_CAMPAIGN_CATEGORY_CHARS);
        if !valid {
            return Err(ApiError::invalid_body(
                format!("{categories_path}[{index}]"),
                format!(
                    "a category is a string of at most {MAX_CAMPAIGN_CATEGORY_CHARS} characters"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks `occurred` against Airship's window: the last 90 days, and nothing in the future.
fn check_occurred(occurred: DateTime<Utc>, now: DateTime<Utc>, path: &str) -> Result<(), ApiError> {
    let occurred_text = occurred.format("%Y-%m-%dT%H:%M:%S");
    let now_text = now.format("%Y-%m-%dT%H:%M:%S");
    if now - occurred > MAX_EVENT_AGE {
        return Err(ApiError::invalid_body(
            path,
            format!("occurred {occurred_text} is more than 90 days before now ({now_text})"),
        ));
    }
    if occurred > now {
        return Err(ApiError::invalid_body(
            path,
            format!("occurred {occurred_text} is in the future (now is {now_text})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-05-02T12:00:00Z".parse().unwrap()
    }

    fn error_path(body: Value) -> String {
        validate_custom_events(&body, now())
            .unwrap_err()
            .path
            .unwrap_or_default()
    }

    fn event(body: Value) -> Value {
        json!([{"user": {"named_user_id": "u"}, "body": body}])
    }

    #[test]
    fn minimal_event_gets_occurred_now() {
        let events = validate_custom_events(&event(json!({"name": "e"})), now()).unwrap();

        assert_eq!(events.len(), 1);
        assert_eq!(events[0].named_user_id.as_deref(), Some("u"));
        assert_eq!(events[0].event["occurred"], json!("2026-05-02T12:00:00"));
    }

    #[test]
    fn full_event_accepted() {
        let body = json!([{
            "occurred": "2026-05-01 10:00:00",
            "user": {"web_channel": "3c070fc0-e976-4563-b088-ec8946176a01"},
            "body": {
                "name": "purchased", "value": 79.95, "transaction": "t", "interaction_id": "i",
                "interaction_type": "cdp", "session_id": "s", "unique_id": "x",
                "properties": {"items": [{"q": 1}], "nested": {"deep": "x".repeat(300)}},
                "external_campaigns": {"categories": ["shoes"]}
            }
        }]);

        let events = validate_custom_events(&body, now()).unwrap();

        assert_eq!(events[0].named_user_id, None);
        assert_eq!(events[0].event["occurred"], json!("2026-05-01 10:00:00"));
    }

    #[test]
    fn bare_object_and_counts_rejected() {
        assert_eq!(error_path(json!({"body": {"name": "e"}})), "body");
        assert_eq!(error_path(json!([])), "body");
        let one = json!({"user": {"named_user_id": "u"}, "body": {"name": "e"}});
        assert_eq!(error_path(Value::Array(vec![one.clone(); 101])), "body");
        assert!(validate_custom_events(&Value::Array(vec![one; 100]), now()).is_ok());
    }

    #[test]
    fn unknown_keys_rejected_at_each_level() {
        let top = json!([{"user": {"named_user_id": "u"}, "body": {"name": "e"}, "source": "x"}]);
        let user = json!([{"user": {"named_user_id": "u", "email": "e"}, "body": {"name": "e"}}]);

        assert_eq!(error_path(top), "body[0].source");
        assert_eq!(error_path(user), "body[0].user.email");
        assert_eq!(
            error_path(event(json!({"name": "e", "source": "x"}))),
            "body[0].body.source"
        );
    }

    #[test]
    fn upper_case_and_missing_names_rejected() {
        assert_eq!(
            error_path(event(json!({"name": "Order"}))),
            "body[0].body.name"
        );
        assert_eq!(error_path(event(json!({"name": ""}))), "body[0].body.name");
        assert_eq!(error_path(event(json!({}))), "body[0].body.name");
        assert!(validate_custom_events(&event(json!({"name": "édition ß"})), now()).is_ok());
    }

    #[test]
    fn user_needs_exactly_one_valid_identifier() {
        let none = json!([{"user": {}, "body": {"name": "e"}}]);
        let two = json!([{"user": {"named_user_id": "u", "channel": "3c070fc0-e976-4563-b088-ec8946176a01"}, "body": {"name": "e"}}]);
        let not_uuid = json!([{"user": {"ios_channel": "abc"}, "body": {"name": "e"}}]);
        let padded = json!([{"user": {"named_user_id": "u "}, "body": {"name": "e"}}]);

        assert_eq!(error_path(none), "body[0].user");
        assert_eq!(error_path(two), "body[0].user");
        assert_eq!(error_path(not_uuid), "body[0].user.ios_channel");
        assert_eq!(error_path(padded), "body[0].user.named_user_id");
    }

    #[test]
    fn occurred_window_enforced() {
        let at = |occurred: &str| json!([{"occurred": occurred, "user": {"named_user_id": "u"}, "body": {"name": "e"}}]);

        assert!(validate_custom_events(&at("2026-02-01T12:00:00"), now()).is_ok());
        assert!(validate_custom_events(&at("2026-05-02T12:00:00Z"), now()).is_ok());
        assert_eq!(error_path(at("2026-02-01T11:59:59")), "body[0].occurred");
        assert_eq!(error_path(at("2026-05-02T12:00:01")), "body[0].occurred");
        assert_eq!(
            error_path(at("2026-05-02T12:00:00+00:00")),
            "body[0].occurred"
        );
    }

    #[test]
    fn field_types_and_limits_checked() {
        let long = "x".repeat(256);

        assert_eq!(
            error_path(event(json!({"name": "e", "value": "12"}))),
            "body[0].body.value"
        );
        assert_eq!(
            error_path(event(json!({"name": "e", "session_id": 1}))),
            "body[0].body.session_id"
        );
        assert_eq!(
            error_path(event(json!({"name": "e", "properties": {"p": long}}))),
            "body[0].body.properties.p"
        );
        assert_eq!(
            error_path(event(
                json!({"name": "e", "external_campaigns": {"categories": []}})
            )),
            "body[0].body.external_campaigns.categories"
        );
        assert_eq!(
            error_path(event(
                json!({"name": "e", "external_campaigns": {"categories": ["c".repeat(65)]}})
            )),
            "body[0].body.external_campaigns.categories[0]"
        );
    }
}
