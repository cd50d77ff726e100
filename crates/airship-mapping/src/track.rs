//! `track`: one Airship custom event.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use segment_model::Track;
use serde_json::{json, Map, Number, Value};

use crate::attributes::number_from_f64;
use crate::identity::is_integer_text;
use crate::outcome::{InvalidReason, Outcome, SkipReason, Warning, WarningReason};
use crate::request::AirshipRequest;
use crate::settings::Settings;
use crate::time::{airship_time, event_time};

/// Maximum custom-event name length Airship's SDKs accept, in characters.
const MAX_EVENT_NAME_CHARS: usize = 255;
/// Maximum property string length Airship accepts, in characters.
const MAX_PROPERTY_STRING_CHARS: usize = 255;
/// Largest serialised `properties` object Airship's SDKs accept, in bytes.
const MAX_PROPERTIES_BYTES: usize = 65_536;
/// Airship only accepts custom events from the last 90 days.
const MAX_EVENT_AGE: Duration = Duration::days(90);
/// Clock skew tolerated for events that appear to come from the future; they are sent as now.
const MAX_FUTURE_SKEW: Duration = Duration::minutes(5);
/// Bounds of a custom-event `value` in Airship's SDKs: a signed 32-bit integer range.
const MIN_VALUE: f64 = -2_147_483_648.0;
const MAX_VALUE: f64 = 2_147_483_647.0;

pub(crate) fn map(
    track: &Track,
    named_user: &str,
    settings: &Settings,
    now: DateTime<Utc>,
    warnings: &mut Vec<Warning>,
) -> Outcome {
    let name = match event_name(track.event.as_ref()) {
        Ok(name) => name,
        Err(invalid) => return invalid,
    };
    let empty = Map::new();
    let properties = match &track.properties {
        Some(Value::Object(properties)) => properties,
        None | Some(Value::Null) => &empty,
        Some(other) => {
            return Outcome::invalid(
                InvalidReason::InvalidField,
                "properties",
                format!(
                    "properties must be an object, found {}",
                    segment_model::json_type_name(other)
                ),
            )
        }
    };
    let occurred =
        // Airship receives whole seconds, so the window is checked on the time as it is sent.
        match event_time(&track.common, now)
            .and_then(|(time, field)| occurred(time.trunc_subsecs(0), field, now))
        {
            Ok(time) => time,
            Err(invalid) => return invalid,
        };
    if properties.len() > settings.max_properties {
        return Outcome::skipped(
            SkipReason::TooManyProperties,
            format!(
                "track has {} properties; this destination sends at most {} (setting max_properties)",
                properties.len(),
                settings.max_properties
            ),
        );
    }

    let value = properties
        .get("revenue")
        .and_then(|revenue| event_value(revenue, warnings));
    let properties = sendable_properties(properties, warnings);
    let size = serde_json::to_vec(&properties).map_or(0, |bytes| bytes.len());
    if size > MAX_PROPERTIES_BYTES {
        return Outcome::invalid(
            InvalidReason::PropertiesTooLarge,
            "properties",
            format!("properties are {size} bytes once serialised; Airship accepts at most {MAX_PROPERTIES_BYTES}"),
        );
    }

    let mut body = Map::new();
    body.insert("name".into(), Value::String(name));
    if let Some(value) = value {
        body.insert("value".into(), Value::Number(value));
    }
    if track.properties.is_some() {
        body.insert("properties".into(), Value::Object(properties));
    }
    let event = json!({
        "occurred": airship_time(occurred),
        "user": {"named_user_id": named_user},
        "body": body,
    });
    Outcome::Sent {
        requests: vec![AirshipRequest::custom_events(vec![event])],
    }
}

