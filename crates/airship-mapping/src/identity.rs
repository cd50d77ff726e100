//! The Airship named user of a message.

use segment_model::json_type_name;
use serde_json::Value;

use crate::outcome::{InvalidReason, Outcome};

/// Airship's limit on named-user ids, in characters.
pub(crate) const MAX_NAMED_USER_CHARS: usize = 128;

/// Reads `userId` as an Airship named user.
///
/// Returns `Ok(None)` when there is no user id (missing, null or empty), and an `invalid` outcome
/// for an id Airship would reject. Ids are never trimmed: trimming could write to another profile.
pub(crate) fn named_user(user_id: Option<&Value>) -> Result<Option<String>, Outcome> {
    let id = match user_id {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(id)) if id.is_empty() => return Ok(None),
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(number)) if is_integer_text(&number.to_string()) => number.to_string(),
        Some(other) => {
            return Err(Outcome::invalid(
                InvalidReason::InvalidUserId,
                "userId",
                format!(
                    "userId must be a string or an integer, found {}",
                    describe(other)
                ),
            ))
        }
    };
    if id.trim() != id {
        return Err(Outcome::invalid(
            InvalidReason::InvalidUserId,
            "userId",
            format!("userId {id:?} has leading or trailing whitespace, which Airship rejects; send the id without it"),
        ));
    }
    // Airship's id pattern `^(?!\s).{1,128}(?<!\s)$` has `.`, which matches no line terminator.
    if id.chars().any(is_line_terminator) {
        return Err(Outcome::invalid(
            InvalidReason::InvalidUserId,
            "userId",
            format!("userId {id:?} contains a line break, which Airship rejects in named user ids"),
        ));
    }
    // URL parsers (the WHATWG URL standard, which reqwest follows) treat `.` and `..` as dot
    // segments even when percent-encoded, so the attributes path would address another endpoint.
    if id == "." || id == ".." {
        return Err(Outcome::invalid(
            InvalidReason::InvalidUserId,
            "userId",
            format!("userId {id:?} cannot be used as an Airship named user, because it is a dot segment in the URL path of the attributes endpoint"),
        ));
    }
    let length = id.chars().count();
    if length > MAX_NAMED_USER_CHARS {
        return Err(Outcome::invalid(
            InvalidReason::InvalidUserId,
            "userId",
            format!("userId has {length} characters; Airship named users have at most {MAX_NAMED_USER_CHARS}"),
        ));
    }
    Ok(Some(id))
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(number) => format!("the number {number}"),
        other => json_type_name(other).to_owned(),
    }
}

/// Checks whether `text` is a JSON integer: an optional minus sign and digits only.
pub(crate) fn is_integer_text(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}
