//! Body of `POST /api/named_users/tags`: an audience of named users and tag operations.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{check_named_user_id, json_type_name, reject_unknown_keys};
use crate::reply::ApiError;

/// Maximum number of named users in one request's audience.
const MAX_AUDIENCE: usize = 1000;
/// Maximum number of tags in one group of one operation.
const MAX_TAGS_PER_GROUP: usize = 100;
/// Maximum length of a tag group name, in characters.
const MAX_GROUP_CHARS: usize = 128;
/// Maximum length of a tag, in characters.
///
/// NOTE: Airship's schema allows 128 characters but its text says a tag must be shorter than
/// 128, so the mock takes the stricter 127.
const MAX_TAG_CHARS: usize = 127;

const TOP_KEYS: [&str; 4] = ["audience", "add", "remove", "set"];

/// Tags of one group, in request order.
pub(crate) type GroupTags = Vec<(String, Vec<String>)>;

/// A checked tags request.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct TagChange {
    /// The audience, in request order.
    pub(crate) named_users: Vec<String>,
    pub(crate) add: GroupTags,
    pub(crate) remove: GroupTags,
    /// Groups whose tags are replaced. An empty list clears the group.
    pub(crate) set: GroupTags,
}

impl TagChange {
    /// Returns every group the request names, each once, in request order.
    pub(crate) fn groups(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.add
            .iter()
            .chain(&self.remove)
            .chain(&self.set)
            .map(|(group, _)| group.as_str())
            .filter(|group| seen.insert(*group))
            .collect()
    }
}

/// Checks `body` as Airship does and returns the requested change.
pub(crate) fn validate_named_user_tags(body: &Value) -> Result<TagChange, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::invalid_body("body", "expected a JSON object"));
    };
    reject_unknown_keys(fields, &TOP_KEYS, "body")?;

    let named_users = validate_audience(fields.get("audience"))?;
    let add = operation(fields.get("add"), "add")?;
    let remove = operation(fields.get("remove"), "remove")?;
    let set = operation(fields.get("set"), "set")?;

    if add.is_none() && remove.is_none() && set.is_none() {
        return Err(ApiError::invalid_body(
            "body",
            "at least one of add, remove or set is required",
        ));
    }
    if set.is_some() && (add.is_some() || remove.is_some()) {
        return Err(ApiError::invalid_body(
            "body.set",
            "set cannot be combined with add or remove in one request",
        ));
    }
    let change = TagChange {
        named_users,
        add: add.unwrap_or_default(),
        remove: remove.unwrap_or_default(),
        set: set.unwrap_or_default(),
    };
    reject_add_remove_overlap(&change)?;
    Ok(change)
}

/// Returns the audience's named users. A bare string is accepted as one id, because Airship's
/// python library sends that.
fn validate_audience(audience: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let path = "body.audience";
    let audience = match audience {
        Some(Value::Object(audience)) => audience,
        Some(_) | None => {
            return Err(ApiError::invalid_body(
                path,
                "audience is required and must be an object",
            ))
        }
    };
    reject_unknown_keys(audience, &["named_user_id"], path)?;

    let ids_path = "body.audience.named_user_id";
    let ids = match audience.get("named_user_id") {
        Some(Value::String(id)) => {
            check_named_user_id(id, ids_path)?;
            return Ok(vec![id.clone()]);
        }
        Some(Value::Array(ids)) => ids,
        Some(_) | None => {
            return Err(ApiError::invalid_body(
                ids_path,
                "named_user_id must be a string or an array of strings",
            ))
        }
    };
    if ids.is_empty() || ids.len() > MAX_AUDIENCE {
        return Err(ApiError::invalid_body(
            ids_path,
            format!(
                "expected 1 to {MAX_AUDIENCE} named user ids, got {}",
                ids.len()
            ),
        ));
    }

    let mut seen = BTreeSet::new();
    let mut named_users = Vec::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        let item_path = format!("{ids_path}[{index}]");
        let Value::String(id) = id else {
            return Err(ApiError::invalid_body(
                item_path,
                format!(
                    "named user id must be a string, found {}",
                    json_type_name(id)
                ),
            ));
        };
        check_named_user_id(id, &item_path)?;
        if !seen.insert(id.as_str()) {
            return Err(ApiError::invalid_body(
                item_path,
                format!("named user id {id:?} appears more than once"),
            ));
        }
        named_users.push(id.clone());
    }
    Ok(named_users)
}