/// Builds the custom-event name: `event` lower-cased with Unicode rules, nothing else changed.
fn event_name(event: Option<&Value>) -> Result<String, Outcome> {
    let name = match event {
        Some(Value::String(name)) if !name.trim().is_empty() => name.to_lowercase(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(Outcome::invalid(
                InvalidReason::MissingEvent,
                "event",
                "track has no event name; set `event` to the name of the action",
            ))
        }
        Some(other) => {
            return Err(Outcome::invalid(
                InvalidReason::MissingEvent,
                "event",
                format!(
                    "event must be a string, found {}",
                    segment_model::json_type_name(other)
                ),
            ))
        }
    };
    let length = name.chars().count();
    if length > MAX_EVENT_NAME_CHARS {
        return Err(Outcome::invalid(
            InvalidReason::EventNameTooLong,
            "event",
            format!("event name has {length} characters; Airship accepts at most {MAX_EVENT_NAME_CHARS}"),
        ));
    }
    Ok(name)
}

/// Checks the event time against Airship's window: at most 90 days old, and no later than
/// 5 minutes ahead of `now` (times within those 5 minutes are sent as `now`).
/// `field` names the message field the time came from, for the error.
fn occurred(
    time: DateTime<Utc>,
    field: &'static str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Outcome> {
    if now - time > MAX_EVENT_AGE {
        return Err(Outcome::invalid(
            InvalidReason::TooOld,
            field,
            format!(
                "event time {} is more than 90 days before now ({}); Airship rejects older custom events",
                airship_time(time),
                airship_time(now)
            ),
        ));
    }
    if time - now > MAX_FUTURE_SKEW {
        return Err(Outcome::invalid(
            InvalidReason::InFuture,
            field,
            format!(
                "event time {} is more than 5 minutes after now ({}); check the sender's clock",
                airship_time(time),
                airship_time(now)
            ),
        ));
    }
    Ok(time.min(now))
}

/// Reads the custom-event `value` from `revenue`, a number or numeric string, rounded to 6 decimals.
fn event_value(revenue: &Value, warnings: &mut Vec<Warning>) -> Option<Number> {
    let text = match revenue {
        Value::Null => return None,
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        other => {
            warnings.push(revenue_not_a_number(&other.to_string()));
            return None;
        }
    };
    let Some(parsed) = text.parse::<f64>().ok().filter(|v| v.is_finite()) else {
        warnings.push(revenue_not_a_number(&text));
        return None;
    };
    if !(MIN_VALUE..=MAX_VALUE).contains(&parsed) {
        warnings.push(Warning::new(
            "revenue",
            WarningReason::RevenueOutOfRange,
            format!("revenue {text} is outside the range of an Airship event value (-2147483648 to 2147483647), so the event has no value"),
        ));
        return None;
    }
    // An integer keeps its digits, unless it is not a JSON literal (`"0012"`).
    if is_integer_text(&text) {
        if let Ok(number) = serde_json::from_str(&text) {
            return Some(number);
        }
    }
    number_from_f64((parsed * 1e6).round() / 1e6)
}

fn revenue_not_a_number(shown: &str) -> Warning {
    Warning::new(
        "revenue",
        WarningReason::RevenueNotANumber,
        format!("revenue {shown} is not a number, so the event has no value; the property is still sent"),
    )
}

/// Properties as sent: unchanged, except top-level strings over Airship's length limit.
fn sendable_properties(
    properties: &Map<String, Value>,
    warnings: &mut Vec<Warning>,
) -> Map<String, Value> {
    let mut kept = Map::new();
    for (key, value) in properties {
        if let Value::String(text) = value {
            let length = text.chars().count();
            if length > MAX_PROPERTY_STRING_CHARS {
                warnings.push(Warning::new(
                    key,
                    WarningReason::PropertyTooLong,
                    format!("property `{key}` has {length} characters; Airship accepts property strings of at most {MAX_PROPERTY_STRING_CHARS}, and values are never cut"),
                ));
                continue;
            }
        }
        kept.insert(key.clone(), value.clone());
    }
    kept
}
