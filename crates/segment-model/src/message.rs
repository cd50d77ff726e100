//! The six Segment call types, tagged on `type`.

use serde::{Deserialize, Serialize};

use serde_json::{Map, Value};

/// Failure to read one message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    /// The message is not a JSON object.
    #[error("message must be a JSON object, found {found}")]
    NotAnObject { found: &'static str },
    /// The message has no `type`, or a `type` that is not a string.
    #[error("message has no `type`; expected one of identify, track, group, page, screen, alias")]
    MissingType,
    /// The `type` names a call Segment does not define.
    #[error(
        "unknown message type `{0}`; expected one of identify, track, group, page, screen, alias"
    )]
    UnknownType(String),
    /// A field has the wrong JSON type.
    #[error("field `{field}` is invalid: {reason}")]
    InvalidField { field: String, reason: String },
    /// The batch envelope is not of the form `{"batch":[...]}`.
    #[error("batch body must be an object with a `batch` array")]
    NotABatch,
}

/// The Segment call type of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Identify,
    Track,
    Group,
    Page,
    Screen,
    Alias,
}

impl MessageType {
    /// All call types, in the order Segment's spec lists them.
    pub const ALL: [MessageType; 6] = [
        MessageType::Identify,
        MessageType::Track,
        MessageType::Page,
        MessageType::Screen,
        MessageType::Group,
        MessageType::Alias,
    ];

    /// Returns the wire name, as in the `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Identify => "identify",
            MessageType::Track => "track",
            MessageType::Group => "group",
            MessageType::Page => "page",
            MessageType::Screen => "screen",
            MessageType::Alias => "alias",
        }
    }

    /// Parses a wire name; `None` for anything Segment does not define.
    pub fn from_wire(name: &str) -> Option<MessageType> {
        MessageType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for MessageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fields every call type shares.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Common {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// A string in the spec, but some senders use numbers; the mapping decides what is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_timestamp: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrations: Option<Value>,
    /// Every top-level field this crate does not name, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Common {
    /// Takes the shared fields out of `object`; every other field lands in `extra`.
    fn from_rest(mut object: Map<String, Value>) -> Result<Common, ModelError> {
        let message_id = match take(&mut object, "messageId") {
            None => None,
            Some(Value::String(id)) => Some(id),
            Some(other) => {
                return Err(ModelError::InvalidField {
                    field: "messageId".into(),
                    reason: format!("expected a string, found {}", json_type_name(&other)),
                })
            }
        };
        Ok(Common {
            message_id,
            user_id: take(&mut object, "userId"),
            anonymous_id: take(&mut object, "anonymousId"),
            timestamp: take(&mut object, "timestamp"),
            original_timestamp: take(&mut object, "originalTimestamp"),
            received_at: take(&mut object, "receivedAt"),
            sent_at: take(&mut object, "sentAt"),
            context: take(&mut object, "context"),
            integrations: take(&mut object, "integrations"),
            extra: object,
        })
    }
}

/// Removes `key` from `object`; a JSON `null` counts as absent.
fn take(object: &mut Map<String, Value>, key: &str) -> Option<Value> {
    object.remove(key).filter(|value| !value.is_null())
}

/// `identify`: who the user is, with traits.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Identify {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traits: Option<Value>,
    #[serde(flatten)]
    pub common: Common,
}

/// `track`: an action the user performed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Track {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
    #[serde(flatten)]
    pub common: Common,
}

/// `group`: the user belongs to an account or organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traits: Option<Value>,
    #[serde(flatten)]
    pub common: Common,
}

/// `page`: a web page view.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Page {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
    #[serde(flatten)]
    pub common: Common,
}

/// `screen`: a mobile screen view.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Screen {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
    #[serde(flatten)]
    pub common: Common,
}

/// `alias`: merges two user identities.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alias {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<Value>,
    #[serde(flatten)]
    pub common: Common,
}

/// One Segment message, tagged on `type`.
///
/// Page and screen have the same fields, so only the tag distinguishes them, and the enum is never
/// deserialised untagged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Message {
    Identify(Identify),
    Track(Track),
    Group(Group),
    Page(Page),
    Screen(Screen),
    Alias(Alias),
}