/// Checks one of `add`, `remove` or `set`: an object of group name to tag array.
fn operation(value: Option<&Value>, name: &str) -> Result<Option<GroupTags>, ApiError> {
    let path = format!("body.{name}");
    let groups = match value {
        None => return Ok(None),
        Some(Value::Object(groups)) => groups,
        Some(other) => {
            return Err(ApiError::invalid_body(
                path,
                format!(
                    "{name} must be an object of tag groups, found {}",
                    json_type_name(other)
                ),
            ))
        }
    };

    let mut checked = Vec::with_capacity(groups.len());
    for (group, tags) in groups {
        let group_path = format!("{path}.{group}");
        let length = group.chars().count();
        if length == 0 || length > MAX_GROUP_CHARS {
            return Err(ApiError::invalid_body(
                group_path,
                format!("tag group name has {length} characters; Airship accepts 1 to {MAX_GROUP_CHARS}"),
            ));
        }
        let Value::Array(tags) = tags else {
            return Err(ApiError::invalid_body(
                group_path,
                format!("expected an array of tags, found {}", json_type_name(tags)),
            ));
        };
        if tags.len() > MAX_TAGS_PER_GROUP {
            return Err(ApiError::invalid_body(
                group_path,
                format!(
                    "{} tags in one group; Airship accepts at most {MAX_TAGS_PER_GROUP}",
                    tags.len()
                ),
            ));
        }
        let mut names = Vec::with_capacity(tags.len());
        for (index, tag) in tags.iter().enumerate() {
            let tag_path = format!("{group_path}[{index}]");
            let Value::String(tag) = tag else {
                return Err(ApiError::invalid_body(
                    tag_path,
                    format!("a tag must be a string, found {}", json_type_name(tag)),
                ));
            };
            let length = tag.chars().count();
            if length == 0 || length > MAX_TAG_CHARS {
                return Err(ApiError::invalid_body(
                    tag_path,
                    format!("tag has {length} characters; Airship accepts 1 to {MAX_TAG_CHARS}"),
                ));
            }
            names.push(tag.clone());
        }
        checked.push((group.clone(), names));
    }
    Ok(Some(checked))
}

