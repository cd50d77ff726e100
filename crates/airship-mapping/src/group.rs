//! `group`: a group-membership attribute, plus the group's traits as tags and attributes.

use chrono::{DateTime, Utc};
use segment_model::Group;
use serde_json::{json, Map, Value};

use crate::attributes::{
    key_too_long, key_with_hash, tag_requests, trait_changes, TraitOwner, MAX_ATTRIBUTE_KEY_CHARS,
};
use crate::identify::sent_or_nothing;
use crate::identity::is_integer_text;
use crate::outcome::{InvalidReason, Outcome, Warning};
use crate::request::AirshipRequest;
use crate::settings::Settings;
use crate::time::{airship_time, event_time};

/// Prefix of the attribute that marks membership of a group.
const GROUP_ATTRIBUTE_PREFIX: &str = "airship_segment_group_";

pub(crate) fn map(
    group: &Group,
    named_user: &str,
    settings: &Settings,
    now: DateTime<Utc>,
    warnings: &mut Vec<Warning>,
) -> Outcome {
    let group_id = match group_id(group.group_id.as_ref()) {
        Ok(id) => id,
        Err(invalid) => return invalid,
    };
    let empty = Map::new();
    let traits = match &group.traits {
        Some(Value::Object(traits)) => traits,
        None | Some(Value::Null) => &empty,
        Some(other) => {
            return Outcome::invalid(
                InvalidReason::InvalidField,
                "traits",
                format!(
                    "traits must be an object, found {}",
                    segment_model::json_type_name(other)
                ),
            )
        }
    };
    let (time, _field) = match event_time(&group.common, now) {
        Ok(time) => time,
        Err(invalid) => return invalid,
    };
    let timestamp = airship_time(time);

    // Airship attributes have no boolean type, so membership is the text "true".
    let membership_key = format!("{GROUP_ATTRIBUTE_PREFIX}{group_id}");
    let mut operations = Vec::new();
    if membership_key.contains('#') {
        warnings.push(key_with_hash("groupId", &membership_key));
    } else if membership_key.chars().count() > MAX_ATTRIBUTE_KEY_CHARS {
        warnings.push(key_too_long("groupId", &membership_key));
    } else {
        operations.push(
            json!({"action": "set", "key": membership_key, "value": "true", "timestamp": timestamp}),
        );
    }

    let changes = trait_changes(traits, TraitOwner::Group, settings, &timestamp, warnings);
    let mut requests = tag_requests(named_user, &settings.group_tag_group, &changes);
    operations.extend(changes.operations);

    if !operations.is_empty() {
        let body = json!({"attributes": operations});
        requests.push(AirshipRequest::named_user_attributes(named_user, body));
    }
    sent_or_nothing(requests)
}

/// `groupId` as text: a non-empty string, or an integer written in decimal.
fn group_id(value: Option<&Value>) -> Result<String, Outcome> {
    match value {
        Some(Value::String(id)) if !id.trim().is_empty() => Ok(id.clone()),
        Some(Value::Number(number)) if is_integer_text(&number.to_string()) => {
            Ok(number.to_string())
        }
        Some(other) => Err(Outcome::invalid(
            InvalidReason::MissingGroupId,
            "groupId",
            format!("groupId must be a non-empty string or an integer, found {other}"),
        )),
        None => Err(Outcome::invalid(
            InvalidReason::MissingGroupId,
            "groupId",
            "group has no groupId; send the id of the account or organisation",
        )),
    }
}
