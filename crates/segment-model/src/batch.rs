//! The `/v1/batch` envelope: `{"batch":[...], "context":..., "integrations":..., ...}`.

use serde_json::{Map, Value};

use crate::message::ModelError;

/// Envelope keys that are not copied into each message.
pub const BATCH_ENVELOPE_KEYS: [&str; 2] = ["batch", "writeKey"];

/// A batch split into its messages, with the envelope fields applied to each.
///
/// Messages stay raw JSON so that one malformed message can be rejected without losing the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub messages: Vec<Value>,
    /// The `writeKey` field of the envelope, when present.
    pub write_key: Option<String>,
}

/// Splits a batch body into messages.
///
/// Envelope fields other than `batch` and `writeKey` apply to every message: `context` and
/// `integrations` are merged key by key (the message's own keys win), and any other field is copied
/// only into messages that lack it.
pub fn parse_batch(body: Value) -> Result<Batch, ModelError> {
    let Value::Object(mut envelope) = body else {
        return Err(ModelError::NotABatch);
    };
    let Some(Value::Array(messages)) = envelope.remove("batch") else {
        return Err(ModelError::NotABatch);
    };
    let write_key = match envelope.remove("writeKey") {
        Some(Value::String(key)) => Some(key),
        _ => None,
    };
    let messages = messages
        .into_iter()
        .map(|message| apply_envelope(message, &envelope))
        .collect();
    Ok(Batch {
        messages,
        write_key,
    })
}

fn apply_envelope(message: Value, envelope: &Map<String, Value>) -> Value {
    let Value::Object(mut object) = message else {
        return message;
    };
    for (key, shared) in envelope {
        match (object.get_mut(key), shared) {
            (Some(Value::Object(own)), Value::Object(shared)) if is_merged(key) => {
                for (inner_key, inner_value) in shared {
                    if !own.contains_key(inner_key) {
                        own.insert(inner_key.clone(), inner_value.clone());
                    }
                }
            }
            (Some(_), _) => {}
            (None, _) => {
                object.insert(key.clone(), shared.clone());
            }
        }
    }
    Value::Object(object)
}

fn is_merged(key: &str) -> bool {
    key == "context" || key == "integrations"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_context_merges_under_message_keys() {
        let batch = parse_batch(json!({
            "writeKey": "wk",
            "context": {"library": {"name": "x"}, "ip": "1.2.3.4"},
            "integrations": {"All": false},
            "sentAt": "2026-05-02T12:00:00Z",
            "batch": [
                {"type": "track", "context": {"ip": "9.9.9.9"}},
                {"type": "identify", "integrations": {"Airship": true}, "sentAt": "2026-05-01T00:00:00Z"},
                "not an object"
            ]
        }))
        .unwrap();
        assert_eq!(batch.write_key.as_deref(), Some("wk"));
        assert_eq!(
            batch.messages[0],
            json!({"type": "track",
                   "context": {"ip": "9.9.9.9", "library": {"name": "x"}},
                   "integrations": {"All": false},
                   "sentAt": "2026-05-02T12:00:00Z"})
        );
        assert_eq!(
            batch.messages[1],
            json!({"type": "identify",
                   "integrations": {"Airship": true, "All": false},
                   "context": {"library": {"name": "x"}, "ip": "1.2.3.4"},
                   "sentAt": "2026-05-01T00:00:00Z"})
        );
        assert_eq!(batch.messages[2], json!("not an object"));
    }

    #[test]
    fn body_without_batch_array_is_rejected() {
        assert_eq!(
            parse_batch(json!({"batch": {}})),
            Err(ModelError::NotABatch)
        );
        assert_eq!(parse_batch(json!([])), Err(ModelError::NotABatch));
    }
}
