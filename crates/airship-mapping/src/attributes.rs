//! Traits to tags and attributes, shared by `identify` and `group`.

use serde_json::{json, Map, Number, Value};

use crate::outcome::{Warning, WarningReason};
use crate::request::AirshipRequest;
use crate::settings::{AttributeType, Settings};
use crate::time::{airship_time, parse_event_time, unreadable_time_hint};

/// Airship's limit on attribute keys, in characters.
pub(crate) const MAX_ATTRIBUTE_KEY_CHARS: usize = 64;
/// Airship's limit on text attribute values, in characters.
const MAX_TEXT_CHARS: usize = 255;
/// Maximum tag length in characters. Airship's schema allows 128, but its prose requires "less than 128".
const MAX_TAG_CHARS: usize = 127;
/// Airship's limit on tags in one group array of one request.
const MAX_TAGS_PER_ARRAY: usize = 100;
/// Number attributes that hold phone numbers: a phone-like string keeps only its digits.
const PHONE_KEYS: [&str; 3] = ["mobile_phone", "home_phone", "work_phone"];

/// Whose traits are being mapped; it decides the tag group and what `name` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TraitOwner {
    /// `identify` traits describe the user: `name` is the user's full name.
    User,
    /// `group` traits describe the account: `name` is the company name.
    Group,
}

/// Tag and attribute changes read from one set of traits.
#[derive(Debug, Default)]
pub(crate) struct TraitChanges {
    pub(crate) tags_to_add: Vec<String>,
    pub(crate) tags_to_remove: Vec<String>,
    /// Attribute operations, `set` or `remove`, in trait order.
    pub(crate) operations: Vec<Value>,
}

/// One source of an attribute value.
struct Candidate<'a> {
    /// Airship attribute key after renaming.
    key: String,
    /// Trait key as sent, dotted for nested traits (`address.city`).
    source: String,
    value: &'a Value,
    /// Whether the trait key is the Airship key itself, which wins over a renamed trait.
    explicit: bool,
}

/// Reads tags and attribute operations from `traits`, stamping each operation with `timestamp`.
pub(crate) fn trait_changes(
    traits: &Map<String, Value>,
    owner: TraitOwner,
    settings: &Settings,
    timestamp: &str,
    warnings: &mut Vec<Warning>,
) -> TraitChanges {
    let mut changes = TraitChanges::default();
    let mut candidates = Vec::new();
    for (key, value) in traits {
        if let Some(add) = tag_value(value, settings) {
            push_tag(&mut changes, key, add, warnings);
        } else {
            collect_candidates(key, value, owner, &mut candidates, warnings);
        }
    }
    for candidate in resolve_precedence(candidates, warnings) {
        if let Some(operation) = attribute_operation(&candidate, settings, timestamp, warnings) {
            changes.operations.push(operation);
        }
    }
    changes
}

/// `Some(true)` to add a tag, `Some(false)` to remove it, `None` when the value is not a tag.
fn tag_value(value: &Value, settings: &Settings) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if settings.string_booleans_as_tags => match text.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn push_tag(changes: &mut TraitChanges, key: &str, add: bool, warnings: &mut Vec<Warning>) {
    let length = key.chars().count();
    if length == 0 || length > MAX_TAG_CHARS {
        warnings.push(Warning::new(
            key,
            WarningReason::InvalidTag,
            format!("tag `{key}` has {length} characters; Airship tags have 1 to {MAX_TAG_CHARS}"),
        ));
        return;
    }
    let tags = if add {
        &mut changes.tags_to_add
    } else {
        &mut changes.tags_to_remove
    };
    if !tags.iter().any(|tag| tag == key) {
        tags.push(key.to_owned());
    }
}

