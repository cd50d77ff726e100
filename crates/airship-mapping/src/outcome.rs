//! The result of mapping one message: exactly one outcome, plus warnings.

use serde::{Deserialize, Serialize};

use crate::request::AirshipRequest;

/// Reason a valid message produces no Airship request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// `userId` is missing, null or empty; `anonymousId` is never used as a named user.
    NoUserId,
    /// `integrations` turns this destination off.
    DisabledByIntegrations,
    /// `page`, `screen` and `alias` have no Airship equivalent.
    UnsupportedType,
    /// `identify` without traits.
    NoTraits,
    /// `track` with more top-level properties than the limit.
    TooManyProperties,
    /// The message mapped to nothing: every trait was left out with a warning.
    NothingToSend,
}

impl SkipReason {
    /// Returns the snake_case code, as printed by `map`.
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::NoUserId => "no_user_id",
            SkipReason::DisabledByIntegrations => "disabled_by_integrations",
            SkipReason::UnsupportedType => "unsupported_type",
            SkipReason::NoTraits => "no_traits",
            SkipReason::TooManyProperties => "too_many_properties",
            SkipReason::NothingToSend => "nothing_to_send",
        }
    }
}

/// Reason a message breaks the Segment spec or an Airship limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidReason {
    /// The input is not valid JSON.
    MalformedJson,
    /// The message is not a JSON object.
    NotAnObject,
    /// No `type`, or a `type` Segment does not define.
    InvalidType,
    /// A field has the wrong JSON type or shape.
    InvalidField,
    /// `userId` is not a string or integer, has surrounding whitespace, or is too long.
    InvalidUserId,
    /// A timestamp field is not in an accepted form.
    InvalidTimestamp,
    /// `track` without a usable `event` name.
    MissingEvent,
    /// The custom-event name is longer than Airship accepts.
    EventNameTooLong,
    /// Custom-event properties are larger than Airship accepts once serialised.
    PropertiesTooLarge,
    /// The custom event is older than Airship accepts.
    TooOld,
    /// The custom event lies in the future beyond the allowed clock skew.
    InFuture,
    /// `group` without a usable `groupId`.
    MissingGroupId,
    /// The message is larger than the per-message limit.
    MessageTooLarge,
}

impl InvalidReason {
    /// Returns the snake_case code, as printed by `map`.
    pub fn code(self) -> &'static str {
        match self {
            InvalidReason::MalformedJson => "malformed_json",
            InvalidReason::NotAnObject => "not_an_object",
            InvalidReason::InvalidType => "invalid_type",
            InvalidReason::InvalidField => "invalid_field",
            InvalidReason::InvalidUserId => "invalid_user_id",
            InvalidReason::InvalidTimestamp => "invalid_timestamp",
            InvalidReason::MissingEvent => "missing_event",
            InvalidReason::EventNameTooLong => "event_name_too_long",
            InvalidReason::PropertiesTooLarge => "properties_too_large",
            InvalidReason::TooOld => "too_old",
            InvalidReason::InFuture => "in_future",
            InvalidReason::MissingGroupId => "missing_group_id",
            InvalidReason::MessageTooLarge => "message_too_large",
        }
    }
}

/// Reason part of a message was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningReason {
    /// The trait is not in the configured attribute list of the Airship project.
    NotAKnownAttribute,
    /// The key starts with `ua_`, which Airship reserves.
    ReservedKey,
    /// An attribute key is longer than 64 characters.
    KeyTooLong,
    /// An attribute key contains `#`, which Airship reserves to separate a JSON attribute's instance.
    InvalidKey,
    /// A tag is longer than 127 characters, or empty.
    InvalidTag,
    /// A text value is longer than 255 characters.
    TextTooLong,
    /// A number attribute received something that is not a number.
    NotANumber,
    /// A phone attribute received something that does not look like a phone number.
    NotAPhoneNumber,
    /// A date attribute received something that is not a date.
    NotADate,
    /// An object or array where the attribute type takes a scalar, or a scalar for a JSON attribute.
    UnsupportedValue,
    /// Another source for the same attribute key took precedence.
    Overridden,
    /// `properties.revenue` is not a number.
    RevenueNotANumber,
    /// `properties.revenue` is outside −2^31..2^31−1.
    RevenueOutOfRange,
    /// A property string is longer than 255 characters.
    PropertyTooLong,
}

