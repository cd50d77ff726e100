//! Per-named-user state: tags by group, attributes and custom events, and how each accepted
//! request changes it.
//!
//! How named users come to exist, since Airship documents it for attributes only:
//! - Lenient mode (the default): the first accepted write of any kind (tags, attributes or a
//!   custom event) creates the named user, so any user id works without warnings.
//! - Strict mode: only the configured known named users exist, plus those added through
//!   [`MockAirship::add_named_user`](crate::MockAirship::add_named_user) or
//!   `POST /__mock/named_users`. This models a project whose users were created by associating
//!   channels, which this destination never does.
//!
//! In strict mode a write to an unknown named user changes nothing:
//! - attributes get 200 with every key of the request in `warnings`, as Airship documents;
//! - tags get 200 with the unknown ids in `warnings`, while the known ids of the same audience
//!   get the change;
//! - custom events get a plain 200, because Airship accepts them and resolves the named user
//!   later.
//!
//! NOTE: Airship does not document how tags and custom events treat a named user that does not
//! exist. The strict-mode responses for those two are a guess modelled on the attributes endpoint.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Number, Value};

use crate::project::{AttributeType, Project};
use crate::reply::ApiError;
use crate::validate::{AttributeAction, AttributeOperation, TagChange, ValidEvent};

/// Maximum length of a text attribute value, in characters, per Airship's attributes guide.
const MAX_TEXT_CHARS: usize = 255;

/// One named user as the mock stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedUser {
    pub named_user_id: String,
    /// When the mock created it, in Airship's date-time form.
    pub created: String,
    /// When an accepted request last changed it.
    pub last_modified: String,
    /// Tags by group, each group sorted.
    pub tags: BTreeMap<String, BTreeSet<String>>,
    /// Attribute values by key as sent (`<attribute>#<instance>` for JSON attributes). Number
    /// values sent as numeric strings are stored as numbers, and dates in UTC as
    /// `YYYY-MM-DDTHH:MM:SS`.
    pub attributes: BTreeMap<String, Value>,
    /// Accepted custom events as sent, oldest first, each with `occurred` filled in.
    pub custom_events: Vec<Value>,
}

impl NamedUser {
    fn new(id: &str, now: DateTime<Utc>) -> NamedUser {
        let stamp = airship_time(now);
        NamedUser {
            named_user_id: id.to_owned(),
            created: stamp.clone(),
            last_modified: stamp,
            tags: BTreeMap::new(),
            attributes: BTreeMap::new(),
            custom_events: Vec::new(),
        }
    }

    /// Returns the `named_user` object of `GET /api/named_users`.
    ///
    /// `custom_events` is the mock's own addition, so tests can assert them; Airship's object
    /// has no such key. `user_attributes`, `channels` and `subscription_lists` are always empty
    /// because the mock has no channels.
    pub fn to_airship_json(&self) -> Value {
        json!({
            "named_user_id": self.named_user_id,
            "created": self.created,
            "last_modified": self.last_modified,
            "tags": self.tags,
            "attributes": self.attributes,
            "user_attributes": {},
            "channels": [],
            "subscription_lists": [],
            "custom_events": self.custom_events,
        })
    }
}

/// Warnings of a request that was accepted with 200.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Warnings {
    /// Tag groups that do not exist, for `tag_warnings`.
    pub(crate) tag_warnings: Vec<String>,
    /// Attribute keys or named users that were skipped, for `warnings`.
    pub(crate) warnings: Vec<String>,
}

/// Every named user of one mock server.
#[derive(Debug)]
pub(crate) struct NamedUsers {
    strict: bool,
    known: Vec<String>,
    users: BTreeMap<String, NamedUser>,
}

impl NamedUsers {
    pub(crate) fn new(strict: bool, known: &[String], now: DateTime<Utc>) -> NamedUsers {
        let mut users = NamedUsers {
            strict,
            known: known.to_vec(),
            users: BTreeMap::new(),
        };
        users.reset(now);
        users
    }

    /// Goes back to the known named users only, each with no tags, attributes or events.
    pub(crate) fn reset(&mut self, now: DateTime<Utc>) {
        self.users = self
            .known
            .iter()
            .map(|id| (id.clone(), NamedUser::new(id, now)))
            .collect();
    }

    pub(crate) fn get(&self, id: &str) -> Option<&NamedUser> {
        self.users.get(id)
    }

    pub(crate) fn all(&self) -> Vec<NamedUser> {
        self.users.values().cloned().collect()
    }

    /// Creates `id` with no tags or attributes; an existing user is left unchanged.
    pub(crate) fn add(&mut self, id: &str, now: DateTime<Utc>) {
        self.users
            .entry(id.to_owned())
            .or_insert_with(|| NamedUser::new(id, now));
    }