/// Renames Segment's reserved traits to Airship's predefined keys and flattens `address` and
/// `company` objects.
fn collect_candidates<'a>(
    key: &str,
    value: &'a Value,
    owner: TraitOwner,
    candidates: &mut Vec<Candidate<'a>>,
    warnings: &mut Vec<Warning>,
) {
    match (key, value) {
        ("address", Value::Object(address)) => {
            for (part, inner) in address {
                let renamed = match part.as_str() {
                    "city" => Some("city"),
                    "state" => Some("region"),
                    "country" => Some("country"),
                    "postalCode" | "postal_code" => Some("zipcode"),
                    _ => None,
                };
                push_nested(candidates, warnings, "address", part, renamed, inner);
            }
        }
        ("company", Value::Object(company)) => {
            for (part, inner) in company {
                let renamed = (part == "name").then_some("company");
                push_nested(candidates, warnings, "company", part, renamed, inner);
            }
        }
        _ => {
            let renamed = rename(key, owner);
            candidates.push(Candidate {
                key: renamed.unwrap_or(key).to_owned(),
                source: key.to_owned(),
                value,
                explicit: renamed.is_none_or(|airship_key| airship_key == key),
            });
        }
    }
}

fn push_nested<'a>(
    candidates: &mut Vec<Candidate<'a>>,
    warnings: &mut Vec<Warning>,
    parent: &str,
    part: &str,
    renamed: Option<&str>,
    value: &'a Value,
) {
    let source = format!("{parent}.{part}");
    match renamed {
        Some(key) => candidates.push(Candidate {
            key: key.to_owned(),
            source,
            value,
            explicit: false,
        }),
        None => warnings.push(Warning::new(
            &source,
            WarningReason::NotAKnownAttribute,
            format!("trait `{source}` has no Airship attribute; only city, state, country and postal code of `address`, and name of `company`, are mapped"),
        )),
    }
}

/// Airship key for a Segment reserved trait, or `None` when the key is used as it is.
fn rename(key: &str, owner: TraitOwner) -> Option<&'static str> {
    match key {
        "firstName" | "first_name" => Some("first_name"),
        "lastName" | "last_name" => Some("last_name"),
        "name" => Some(match owner {
            TraitOwner::User => "full_name",
            TraitOwner::Group => "company",
        }),
        "phone" => Some("mobile_phone"),
        "birthday" => Some("birthdate"),
        "createdAt" | "created_at" => Some("account_creation"),
        _ => None,
    }
}

/// Keeps one candidate per Airship key: the explicit key wins over renamed ones, and among equals
/// the later trait wins. The losers are reported so nothing disappears silently.
fn resolve_precedence<'a>(
    candidates: Vec<Candidate<'a>>,
    warnings: &mut Vec<Warning>,
) -> Vec<Candidate<'a>> {
    let winner_of = |key: &str| {
        let explicit = candidates.iter().rposition(|c| c.key == key && c.explicit);
        explicit
            .or_else(|| candidates.iter().rposition(|c| c.key == key))
            .expect("the key comes from a candidate")
    };
    let winners: Vec<usize> = candidates.iter().map(|c| winner_of(&c.key)).collect();
    for (index, candidate) in candidates.iter().enumerate() {
        if winners[index] == index {
            continue;
        }
        let winner = &candidates[winners[index]];
        warnings.push(Warning::new(
            &candidate.source,
            WarningReason::Overridden,
            format!(
                "trait `{}` was not sent because `{}` also sets attribute `{}` and takes precedence",
                candidate.source, winner.source, candidate.key
            ),
        ));
    }
    candidates
        .into_iter()
        .enumerate()
        .filter(|(index, _)| winners[*index] == *index)
        .map(|(_, candidate)| candidate)
        .collect()
}

fn attribute_operation(
    candidate: &Candidate<'_>,
    settings: &Settings,
    timestamp: &str,
    warnings: &mut Vec<Warning>,
) -> Option<Value> {
    let key = candidate.key.as_str();
    let source = candidate.source.as_str();
    if key.starts_with("ua_") {
        warnings.push(Warning::new(
            source,
            WarningReason::ReservedKey,
            format!("attribute `{key}` starts with `ua_`, which Airship reserves for its own attributes"),
        ));
        return None;
    }
    if key.contains('#') {
        warnings.push(key_with_hash(source, key));
        return None;
    }
    let kind = match settings.attribute_type(key) {
        Some(kind) => kind,
        None if settings.send_unknown_attributes => match inferred_type(candidate.value) {
            Some(kind) => kind,
            None => {
                warnings.push(unsupported_value(source, key, candidate.value));
                return None;
            }
        },
        None => {
            warnings.push(Warning::new(
                source,
                WarningReason::NotAKnownAttribute,
                format!("trait `{source}` is not a known Airship attribute; add `{key}` to [mapping.attributes] with its type once it exists in the Airship project"),
            ));
            return None;
        }
    };
    // The limit applies to the key as sent, `#<instance>` included.
    let wire_key = wire_key(key, kind, settings);
    if wire_key.chars().count() > MAX_ATTRIBUTE_KEY_CHARS {
        warnings.push(key_too_long(source, &wire_key));
        return None;
    }
    if matches!(candidate.value, Value::Null) || candidate.value.as_str() == Some("") {
        return Some(json!({"action": "remove", "key": wire_key, "timestamp": timestamp}));
    }
    let value = match attribute_value(key, kind, candidate.value) {
        Ok(value) => value,
        Err((reason, detail)) => {
            warnings.push(Warning::new(source, reason, detail));
            return None;
        }
    };
    Some(json!({"action": "set", "key": wire_key, "value": value, "timestamp": timestamp}))
}

