//! Entry points: one message in, one outcome out.

use chrono::{DateTime, Utc};
use segment_model::{Message, MessageType, ModelError};
use serde_json::Value;

use crate::outcome::{InvalidReason, Mapped, Outcome, SkipReason, Warning};
use crate::settings::Settings;
use crate::{group, identify, identity, track};

/// Maps one raw message to its outcome. Every problem with the message becomes an outcome rather
/// than an error.
pub fn map_message(raw: Value, settings: &Settings, now: DateTime<Utc>) -> Mapped {
    let message_id = raw
        .get("messageId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let message_type = raw.get("type").and_then(Value::as_str).map(str::to_owned);
    match Message::from_value(raw) {
        Ok(message) => map_parsed(&message, settings, now),
        Err(err) => Mapped {
            message_id,
            message_type,
            outcome: model_error_outcome(&err),
            warnings: Vec::new(),
        },
    }
}

/// Maps a message that is already parsed.
pub fn map_parsed(message: &Message, settings: &Settings, now: DateTime<Utc>) -> Mapped {
    let mut warnings = Vec::new();
    let outcome = map_outcome(message, settings, now, &mut warnings);
    Mapped {
        message_id: message.message_id().map(str::to_owned),
        message_type: Some(message.message_type().as_str().to_owned()),
        outcome,
        warnings,
    }
}

impl Mapped {
    /// Builds the outcome of input that could not be read as a message at all, such as malformed JSON.
    pub fn unreadable(reason: InvalidReason, message: impl Into<String>) -> Mapped {
        Mapped {
            message_id: None,
            message_type: None,
            outcome: Outcome::invalid(reason, "message", message),
            warnings: Vec::new(),
        }
    }
}

fn map_outcome(
    message: &Message,
    settings: &Settings,
    now: DateTime<Utc>,
    warnings: &mut Vec<Warning>,
) -> Outcome {
    let common = message.common();
    if is_disabled_by_integrations(common.integrations.as_ref()) {
        return Outcome::skipped(
            SkipReason::DisabledByIntegrations,
            "integrations turns the Airship destination off for this message",
        );
    }
    let message_type = message.message_type();
    if matches!(
        message_type,
        MessageType::Page | MessageType::Screen | MessageType::Alias
    ) {
        return Outcome::skipped(
            SkipReason::UnsupportedType,
            format!("Airship has no equivalent of `{message_type}` calls"),
        );
    }
    let user = match identity::named_user(common.user_id.as_ref()) {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Outcome::skipped(
                SkipReason::NoUserId,
                "userId is missing or empty; Airship needs a named user, and anonymousId is never used as one",
            )
        }
        Err(invalid) => return invalid,
    };
    match message {
        Message::Identify(identify) => identify::map(identify, &user, settings, now, warnings),
        Message::Track(track) => track::map(track, &user, settings, now, warnings),
        Message::Group(group) => group::map(group, &user, settings, now, warnings),
        Message::Page(_) | Message::Screen(_) | Message::Alias(_) => {
            unreachable!("unsupported types return above")
        }
    }
}

/// `integrations.Airship == false`, or `integrations.All == false` without `Airship == true`.
/// The `Airship` key matches case-insensitively; `All` is matched as Segment spells it.
fn is_disabled_by_integrations(integrations: Option<&Value>) -> bool {
    let Some(Value::Object(integrations)) = integrations else {
        return false;
    };
    let airship = integrations
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("airship"))
        .map(|(_, value)| value);
    match airship {
        Some(Value::Bool(false)) => true,
        Some(Value::Bool(true)) => false,
        // An options object (`{"Airship": {...}}`) means the destination is on.
        Some(Value::Object(_)) => false,
        _ => integrations.get("All") == Some(&Value::Bool(false)),
    }
}

fn model_error_outcome(err: &ModelError) -> Outcome {
    let message = err.to_string();
    match err {
        ModelError::NotAnObject { .. } | ModelError::NotABatch => {
            Outcome::invalid(InvalidReason::NotAnObject, "message", message)
        }
        ModelError::MissingType | ModelError::UnknownType(_) => {
            Outcome::invalid(InvalidReason::InvalidType, "type", message)
        }
        ModelError::InvalidField { field, .. } => {
            Outcome::invalid(InvalidReason::InvalidField, field.clone(), message)
        }
    }
}