    /// Returns the user to write to: an existing one, a new one in lenient mode, or `None` for
    /// an unknown id in strict mode.
    fn writable(&mut self, id: &str, now: DateTime<Utc>) -> Option<&mut NamedUser> {
        if self.strict && !self.users.contains_key(id) {
            return None;
        }
        let user = self
            .users
            .entry(id.to_owned())
            .or_insert_with(|| NamedUser::new(id, now));
        user.last_modified = airship_time(now);
        Some(user)
    }

    /// Applies a checked tags request.
    ///
    /// Groups the project does not define are skipped and listed in `tag_warnings`.
    ///
    /// NOTE: Airship documents 200 with `tag_warnings` only when at least one group exists. The 400
    /// for a request without any existing group is inferred from that, not documented.
    pub(crate) fn apply_tags(
        &mut self,
        project: &Project,
        change: &TagChange,
        now: DateTime<Utc>,
    ) -> Result<Warnings, ApiError> {
        let groups = change.groups();
        let unknown: Vec<String> = groups
            .iter()
            .filter(|group| !project.has_tag_group(group))
            .map(|group| (*group).to_owned())
            .collect();
        if unknown.len() == groups.len() {
            return Err(ApiError::invalid_body(
                "body",
                format!(
                    "no tag group in the request exists in the project: {}",
                    quoted_list(&unknown)
                ),
            ));
        }

        let mut warnings = Warnings {
            tag_warnings: unknown,
            warnings: Vec::new(),
        };
        for id in &change.named_users {
            let Some(user) = self.writable(id, now) else {
                warnings.warnings.push(id.clone());
                continue;
            };
            for (group, tags) in change.set.iter().filter(|(g, _)| project.has_tag_group(g)) {
                user.tags
                    .insert(group.clone(), tags.iter().cloned().collect());
            }
            for (group, tags) in change.add.iter().filter(|(g, _)| project.has_tag_group(g)) {
                user.tags
                    .entry(group.clone())
                    .or_default()
                    .extend(tags.iter().cloned());
            }
            for (group, tags) in change
                .remove
                .iter()
                .filter(|(g, _)| project.has_tag_group(g))
            {
                if let Some(current) = user.tags.get_mut(group) {
                    for tag in tags {
                        current.remove(tag);
                    }
                }
            }
            user.tags.retain(|_, tags| !tags.is_empty());
        }
        Ok(warnings)
    }

    /// Applies checked attribute operations to named user `id`.
    ///
    /// Keys the project does not define, and values of the wrong type, are skipped and listed
    /// in `warnings`.
    ///
    /// NOTE: Airship documents 200 with `warnings` only when at least one attribute exists. The 400
    /// for a request without any existing attribute is inferred from that, not documented.
    pub(crate) fn apply_attributes(
        &mut self,
        project: &Project,
        id: &str,
        operations: &[AttributeOperation],
        now: DateTime<Utc>,
    ) -> Result<Warnings, ApiError> {
        let all_keys = || unique(operations.iter().map(|operation| operation.key.clone()));
        let known = |operation: &&AttributeOperation| {
            project.attribute_type(operation.attribute()).is_some()
        };
        if !operations.iter().any(|operation| known(&operation)) {
            return Err(ApiError::invalid_body(
                "body.attributes",
                format!(
                    "no attribute in the request exists in the project: {}",
                    quoted_list(&all_keys())
                ),
            ));
        }
        let Some(user) = self.writable(id, now) else {
            return Ok(Warnings {
                tag_warnings: Vec::new(),
                warnings: all_keys(),
            });
        };

        let mut skipped = Vec::new();
        for operation in operations {
            let stored = project
                .attribute_type(operation.attribute())
                .and_then(|kind| stored_value(kind, operation));
            match (operation.action, stored) {
                (_, None) => skipped.push(operation.key.clone()),
                (AttributeAction::Set, Some(Some(value))) => {
                    user.attributes.insert(operation.key.clone(), value);
                }
                (AttributeAction::Remove, Some(_)) | (AttributeAction::Set, Some(None)) => {
                    user.attributes.remove(&operation.key);
                }
            }
        }
        Ok(Warnings {
            tag_warnings: Vec::new(),
            warnings: unique(skipped),
        })
    }

    /// Stores accepted custom events with their named users. Events for channels, and in strict
    /// mode for unknown named users, are accepted but not stored.
    pub(crate) fn record_events(&mut self, events: Vec<ValidEvent>, now: DateTime<Utc>) {
        for event in events {
            let Some(id) = event.named_user_id else {
                continue;
            };
            if let Some(user) = self.writable(&id, now) {
                user.custom_events.push(event.event);
            }
        }
    }
}

