//! `identify`: boolean traits become tags, known traits become attributes.

use chrono::{DateTime, Utc};
use segment_model::Identify;
use serde_json::{json, Map, Value};

use crate::attributes::{tag_requests, trait_changes, TraitOwner};
use crate::outcome::{InvalidReason, Outcome, SkipReason, Warning};
use crate::request::AirshipRequest;
use crate::settings::Settings;
use crate::time::{airship_time, event_time};

pub(crate) fn map(
    identify: &Identify,
    named_user: &str,
    settings: &Settings,
    now: DateTime<Utc>,
    warnings: &mut Vec<Warning>,
) -> Outcome {
    let traits = match identify_traits(identify) {
        Ok(Some(traits)) => traits,
        Ok(None) => return Outcome::skipped(
            SkipReason::NoTraits,
            "identify has no traits in `traits` or `context.traits`, so there is nothing to set",
        ),
        Err(invalid) => return invalid,
    };
    let (time, _field) = match event_time(&identify.common, now) {
        Ok(time) => time,
        Err(invalid) => return invalid,
    };
    let timestamp = airship_time(time);

    let changes = trait_changes(traits, TraitOwner::User, settings, &timestamp, warnings);

    let mut requests = tag_requests(named_user, &settings.tag_group, &changes);
    if !changes.operations.is_empty() {
        let body = json!({"attributes": changes.operations});
        requests.push(AirshipRequest::named_user_attributes(named_user, body));
    }
    sent_or_nothing(requests)
}

/// `traits`, or `context.traits` when `traits` is missing, null or empty.
fn identify_traits(identify: &Identify) -> Result<Option<&Map<String, Value>>, Outcome> {
    match &identify.traits {
        Some(Value::Object(traits)) if !traits.is_empty() => return Ok(Some(traits)),
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(other) => {
            return Err(Outcome::invalid(
                InvalidReason::InvalidField,
                "traits",
                format!(
                    "traits must be an object, found {}",
                    segment_model::json_type_name(other)
                ),
            ))
        }
    }
    let context_traits = identify
        .common
        .context
        .as_ref()
        .and_then(|context| context.get("traits"));
    match context_traits {
        Some(Value::Object(traits)) if !traits.is_empty() => Ok(Some(traits)),
        None | Some(Value::Null) | Some(Value::Object(_)) => Ok(None),
        Some(other) => Err(Outcome::invalid(
            InvalidReason::InvalidField,
            "context.traits",
            format!(
                "context.traits must be an object, found {}",
                segment_model::json_type_name(other)
            ),
        )),
    }
}

/// `sent` with the requests, or `skipped` when every trait was left out with a warning.
pub(crate) fn sent_or_nothing(requests: Vec<AirshipRequest>) -> Outcome {
    if requests.is_empty() {
        return Outcome::skipped(
            SkipReason::NothingToSend,
            "no trait maps to an Airship tag or attribute; the warnings say why each was left out",
        );
    }
    Outcome::Sent { requests }
}