impl WarningReason {
    /// Returns the snake_case code, as printed by `map`.
    pub fn code(self) -> &'static str {
        match self {
            WarningReason::NotAKnownAttribute => "not_a_known_attribute",
            WarningReason::ReservedKey => "reserved_key",
            WarningReason::KeyTooLong => "key_too_long",
            WarningReason::InvalidKey => "invalid_key",
            WarningReason::InvalidTag => "invalid_tag",
            WarningReason::TextTooLong => "text_too_long",
            WarningReason::NotANumber => "not_a_number",
            WarningReason::NotAPhoneNumber => "not_a_phone_number",
            WarningReason::NotADate => "not_a_date",
            WarningReason::UnsupportedValue => "unsupported_value",
            WarningReason::Overridden => "overridden",
            WarningReason::RevenueNotANumber => "revenue_not_a_number",
            WarningReason::RevenueOutOfRange => "revenue_out_of_range",
            WarningReason::PropertyTooLong => "property_too_long",
        }
    }
}

/// A part of a message that was left out, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The trait or property key, as sent (`address.city` for nested keys).
    pub key: String,
    pub reason: WarningReason,
    /// One sentence for a person reading the output.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(key: impl Into<String>, reason: WarningReason, message: String) -> Warning {
        Warning {
            key: key.into(),
            reason,
            message,
        }
    }
}

/// Details of an `invalid` outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalid {
    pub reason: InvalidReason,
    /// The field at fault, as a dotted path (`properties`, `context.traits`), or `message` for the
    /// whole message.
    pub field: String,
    /// One sentence naming the value and the fix.
    pub message: String,
}

/// The single outcome of one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The requests to send, in order.
    Sent { requests: Vec<AirshipRequest> },
    /// A valid message this destination does not send.
    Skipped { reason: SkipReason, message: String },
    /// A message that breaks the Segment spec or an Airship limit.
    Invalid(Invalid),
}

impl Outcome {
    /// Builds a `skipped` outcome.
    pub fn skipped(reason: SkipReason, message: impl Into<String>) -> Outcome {
        Outcome::Skipped {
            reason,
            message: message.into(),
        }
    }

    /// Builds an `invalid` outcome naming the field at fault.
    pub fn invalid(
        reason: InvalidReason,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Outcome {
        Outcome::Invalid(Invalid {
            reason,
            field: field.into(),
            message: message.into(),
        })
    }

    /// Returns the outcome name: `sent`, `skipped` or `invalid`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Sent { .. } => "sent",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Invalid(_) => "invalid",
        }
    }

    /// Returns the reason code of a skipped or invalid outcome.
    pub fn reason_code(&self) -> Option<&'static str> {
        match self {
            Outcome::Sent { .. } => None,
            Outcome::Skipped { reason, .. } => Some(reason.code()),
            Outcome::Invalid(invalid) => Some(invalid.reason.code()),
        }
    }
}

/// One message's mapping result, serialised as one line of the `map` output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapped {
    /// The `messageId`, when the message has one.
    pub message_id: Option<String>,
    /// The `type` as sent, when it is a string.
    #[serde(rename = "type")]
    pub message_type: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl Mapped {
    /// Returns the requests of a `sent` outcome, or none for the other outcomes.
    pub fn requests(&self) -> &[AirshipRequest] {
        match &self.outcome {
            Outcome::Sent { requests } => requests,
            Outcome::Skipped { .. } | Outcome::Invalid(_) => &[],
        }
    }
}