/// Returns `None` when the operation does not fit attribute type `kind`, `Some(None)` for a valid
/// `remove`, and `Some(Some(value))` with the value to store for a valid `set`.
fn stored_value(kind: AttributeType, operation: &AttributeOperation) -> Option<Option<Value>> {
    // A JSON attribute is written per instance (`prefs#default`); other types have no instance.
    if (kind == AttributeType::Json) != operation.has_instance() {
        return None;
    }
    let Some(value) = &operation.value else {
        return Some(None);
    };
    let stored = match (kind, value) {
        (AttributeType::Text, Value::String(text)) if text.chars().count() <= MAX_TEXT_CHARS => {
            value.clone()
        }
        (AttributeType::Number, Value::Number(_)) => value.clone(),
        (AttributeType::Number, Value::String(text)) => Value::Number(numeric_string(text)?),
        (AttributeType::Date, Value::String(text)) => Value::String(attribute_date(text)?),
        (AttributeType::Json, Value::Object(_)) => value.clone(),
        _ => return None,
    };
    Some(Some(stored))
}

/// Airship accepts a numeric string for a number attribute, such as `"25"`.
fn numeric_string(text: &str) -> Option<Number> {
    if let Ok(number) = serde_json::from_str::<Number>(text) {
        return Some(number);
    }
    text.parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
        .and_then(Number::from_f64)
}

/// Parses a date attribute: `YYYY-MM-DDTHH:MM:SS` (or with a space), optionally followed by `Z`
/// or an offset such as `+02:00`, and returns it in UTC without an offset.
fn attribute_date(text: &str) -> Option<String> {
    for format in ["%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%d %H:%M:%S%:z"] {
        if let Ok(time) = DateTime::<FixedOffset>::parse_from_str(text, format) {
            return Some(airship_time(time.with_timezone(&Utc)));
        }
    }
    let naive = text.strip_suffix('Z').unwrap_or(text);
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(naive, format).ok())
        .map(|time| airship_time(time.and_utc()))
}