pub(crate) fn key_with_hash(source: &str, key: &str) -> Warning {
    Warning::new(
        source,
        WarningReason::InvalidKey,
        format!("attribute key `{key}` contains `#`, which Airship reserves to separate a JSON attribute's instance"),
    )
}

pub(crate) fn key_too_long(source: &str, key: &str) -> Warning {
    let length = key.chars().count();
    Warning::new(
        source,
        WarningReason::KeyTooLong,
        format!("attribute key `{key}` has {length} characters; Airship attribute keys have at most {MAX_ATTRIBUTE_KEY_CHARS}"),
    )
}

/// Returns the key as sent, with `#<instance>` appended for JSON attributes.
fn wire_key(key: &str, kind: AttributeType, settings: &Settings) -> String {
    match kind {
        AttributeType::Json => format!("{key}#{}", settings.json_instance),
        AttributeType::Text | AttributeType::Number | AttributeType::Date => key.to_owned(),
    }
}

fn inferred_type(value: &Value) -> Option<AttributeType> {
    match value {
        Value::String(_) | Value::Null => Some(AttributeType::Text),
        Value::Number(_) => Some(AttributeType::Number),
        Value::Object(_) => Some(AttributeType::Json),
        Value::Bool(_) | Value::Array(_) => None,
    }
}

fn unsupported_value(source: &str, key: &str, value: &Value) -> Warning {
    Warning::new(
        source,
        WarningReason::UnsupportedValue,
        format!(
            "trait `{source}` is {}, which attribute `{key}` cannot hold",
            segment_model::json_type_name(value)
        ),
    )
}

type ValueError = (WarningReason, String);

/// Converts a trait value to the attribute's type.
fn attribute_value(key: &str, kind: AttributeType, value: &Value) -> Result<Value, ValueError> {
    match kind {
        AttributeType::Text => text_value(key, value),
        AttributeType::Number if PHONE_KEYS.contains(&key) => phone_value(key, value),
        AttributeType::Number => number_value(key, value),
        AttributeType::Date => date_value(key, value),
        AttributeType::Json => match value {
            Value::Object(_) if contains_null(value) => Err((
                WarningReason::UnsupportedValue,
                format!("JSON attribute `{key}` contains null, which Airship's JSON attributes cannot hold; leave the key out instead"),
            )),
            Value::Object(_) => Ok(value.clone()),
            other => Err(unsupported(key, other)),
        },
    }
}

fn contains_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(contains_null),
        Value::Object(object) => object.values().any(contains_null),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => false,
    }
}

fn unsupported(key: &str, value: &Value) -> ValueError {
    (
        WarningReason::UnsupportedValue,
        format!(
            "attribute `{key}` cannot hold {}",
            segment_model::json_type_name(value)
        ),
    )
}

fn text_value(key: &str, value: &Value) -> Result<Value, ValueError> {
    let text = match value {
        Value::String(text) => text.clone(),
        // The number's original digits, thanks to serde_json's arbitrary precision.
        Value::Number(number) => number.to_string(),
        other => return Err(unsupported(key, other)),
    };
    let length = text.chars().count();
    if length > MAX_TEXT_CHARS {
        return Err((
            WarningReason::TextTooLong,
            format!("attribute `{key}` has {length} characters; Airship text attributes have at most {MAX_TEXT_CHARS}, and values are never cut"),
        ));
    }
    Ok(Value::String(text))
}