impl Message {
    /// Reads one message from a JSON value, with an error that names what is wrong.
    pub fn from_value(value: Value) -> Result<Message, ModelError> {
        let Value::Object(object) = value else {
            return Err(ModelError::NotAnObject {
                found: json_type_name(&value),
            });
        };
        let message_type = match object.get("type") {
            Some(Value::String(name)) => {
                MessageType::from_wire(name).ok_or_else(|| ModelError::UnknownType(name.clone()))?
            }
            _ => return Err(ModelError::MissingType),
        };
        // Fields are taken out of the map by hand rather than through serde's derive: the derive
        // buffers `flatten`ed and tagged content, which loses integers beyond 64 bits.
        let mut object = object;
        object.remove("type");
        let message = match message_type {
            MessageType::Identify => Message::Identify(Identify {
                traits: take(&mut object, "traits"),
                common: Common::from_rest(object)?,
            }),
            MessageType::Track => Message::Track(Track {
                event: take(&mut object, "event"),
                properties: take(&mut object, "properties"),
                common: Common::from_rest(object)?,
            }),
            MessageType::Group => Message::Group(Group {
                group_id: take(&mut object, "groupId"),
                traits: take(&mut object, "traits"),
                common: Common::from_rest(object)?,
            }),
            MessageType::Page => Message::Page(Page {
                name: take(&mut object, "name"),
                properties: take(&mut object, "properties"),
                common: Common::from_rest(object)?,
            }),
            MessageType::Screen => Message::Screen(Screen {
                name: take(&mut object, "name"),
                properties: take(&mut object, "properties"),
                common: Common::from_rest(object)?,
            }),
            MessageType::Alias => Message::Alias(Alias {
                previous_id: take(&mut object, "previousId"),
                common: Common::from_rest(object)?,
            }),
        };
        Ok(message)
    }

    /// Returns the call type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Identify(_) => MessageType::Identify,
            Message::Track(_) => MessageType::Track,
            Message::Group(_) => MessageType::Group,
            Message::Page(_) => MessageType::Page,
            Message::Screen(_) => MessageType::Screen,
            Message::Alias(_) => MessageType::Alias,
        }
    }

    /// Returns the fields every call type shares.
    pub fn common(&self) -> &Common {
        match self {
            Message::Identify(m) => &m.common,
            Message::Track(m) => &m.common,
            Message::Group(m) => &m.common,
            Message::Page(m) => &m.common,
            Message::Screen(m) => &m.common,
            Message::Alias(m) => &m.common,
        }
    }

    /// Returns the `messageId`, when the sender set one.
    pub fn message_id(&self) -> Option<&str> {
        self.common().message_id.as_deref()
    }
}

/// Returns the JSON type name of a value, for error messages.
pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Message, ModelError> {
        Message::from_value(serde_json::from_str(text).unwrap())
    }

    #[test]
    fn identify_keeps_unknown_fields() {
        let message =
            parse(r#"{"type":"identify","userId":"u1","traits":{"a":1},"custom":{"x":true}}"#)
                .unwrap();
        let Message::Identify(identify) = message else {
            panic!("expected identify, got {message:?}");
        };
        assert_eq!(identify.common.user_id, Some(json!("u1")));
        assert_eq!(
            identify.common.extra.get("custom"),
            Some(&json!({"x": true}))
        );
    }

    #[test]
    fn page_and_screen_stay_apart() {
        let page = parse(r#"{"type":"page","name":"Home"}"#).unwrap();
        let screen = parse(r#"{"type":"screen","name":"Home"}"#).unwrap();
        assert_eq!(page.message_type(), MessageType::Page);
        assert_eq!(screen.message_type(), MessageType::Screen);
    }

    #[test]
    fn large_integer_keeps_every_digit() {
        let message =
            parse(r#"{"type":"track","event":"E","properties":{"order_id":1610521604143693812}}"#)
                .unwrap();
        let text = serde_json::to_string(&message).unwrap();
        assert!(text.contains(r#""order_id":1610521604143693812"#), "{text}");
    }

    #[test]
    fn integers_beyond_64_bits_keep_every_digit() {
        let message = parse(
            r#"{"type":"track","event":"E","properties":{"a":18446744073709551616,"b":10000000000000000000000000000000000000000}}"#,
        )
        .unwrap();
        let text = serde_json::to_string(&message).unwrap();
        assert!(text.contains(r#""a":18446744073709551616"#), "{text}");
        assert!(
            text.contains(r#""b":10000000000000000000000000000000000000000"#),
            "{text}"
        );
    }

    #[test]
    fn numeric_user_id_is_kept_as_number() {
        let message = parse(r#"{"type":"identify","userId":4242}"#).unwrap();
        assert_eq!(message.common().user_id, Some(json!(4242)));
    }

    #[test]
    fn missing_type_is_an_error() {
        assert_eq!(parse(r#"{"userId":"u"}"#), Err(ModelError::MissingType));
        assert_eq!(parse(r#"{"type":7}"#), Err(ModelError::MissingType));
    }

    #[test]
    fn unknown_type_is_named() {
        assert_eq!(
            parse(r#"{"type":"purchase"}"#),
            Err(ModelError::UnknownType("purchase".into()))
        );
    }

    #[test]
    fn non_object_is_rejected() {
        assert_eq!(
            parse("[1]"),
            Err(ModelError::NotAnObject { found: "an array" })
        );
    }

    #[test]
    fn non_string_message_id_is_named() {
        let err = parse(r#"{"type":"track","messageId":5}"#).unwrap_err();
        assert_eq!(
            err,
            ModelError::InvalidField {
                field: "messageId".into(),
                reason: "expected a string, found a number".into()
            }
        );
    }
}