/// Rejects a request that adds and removes the same tag of the same group, as Airship does.
fn reject_add_remove_overlap(change: &TagChange) -> Result<(), ApiError> {
    for (group, removed) in &change.remove {
        let added: BTreeSet<&String> = change
            .add
            .iter()
            .filter(|(name, _)| name == group)
            .flat_map(|(_, tags)| tags)
            .collect();
        if let Some((index, tag)) = removed
            .iter()
            .enumerate()
            .find(|(_, tag)| added.contains(tag))
        {
            return Err(ApiError::invalid_body(
                format!("body.remove.{group}[{index}]"),
                format!("tag {tag:?} of group {group:?} is both added and removed"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error_path(body: Value) -> String {
        validate_named_user_tags(&body)
            .unwrap_err()
            .path
            .unwrap_or_default()
    }

    #[test]
    fn add_and_remove_accepted() {
        let body = json!({
            "audience": {"named_user_id": ["u-42", "u-43"]},
            "add": {"segment": ["plan_pro"], "crm": []},
            "remove": {"segment": ["plan_free"]}
        });

        let change = validate_named_user_tags(&body).unwrap();

        assert_eq!(change.named_users, ["u-42", "u-43"]);
        assert_eq!(change.groups(), ["segment", "crm"]);
        assert_eq!(
            change.remove,
            [("segment".into(), vec!["plan_free".into()])]
        );
    }

    #[test]
    fn bare_string_audience_accepted() {
        let body = json!({"audience": {"named_user_id": "u"}, "set": {"g": []}});

        assert_eq!(validate_named_user_tags(&body).unwrap().named_users, ["u"]);
    }

    #[test]
    fn shape_errors_named_by_path() {
        assert_eq!(error_path(json!({"add": {"g": ["t"]}})), "body.audience");
        assert_eq!(
            error_path(json!({"audience": {"channel": ["c"]}, "add": {"g": ["t"]}})),
            "body.audience.channel"
        );
        assert_eq!(
            error_path(json!({"audience": {"named_user_id": "u"}})),
            "body"
        );
        assert_eq!(
            error_path(json!({"audience": {"named_user_id": "u"}, "set": ["t"]})),
            "body.set"
        );
        assert_eq!(
            error_path(json!({"audience": {"named_user_id": "u"}, "add": {"g": ["t"]}, "x": 1})),
            "body.x"
        );
    }

    #[test]
    fn audience_limits() {
        let ids = |count: usize| -> Vec<String> { (0..count).map(|i| format!("u{i}")).collect() };
        let body = |ids: Value| json!({"audience": {"named_user_id": ids}, "add": {"g": ["t"]}});

        assert!(validate_named_user_tags(&body(json!(ids(1000)))).is_ok());
        assert_eq!(
            error_path(body(json!(ids(1001)))),
            "body.audience.named_user_id"
        );
        assert_eq!(error_path(body(json!([]))), "body.audience.named_user_id");
        assert_eq!(
            error_path(body(json!(["a", "a"]))),
            "body.audience.named_user_id[1]"
        );
        assert_eq!(
            error_path(body(json!(["a", "u".repeat(129)]))),
            "body.audience.named_user_id[1]"
        );
        assert_eq!(
            error_path(body(json!([" a"]))),
            "body.audience.named_user_id[0]"
        );
    }

    #[test]
    fn group_and_tag_limits() {
        let body = |add: Value| json!({"audience": {"named_user_id": "u"}, "add": add});
        let tags = |count: usize| -> Vec<String> { (0..count).map(|i| format!("t{i}")).collect() };

        assert!(validate_named_user_tags(&body(json!({"g": tags(100)}))).is_ok());
        assert!(
            validate_named_user_tags(&body(json!({"g".repeat(128): ["t".repeat(127)]}))).is_ok()
        );
        assert_eq!(error_path(body(json!({"g": tags(101)}))), "body.add.g");
        let long_group = "g".repeat(129);
        assert_eq!(
            error_path(body(json!({long_group.clone(): ["t"]}))),
            format!("body.add.{long_group}")
        );
        assert_eq!(error_path(body(json!({"": ["t"]}))), "body.add.");
        assert_eq!(
            error_path(body(json!({"g": ["t".repeat(128)]}))),
            "body.add.g[0]"
        );
        assert_eq!(error_path(body(json!({"g": [""]}))), "body.add.g[0]");
        assert_eq!(error_path(body(json!({"g": [1]}))), "body.add.g[0]");
    }

    #[test]
    fn set_with_add_or_remove_rejected() {
        for other in ["add", "remove"] {
            let body =
                json!({"audience": {"named_user_id": "u"}, "set": {"g": []}, other: {"g": ["t"]}});

            assert_eq!(error_path(body), "body.set", "{other}");
        }
    }

    #[test]
    fn same_tag_added_and_removed_rejected() {
        let overlap = json!({
            "audience": {"named_user_id": "u"},
            "add": {"g": ["a", "b"]},
            "remove": {"g": ["c", "b"]}
        });
        let other_group = json!({
            "audience": {"named_user_id": "u"},
            "add": {"g": ["b"]},
            "remove": {"h": ["b"]}
        });

        assert_eq!(error_path(overlap), "body.remove.g[1]");
        assert!(validate_named_user_tags(&other_group).is_ok());
    }
}