fn number_value(key: &str, value: &Value) -> Result<Value, ValueError> {
    match value {
        Value::Number(_) => Ok(value.clone()),
        Value::String(text) if has_leading_zero(text) => Err((
            WarningReason::NotANumber,
            format!("attribute `{key}` is a number attribute, and {text:?} would lose its leading zeros as a number; define the attribute as text in Airship and in [mapping.attributes] to keep them"),
        )),
        Value::String(text) => parse_number(text).map(Value::Number).ok_or_else(|| {
            (
                WarningReason::NotANumber,
                format!("attribute `{key}` is a number attribute, but {text:?} is not a number"),
            )
        }),
        other => Err(unsupported(key, other)),
    }
}

/// Checks whether `text` is an integer part written with a leading zero (`"02134"`), which a number
/// cannot keep. `"0"` and `"0.5"` are ordinary numbers.
fn has_leading_zero(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let bytes = digits.as_bytes();
    bytes.len() > 1 && bytes[0] == b'0' && bytes[1].is_ascii_digit()
}

/// Parses a numeric string, keeping its digits when it is already a JSON number literal.
pub(crate) fn parse_number(text: &str) -> Option<Number> {
    if let Ok(number) = serde_json::from_str::<Number>(text) {
        return Some(number);
    }
    let parsed: f64 = text.parse().ok()?;
    number_from_f64(parsed)
}

/// Converts `value` to a JSON number, written without a fraction when it has none.
pub(crate) fn number_from_f64(value: f64) -> Option<Number> {
    if !value.is_finite() {
        return None;
    }
    // Above 2^53 an f64 cannot represent every integer, so such values keep the float form.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        return Some(Number::from(value as i64));
    }
    Number::from_f64(value)
}

fn phone_value(key: &str, value: &Value) -> Result<Value, ValueError> {
    let not_a_phone = |shown: String| {
        (
            WarningReason::NotAPhoneNumber,
            format!("attribute `{key}` takes a phone number of digits, spaces, +, -, . and parentheses; {shown} is not one"),
        )
    };
    match value {
        Value::Number(_) => Ok(value.clone()),
        Value::String(text) => {
            let looks_like_phone = text
                .chars()
                .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            // A JSON number cannot start with 0, so leading zeros go as they would in any number.
            let significant = digits.trim_start_matches('0');
            if !looks_like_phone || digits.is_empty() {
                return Err(not_a_phone(format!("{text:?}")));
            }
            let literal = if significant.is_empty() {
                "0"
            } else {
                significant
            };
            serde_json::from_str::<Number>(literal)
                .map(Value::Number)
                .map_err(|_| not_a_phone(format!("{text:?}")))
        }
        other => Err(not_a_phone(segment_model::json_type_name(other).to_owned())),
    }
}

fn date_value(key: &str, value: &Value) -> Result<Value, ValueError> {
    match parse_event_time(value) {
        Some(time) => Ok(Value::String(airship_time(time))),
        None => Err((
            WarningReason::NotADate,
            format!(
                "attribute `{key}` is a date attribute, but {value} {}",
                unreadable_time_hint(value)
            ),
        )),
    }
}

/// Tag requests for one named user, at most 100 tags per group array in each request.
pub(crate) fn tag_requests(
    named_user: &str,
    group: &str,
    changes: &TraitChanges,
) -> Vec<AirshipRequest> {
    let add_chunks: Vec<&[String]> = changes.tags_to_add.chunks(MAX_TAGS_PER_ARRAY).collect();
    let remove_chunks: Vec<&[String]> = changes.tags_to_remove.chunks(MAX_TAGS_PER_ARRAY).collect();
    let count = add_chunks.len().max(remove_chunks.len());
    (0..count)
        .map(|index| {
            let mut body = Map::new();
            body.insert("audience".into(), json!({"named_user_id": [named_user]}));
            if let Some(tags) = add_chunks.get(index) {
                body.insert("add".into(), json!({ group: tags }));
            }
            if let Some(tags) = remove_chunks.get(index) {
                body.insert("remove".into(), json!({ group: tags }));
            }
            AirshipRequest::named_user_tags(Value::Object(body))
        })
        .collect()
}