/// Airship's date-time form: UTC, whole seconds, no offset.
pub(crate) fn airship_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn unique(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(item.clone()))
        .collect()
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("{item:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::validate::{validate_named_user_attributes, validate_named_user_tags};

    fn now() -> DateTime<Utc> {
        "2026-05-02T12:00:00Z".parse().unwrap()
    }

    fn tags(users: &mut NamedUsers, body: Value) -> Result<Warnings, ApiError> {
        let change = validate_named_user_tags(&body).unwrap();
        users.apply_tags(&Project::default(), &change, now())
    }

    fn attributes(users: &mut NamedUsers, id: &str, body: Value) -> Result<Warnings, ApiError> {
        let mut project = Project::default();
        project
            .attributes
            .insert("prefs".into(), AttributeType::Json);
        let operations = validate_named_user_attributes(&body, now()).unwrap();
        users.apply_attributes(&project, id, &operations, now())
    }

    fn user_tags(users: &NamedUsers, id: &str) -> Vec<(String, Vec<String>)> {
        users
            .get(id)
            .unwrap()
            .tags
            .iter()
            .map(|(group, tags)| (group.clone(), tags.iter().cloned().collect()))
            .collect()
    }

    #[test]
    fn tags_added_removed_and_set() {
        let mut users = NamedUsers::new(false, &[], now());
        let group = "segment-integration";

        tags(
            &mut users,
            json!({"audience": {"named_user_id": ["u"]}, "add": {group: ["a", "b", "c"]}}),
        )
        .unwrap();
        tags(
            &mut users,
            json!({"audience": {"named_user_id": ["u"]}, "remove": {group: ["b", "zz"]}}),
        )
        .unwrap();
        assert_eq!(
            user_tags(&users, "u"),
            [(group.to_owned(), vec!["a".to_owned(), "c".to_owned()])]
        );

        tags(
            &mut users,
            json!({"audience": {"named_user_id": ["u"]}, "set": {group: ["x"]}}),
        )
        .unwrap();
        assert_eq!(
            user_tags(&users, "u"),
            [(group.to_owned(), vec!["x".to_owned()])]
        );

        tags(
            &mut users,
            json!({"audience": {"named_user_id": ["u"]}, "set": {group: []}}),
        )
        .unwrap();
        assert!(user_tags(&users, "u").is_empty());
    }

    #[test]
    fn unknown_group_warned_and_skipped() {
        let mut users = NamedUsers::new(false, &[], now());

        let warnings = tags(
            &mut users,
            json!({"audience": {"named_user_id": "u"}, "add": {"crm": ["a"], "segment-integration": ["b"]}}),
        )
        .unwrap();

        assert_eq!(warnings.tag_warnings, ["crm"]);
        assert_eq!(user_tags(&users, "u").len(), 1);
    }

    #[test]
    fn only_unknown_groups_rejected() {
        let mut users = NamedUsers::new(false, &[], now());

        let error = tags(
            &mut users,
            json!({"audience": {"named_user_id": "u"}, "add": {"crm": ["a"]}}),
        )
        .unwrap_err();

        assert!(error.detail.unwrap().contains("crm"));
        assert!(users.get("u").is_none());
    }

    #[test]
    fn strict_mode_skips_unknown_users() {
        let mut users = NamedUsers::new(true, &["known".into()], now());

        let tag_warnings = tags(
            &mut users,
            json!({"audience": {"named_user_id": ["known", "stranger"]}, "add": {"segment-integration": ["a"]}}),
        )
        .unwrap();
        let attribute_warnings = attributes(
            &mut users,
            "stranger",
            json!({"attributes": [{"action": "set", "key": "first_name", "value": "Ada"}, {"action": "remove", "key": "city"}]}),
        )
        .unwrap();

        assert_eq!(tag_warnings.warnings, ["stranger"]);
        assert_eq!(user_tags(&users, "known").len(), 1);
        assert_eq!(attribute_warnings.warnings, ["first_name", "city"]);
        assert!(users.get("stranger").is_none());
    }

    #[test]
    fn attribute_values_checked_against_types() {
        let mut users = NamedUsers::new(false, &[], now());
        let body = json!({"attributes": [
            {"action": "set", "key": "first_name", "value": "Ada"},
            {"action": "set", "key": "age", "value": "25"},
            {"action": "set", "key": "zipcode", "value": 10115},
            {"action": "set", "key": "birthdate", "value": "1990-07-14T02:00:00+02:00"},
            {"action": "set", "key": "prefs#default", "value": {"color": "red"}},
            {"action": "set", "key": "airship_segment_group_42", "value": "true"},
            {"action": "set", "key": "plan", "value": "pro"},
            {"action": "set", "key": "latitude", "value": "north"},
            {"action": "set", "key": "title", "value": 3},
            {"action": "set", "key": "account_creation", "value": "yesterday"},
            {"action": "set", "key": "prefs", "value": {"color": "red"}},
            {"action": "set", "key": "email#work", "value": "a@b.c"},
            {"action": "set", "key": "last_name", "value": "x".repeat(256)}
        ]});

        let warnings = attributes(&mut users, "u", body).unwrap();

        assert_eq!(
            warnings.warnings,
            [
                "plan",
                "latitude",
                "title",
                "account_creation",
                "prefs",
                "email#work",
                "last_name"
            ]
        );
        let stored = &users.get("u").unwrap().attributes;
        assert_eq!(stored["first_name"], json!("Ada"));
        assert_eq!(stored["age"], json!(25));
        assert_eq!(stored["zipcode"], json!(10115));
        assert_eq!(stored["birthdate"], json!("1990-07-14T00:00:00"));
        assert_eq!(stored["prefs#default"], json!({"color": "red"}));
        assert_eq!(stored["airship_segment_group_42"], json!("true"));
        assert_eq!(stored.len(), 6);
    }

    #[test]
    fn remove_deletes_attribute() {
        let mut users = NamedUsers::new(false, &[], now());
        attributes(
            &mut users,
            "u",
            json!({"attributes": [{"action": "set", "key": "city", "value": "Oslo"}]}),
        )
        .unwrap();

        attributes(
            &mut users,
            "u",
            json!({"attributes": [{"action": "remove", "key": "city"}]}),
        )
        .unwrap();

        assert!(users.get("u").unwrap().attributes.is_empty());
    }

    #[test]
    fn only_unknown_attributes_rejected() {
        let mut users = NamedUsers::new(false, &[], now());

        let error = attributes(
            &mut users,
            "u",
            json!({"attributes": [{"action": "set", "key": "plan", "value": "pro"}]}),
        )
        .unwrap_err();

        assert_eq!(error.path.as_deref(), Some("body.attributes"));
        assert!(users.get("u").is_none());
    }

    #[test]
    fn reset_keeps_only_known_users() {
        let mut users = NamedUsers::new(false, &["known".into()], now());
        tags(
            &mut users,
            json!({"audience": {"named_user_id": ["known", "new"]}, "add": {"segment-integration": ["a"]}}),
        )
        .unwrap();

        users.reset(now());

        assert!(users.get("new").is_none());
        assert!(users.get("known").unwrap().tags.is_empty());
    }
}
