//! Properties of the mapping over generated Segment messages, each stated above its test.
//!
//! The clock is fixed at NOW = 2026-05-02T12:00:00Z. Generated messages mix every JSON type, trait
//! and property keys with upper case and non-ASCII characters, numeric and string user ids, and
//! event times inside and outside Airship's 90-day window. Each property runs proptest's default
//! 256 cases (override with `PROPTEST_CASES`).

use std::collections::BTreeSet;

use airship_mapping::{map_message, AttributeType, Endpoint, Mapped, Settings};
use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, SecondsFormat, Utc};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use proptest::string::string_regex;
use serde_json::{json, Map, Value};

const NOW: &str = "2026-05-02T12:00:00Z";

/// Airship's form of a date-time, as `chrono` formats it.
const AIRSHIP_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

fn now() -> DateTime<Utc> {
    NOW.parse().expect("NOW is RFC 3339")
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Segment reserved traits and Airship predefined keys, so renames and precedence are exercised.
const KNOWN_TRAIT_KEYS: [&str; 31] = [
    "firstName",
    "first_name",
    "lastName",
    "last_name",
    "name",
    "full_name",
    "email",
    "phone",
    "mobile_phone",
    "home_phone",
    "work_phone",
    "title",
    "gender",
    "birthday",
    "birthdate",
    "age",
    "username",
    "createdAt",
    "created_at",
    "account_creation",
    "company",
    "address",
    "city",
    "region",
    "country",
    "zipcode",
    "loyalty_tier",
    "latitude",
    "ua_country",
    "preferences",
    "revenue",
];

fn regex(pattern: &str) -> BoxedStrategy<String> {
    string_regex(pattern)
        .unwrap_or_else(|err| panic!("bad pattern {pattern}: {err}"))
        .boxed()
}

/// Generates trait and property keys: known keys, ASCII with upper case, any Unicode, and keys
/// near or over the 64-character attribute limit.
fn key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(KNOWN_TRAIT_KEYS.as_slice()).prop_map(str::to_owned),
        3 => regex("[a-zA-Z_][a-zA-Z0-9_ .-]{0,20}"),
        2 => regex("\\PC{1,12}"),
        1 => regex("[A-Za-zÀ-ÖØ-Þ]{60,140}"),
        1 => regex("[a-z_]{56,70}"),
    ]
    .boxed()
}

/// Dates, some with a UTC time, as senders write birthdays and sign-up times.
const DATE_PATTERN: &str =
    "(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T[01][0-9]:[0-5][0-9]:[0-5][0-9]Z)?";

/// Generates strings shaped like the values Segment senders put in traits and properties.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => regex("\\PC{0,30}"),
        1 => Just(String::new()),
        1 => prop_oneof![Just("true"), Just("false")].prop_map(str::to_owned),
        1 => regex("-?[0-9]{1,12}(\\.[0-9]{1,8})?"),
        1 => regex("\\+?[0-9 ()\\-.]{3,20}"),
        1 => regex(DATE_PATTERN),
        1 => regex("[a-zé]{250,300}"),
    ]
    .boxed()
}

/// Generates JSON numbers of every kind: small and large integers, fractions and exponents.
fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        regex("-?[1-9][0-9]{0,8}\\.[0-9]{1,9}(e[+-]?[0-9]{1,2})?")
            .prop_map(|literal| serde_json::from_str(&literal).expect("number literal")),
    ]
    .boxed()
}

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        2 => any::<bool>().prop_map(Value::Bool),
        2 => number(),
        4 => text().prop_map(Value::String),
    ]
    .boxed()
}

/// Generates any JSON value, nested up to `depth` levels of arrays and objects.
fn json_value(depth: u32) -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(depth, 32, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((key(), inner), 0..5)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
        .boxed()
}

/// Generates trait values: mostly scalars, sometimes `address`- or `company`-like objects and
/// arrays.
fn trait_value() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => scalar(),
        1 => json_value(2),
        1 => proptest::collection::vec(
            (
                proptest::sample::select(
                    ["city", "state", "country", "postalCode", "postal_code", "street", "name"]
                        .as_slice()
                ),
                scalar(),
            ),
            0..5,
        )
        .prop_map(|pairs| {
            Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        }),
    ]
    .boxed()
}

fn traits(max: usize) -> BoxedStrategy<Map<String, Value>> {
    proptest::collection::vec((key(), trait_value()), 0..max)
        .prop_map(|pairs| pairs.into_iter().collect())
        .boxed()
}

/// Generates `userId` as senders send it: ids, numbers, padded ids, over-long ids, empty values
/// and other JSON types.
fn user_id() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        6 => regex("[a-zA-Z0-9_.@/#ü -]{1,24}").prop_map(|id| Some(Value::String(id))),
        2 => any::<u64>().prop_map(|id| Some(Value::from(id))),
        1 => any::<i64>().prop_map(|id| Some(Value::from(id))),
        1 => (regex("[ \t\n\u{a0}\u{2003}]{1,2}"), regex("[a-z0-9]{1,10}"), any::<bool>())
            .prop_map(|(space, id, leading)| {
                let padded = if leading { format!("{space}{id}") } else { format!("{id}{space}") };
                Some(Value::String(padded))
            }),
        1 => (120usize..=136).prop_map(|length| Some(Value::String("ü".repeat(length)))),
        1 => prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            Just(Some(json!(""))),
            Just(Some(json!(42.5))),
            Just(Some(json!(true))),
        ],
    ]
    .boxed()
}

/// Formats the time `seconds` from NOW in one of the accepted event-time forms, or in a rejected
/// one.
fn format_time(seconds: i64, millis: i64, form: u8) -> Value {
    let time = now() + Duration::seconds(seconds) + Duration::milliseconds(millis);
    match form {
        0 => json!(time.to_rfc3339_opts(SecondsFormat::Secs, true)),
        1 => json!(time.to_rfc3339_opts(SecondsFormat::Millis, true)),
        2 => {
            let offset = FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("offset");
            json!(time.with_timezone(&offset).to_rfc3339())
        }
        3 => {
            let offset = FixedOffset::west_opt(7 * 3600).expect("offset");
            json!(time
                .with_timezone(&offset)
                .format("%Y-%m-%d %H:%M:%S %z")
                .to_string())
        }
        4 => json!(time.format("%Y-%m-%d").to_string()),
        5 => json!(time.timestamp()),
        6 => json!(time.timestamp().to_string()),
        7 => json!(time.timestamp_millis()),
        8 => json!(time.timestamp_millis().to_string()),
        9 => json!(time.timestamp_micros()),
        10 => json!(time.timestamp_micros().to_string()),
        // Without an offset, which is rejected.
        11 => json!(time.format("%Y-%m-%dT%H:%M:%S").to_string()),
        _ => json!("yesterday"),
    }
}

/// Generates an event time in one of the three time fields, or none. Times fall inside Airship's
/// window, around both of its edges, and far outside it.
fn event_time() -> BoxedStrategy<Option<(&'static str, Value)>> {
    let day = 86_400_i64;
    let seconds = prop_oneof![
        4 => -89 * day..0,
        1 => -91 * day..-89 * day,
        1 => -600_i64..600,
        1 => -400 * day..400 * day,
    ];
    let field =
        proptest::sample::select(["timestamp", "originalTimestamp", "receivedAt"].as_slice());
    prop_oneof![
        8 => (field, seconds, 0_i64..1000, 0_u8..13).prop_map(|(field, seconds, millis, form)| {
            Some((field, format_time(seconds, millis, form)))
        }),
        1 => Just(None),
    ]
    .boxed()
}

/// Builds the fields every generated message shares.
fn envelope(
    message_type: &str,
    user_id: Option<Value>,
    time: Option<(&'static str, Value)>,
) -> Map<String, Value> {
    let mut message = Map::new();
    message.insert("type".into(), json!(message_type));
    if let Some(id) = user_id {
        message.insert("userId".into(), id);
    }
    message.insert(
        "anonymousId".into(),
        json!("507f191e-810c-4f2a-9a1b-3f4c5d6e7a8b"),
    );
    if let Some((field, value)) = time {
        message.insert(field.into(), value);
    }
    message
}

/// Where an `identify` carries its traits.
#[derive(Debug, Clone, Copy)]
enum TraitsPlace {
    Traits,
    ContextTraits,
    EmptyTraitsAndContextTraits,
}

fn identify_message(max_traits: usize) -> BoxedStrategy<Value> {
    let place = prop_oneof![
        6 => Just(TraitsPlace::Traits),
        1 => Just(TraitsPlace::ContextTraits),
        1 => Just(TraitsPlace::EmptyTraitsAndContextTraits),
    ];
    (user_id(), event_time(), traits(max_traits), place)
        .prop_map(|(user_id, time, traits, place)| {
            let mut message = envelope("identify", user_id, time);
            match place {
                TraitsPlace::Traits => {
                    message.insert("traits".into(), Value::Object(traits));
                }
                TraitsPlace::ContextTraits => {
                    message.insert("context".into(), json!({"traits": traits}));
                }
                TraitsPlace::EmptyTraitsAndContextTraits => {
                    message.insert("traits".into(), json!({}));
                    message.insert("context".into(), json!({"traits": traits}));
                }
            }
            Value::Object(message)
        })
        .boxed()
}

/// Generates `event` names: any Unicode, upper case from several scripts, and blank or missing
/// names.
fn event_name() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        4 => regex("\\PC{1,40}").prop_map(|name| Some(Value::String(name))),
        4 => regex("[A-Za-zÀ-ÖØ-ÞĀ-žΑ-ΩА-ЯİIıẞ0-9 :!()]{1,40}")
            .prop_map(|name| Some(Value::String(name))),
        1 => regex("[A-Z]{250,260}").prop_map(|name| Some(Value::String(name))),
        1 => prop_oneof![Just(None), Just(Some(json!("  "))), Just(Some(json!(7)))],
    ]
    .boxed()
}

fn properties() -> BoxedStrategy<Map<String, Value>> {
    proptest::collection::vec((key(), json_value(2)), 0..24)
        .prop_map(|pairs| pairs.into_iter().collect())
        .boxed()
}

fn track_message() -> BoxedStrategy<Value> {
    (user_id(), event_time(), event_name(), properties())
        .prop_map(|(user_id, time, event, properties)| {
            let mut message = envelope("track", user_id, time);
            if let Some(event) = event {
                message.insert("event".into(), event);
            }
            message.insert("properties".into(), Value::Object(properties));
            Value::Object(message)
        })
        .boxed()
}

fn group_id() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        4 => regex("[a-zA-Z0-9_-]{1,50}").prop_map(|id| Some(Value::String(id))),
        2 => any::<u64>().prop_map(|id| Some(Value::from(id))),
        1 => prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            Just(Some(json!(""))),
            Just(Some(json!(1.5))),
        ],
    ]
    .boxed()
}

fn group_message(max_traits: usize) -> BoxedStrategy<Value> {
    (user_id(), event_time(), group_id(), traits(max_traits))
        .prop_map(|(user_id, time, group_id, traits)| {
            let mut message = envelope("group", user_id, time);
            if let Some(id) = group_id {
                message.insert("groupId".into(), id);
            }
            message.insert("traits".into(), Value::Object(traits));
            Value::Object(message)
        })
        .boxed()
}

fn segment_message() -> BoxedStrategy<Value> {
    prop_oneof![identify_message(12), track_message(), group_message(12)].boxed()
}

/// Generates the default settings, or settings that let more traits through as tags or
/// attributes.
fn settings() -> BoxedStrategy<Settings> {
    let send_unknown = Settings {
        send_unknown_attributes: true,
        ..Settings::default()
    };
    let string_booleans = Settings {
        string_booleans_as_tags: true,
        ..Settings::default()
    };
    let mut custom_attributes = Settings::default();
    custom_attributes
        .attributes
        .insert("preferences".into(), AttributeType::Json);
    custom_attributes
        .attributes
        .insert("revenue".into(), AttributeType::Number);
    prop_oneof![
        3 => Just(Settings::default()),
        1 => Just(send_unknown),
        1 => Just(string_booleans),
        1 => Just(custom_attributes),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// Reading the output
// ---------------------------------------------------------------------------------------------

fn bodies_of(mapped: &Mapped, endpoint: Endpoint) -> Vec<&Value> {
    mapped
        .requests()
        .iter()
        .filter(|request| request.endpoint() == Some(endpoint))
        .map(|request| &request.body)
        .collect()
}

/// Collects the custom events of all custom-event requests.
fn custom_events(mapped: &Mapped) -> Vec<&Value> {
    bodies_of(mapped, Endpoint::CustomEvents)
        .into_iter()
        .flat_map(|body| body.as_array().expect("custom events are an array"))
        .collect()
}

/// Collects the operations of all attributes requests.
fn attribute_operations(mapped: &Mapped) -> Vec<&Value> {
    bodies_of(mapped, Endpoint::NamedUserAttributes)
        .into_iter()
        .flat_map(|body| body["attributes"].as_array().expect("attributes array"))
        .collect()
}

/// Collects every tag array (`add` or `remove`, any group) of all tags requests.
fn tag_arrays(mapped: &Mapped) -> Vec<&Vec<Value>> {
    bodies_of(mapped, Endpoint::NamedUserTags)
        .into_iter()
        .flat_map(|body| ["add", "remove"].map(|action| body.get(action)))
        .flatten()
        .flat_map(|groups| groups.as_object().expect("tag-group map").values())
        .map(|tags| tags.as_array().expect("tag array"))
        .collect()
}

/// Collects every named user the requests address: tag audiences, attribute paths and event
/// users.
fn named_user_ids(mapped: &Mapped) -> Vec<String> {
    let mut ids = Vec::new();
    for request in mapped.requests() {
        match request.endpoint() {
            Some(Endpoint::NamedUserTags) => {
                let audience = request.body["audience"]["named_user_id"]
                    .as_array()
                    .expect("audience array");
                ids.extend(
                    audience
                        .iter()
                        .map(|id| id.as_str().expect("id").to_owned()),
                );
            }
            Some(Endpoint::NamedUserAttributes) => {
                let segment = request
                    .path
                    .strip_prefix("/api/named_users/")
                    .and_then(|rest| rest.strip_suffix("/attributes"))
                    .expect("attributes path");
                let id = percent_decode_str(segment).decode_utf8().expect("UTF-8 id");
                ids.push(id.into_owned());
            }
            Some(Endpoint::CustomEvents) => {
                for event in request.body.as_array().expect("events") {
                    let id = event["user"]["named_user_id"].as_str().expect("id");
                    ids.push(id.to_owned());
                }
            }
            None => panic!("request to an unexpected path {}", request.path),
        }
    }
    ids
}

/// Returns the traits the mapping reads: `traits`, or for `identify` `context.traits` when
/// `traits` is missing or empty.
fn effective_traits(message: &Value) -> Map<String, Value> {
    let own = message.get("traits").and_then(Value::as_object);
    if let Some(traits) = own.filter(|traits| !traits.is_empty()) {
        return traits.clone();
    }
    if message["type"] == "identify" {
        if let Some(traits) = message["context"]["traits"].as_object() {
            return traits.clone();
        }
    }
    Map::new()
}

/// Lists the Airship attribute keys a non-boolean trait can set, after Segment's reserved traits
/// are renamed.
fn keys_set_by(key: &str, value: &Value, message_type: &str) -> Vec<String> {
    match (key, value) {
        ("address", Value::Object(address)) => address
            .keys()
            .filter_map(|part| match part.as_str() {
                "city" => Some("city"),
                "state" => Some("region"),
                "country" => Some("country"),
                "postalCode" | "postal_code" => Some("zipcode"),
                _ => None,
            })
            .map(str::to_owned)
            .collect(),
        ("company", Value::Object(_)) => vec!["company".into()],
        _ => {
            let renamed = match key {
                "firstName" => "first_name",
                "lastName" => "last_name",
                "name" if message_type == "group" => "company",
                "name" => "full_name",
                "phone" => "mobile_phone",
                "birthday" => "birthdate",
                "createdAt" | "created_at" => "account_creation",
                other => other,
            };
            vec![renamed.to_owned()]
        }
    }
}

/// Checks whether Unicode lower-casing changes `c`.
fn has_lower_case_form(c: char) -> bool {
    !c.to_lowercase().eq(std::iter::once(c))
}

/// Maps the message in `json_text` with the default settings and serialises its first request
/// body, keeping every number's digits.
fn first_request_body(json_text: &str) -> String {
    let message = serde_json::from_str(json_text).expect("the message is valid JSON");
    let mapped = map_message(message, &Settings::default(), now());
    let request = mapped
        .requests()
        .first()
        .unwrap_or_else(|| panic!("no request for {json_text}: {mapped:?}"));
    serde_json::to_string(&request.body).expect("the body serialises")
}

fn is_airship_time(text: &str) -> bool {
    NaiveDateTime::parse_from_str(text, AIRSHIP_TIME_FORMAT)
        .is_ok_and(|time| time.format(AIRSHIP_TIME_FORMAT).to_string() == text)
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    // No custom-event name contains an upper-case letter: the name equals its own lower-case
    // form, has no A-Z (the characters Airship rejects), and has no upper-case character that
    // Unicode can lower-case.
    // NOTE: upper-case characters without a lower-case mapping, such as U+1D507 MATHEMATICAL
    // FRAKTUR CAPITAL D, stay in the name, because Unicode lower-casing leaves them unchanged.
    #[test]
    fn event_names_have_no_upper_case(message in track_message()) {
        let mapped = map_message(message, &Settings::default(), now());
        for event in custom_events(&mapped) {
            let name = event["body"]["name"].as_str().expect("name is a string");
            prop_assert_eq!(name.to_lowercase(), name);
            prop_assert!(!name.chars().any(|c| c.is_ascii_uppercase()), "A-Z in {:?}", name);
            let lowerable = name.chars().find(|c| c.is_uppercase() && has_lower_case_form(*c));
            prop_assert_eq!(lowerable, None, "upper case in {:?}", name);
        }
    }

    // No request is empty: a tags request has a non-empty `add` or `remove` and every group
    // array in it has a tag, an attributes request has at least one operation, and a
    // custom-events request has 1 to 100 events.
    #[test]
    fn requests_are_never_empty(message in segment_message(), settings in settings()) {
        let mapped = map_message(message, &settings, now());
        for body in bodies_of(&mapped, Endpoint::NamedUserTags) {
            let actions: Vec<&Map<String, Value>> = ["add", "remove"]
                .iter()
                .filter_map(|action| body.get(*action))
                .map(|groups| groups.as_object().expect("tag-group map"))
                .collect();
            prop_assert!(!actions.is_empty(), "tags request without add or remove: {}", body);
            for groups in actions {
                prop_assert!(!groups.is_empty(), "empty tag-group map: {}", body);
                for tags in groups.values() {
                    let tags = tags.as_array().expect("tag array");
                    prop_assert!(!tags.is_empty(), "empty tag array: {}", body);
                }
            }
        }
        for body in bodies_of(&mapped, Endpoint::NamedUserAttributes) {
            let operations = body["attributes"].as_array().expect("attributes array");
            prop_assert!(!operations.is_empty(), "attributes request without operations");
        }
        for body in bodies_of(&mapped, Endpoint::CustomEvents) {
            let events = body.as_array().expect("events array");
            let count = events.len();
            prop_assert!((1..=100).contains(&count), "{} custom events in one request", count);
        }
    }

    // No tag array has more than 100 tags, even for up to 400 boolean traits, and every
    // boolean trait with a valid tag name (1 to 127 characters) is in exactly one array.
    #[test]
    fn tag_arrays_hold_at_most_100_tags(
        booleans in proptest::collection::vec((key(), any::<bool>()), 0..400),
        others in traits(8),
        is_group in any::<bool>(),
    ) {
        let mut all_traits = others;
        all_traits.extend(booleans.into_iter().map(|(key, flag)| (key, Value::Bool(flag))));
        let message = if is_group {
            json!({"type": "group", "userId": "jill", "groupId": "acct-1", "traits": all_traits})
        } else {
            json!({"type": "identify", "userId": "jill", "traits": all_traits})
        };
        let mapped = map_message(message, &Settings::default(), now());

        let arrays = tag_arrays(&mapped);
        for tags in &arrays {
            prop_assert!(tags.len() <= 100, "tag array of {} tags", tags.len());
        }
        let expected: BTreeSet<&str> = all_traits
            .iter()
            .filter(|(_, value)| value.is_boolean())
            .map(|(key, _)| key.as_str())
            .filter(|key| (1..=127).contains(&key.chars().count()))
            .collect();
        let sent: Vec<&str> = arrays
            .iter()
            .flat_map(|tags| tags.iter())
            .map(|tag| tag.as_str().expect("tag"))
            .collect();
        prop_assert_eq!(sent.len(), expected.len(), "a tag is missing or repeated");
        prop_assert_eq!(sent.into_iter().collect::<BTreeSet<_>>(), expected);
    }

    // A boolean trait never becomes an attribute: no attribute operation has a boolean value.
    // No operation key equals a boolean trait's key unless a non-boolean trait also sets that key,
    // as `address.city` does next to a boolean `city`.
    #[test]
    fn boolean_traits_never_become_attributes(
        message in prop_oneof![identify_message(16), group_message(16)],
        settings in settings(),
    ) {
        let mapped = map_message(message.clone(), &settings, now());
        let message_type = message["type"].as_str().expect("type");
        let traits = effective_traits(&message);
        let boolean_keys: BTreeSet<&str> = traits
            .iter()
            .filter(|(_, value)| value.is_boolean())
            .map(|(key, _)| key.as_str())
            .collect();
        let mut keys_from_other_traits: BTreeSet<String> = traits
            .iter()
            .filter(|(_, value)| !value.is_boolean())
            .flat_map(|(key, value)| keys_set_by(key, value, message_type))
            .collect();
        if let Some(id) = message.get("groupId") {
            let id = id.as_str().map_or_else(|| id.to_string(), str::to_owned);
            keys_from_other_traits.insert(format!("airship_segment_group_{id}"));
        }

        for operation in attribute_operations(&mapped) {
            prop_assert!(!operation["value"].is_boolean(), "boolean value in {}", operation);
            let wire_key = operation["key"].as_str().expect("key");
            let key = wire_key.split('#').next().expect("split yields one part");
            prop_assert!(
                !boolean_keys.contains(key) || keys_from_other_traits.contains(key),
                "boolean trait `{}` became attribute operation {}", key, operation
            );
        }
    }

    // An integer in `properties` or in a number or text trait keeps every digit: the request
    // body, serialised, contains the literal exactly as it was sent.
    #[test]
    fn integers_keep_every_digit(literal in integer_literal(), key in regex("[a-z_]{1,12}")) {
        let track = format!(
            r#"{{"type":"track","userId":"jill","event":"Order Completed",
                "timestamp":"2026-05-02T11:00:00Z","properties":{{"{key}":{literal}}}}}"#
        );
        let body = first_request_body(&track);
        let expected = format!(r#""{key}":{literal}"#);
        prop_assert!(body.contains(&expected), "{} not in {}", expected, body);

        let identify = format!(
            r#"{{"type":"identify","userId":"jill",
                "traits":{{"age":{literal},"username":{literal}}}}}"#
        );
        let body = first_request_body(&identify);
        let as_number = format!(r#""key":"age","value":{literal},"#);
        let as_text = format!(r#""key":"username","value":"{literal}","#);
        prop_assert!(body.contains(&as_number), "{} not in {}", as_number, body);
        prop_assert!(body.contains(&as_text), "{} not in {}", as_text, body);
    }

    // Every input gets exactly one outcome, and mapping never panics, for any JSON value,
    // object or not. The `map` line is `sent` with requests, `skipped` with a reason and a
    // message, or `invalid` with a reason, the field and a message.
    #[test]
    fn every_value_gets_exactly_one_outcome(
        raw in prop_oneof![json_value(4), message_shaped_value()],
        settings in settings(),
    ) {
        let mapped = map_message(raw, &settings, now());
        let line = serde_json::to_value(&mapped).expect("the map line serialises");
        let fields: BTreeSet<&str> =
            line.as_object().expect("object").keys().map(String::as_str).collect();
        let expected: &[&str] = match line["outcome"].as_str() {
            Some("sent") => {
                prop_assert!(!mapped.requests().is_empty(), "sent without requests");
                &["requests"]
            }
            Some("skipped") => &["reason", "message"],
            Some("invalid") => &["reason", "field", "message"],
            other => return Err(TestCaseError::fail(format!("unknown outcome {other:?}"))),
        };
        let mut allowed: BTreeSet<&str> =
            ["message_id", "type", "outcome", "warnings"].into_iter().collect();
        allowed.extend(expected.iter().copied());
        prop_assert!(fields.is_subset(&allowed), "unexpected fields {:?}", fields);
        for field in expected {
            prop_assert!(fields.contains(field), "{} without `{}`", line["outcome"], field);
        }
    }

    // No attribute key is longer than 64 characters and no text value longer than 255.
    #[test]
    fn attribute_keys_and_texts_fit_airship_limits(
        message in prop_oneof![identify_message(16), group_message(16)],
        settings in settings(),
    ) {
        let mapped = map_message(message, &settings, now());
        for operation in attribute_operations(&mapped) {
            let key = operation["key"].as_str().expect("key");
            let key_length = key.chars().count();
            prop_assert!(key_length <= 64, "key of {} characters: {}", key_length, key);
            if let Some(text) = operation["value"].as_str() {
                let text_length = text.chars().count();
                prop_assert!(text_length <= 255, "text of {} characters", text_length);
            }
        }
    }

    // Every named user in a request has 1 to 128 characters and no leading or trailing
    // whitespace.
    #[test]
    fn named_users_fit_airship_limits(message in segment_message(), settings in settings()) {
        let mapped = map_message(message, &settings, now());
        for id in named_user_ids(&mapped) {
            prop_assert_eq!(id.trim(), id.as_str(), "named user with surrounding whitespace");
            let length = id.chars().count();
            prop_assert!((1..=128).contains(&length), "named user of {} characters", length);
        }
    }

    // Every custom event's `occurred` is in Airship's form `YYYY-MM-DDTHH:MM:SS` and lies in
    // [NOW - 90 days, NOW]. Every attribute `timestamp` is in the same form.
    #[test]
    fn occurred_is_airship_time_within_window(message in segment_message()) {
        let mapped = map_message(message, &Settings::default(), now());
        let earliest = (now() - Duration::days(90)).naive_utc();
        for event in custom_events(&mapped) {
            let occurred = event["occurred"].as_str().expect("occurred is a string");
            prop_assert!(is_airship_time(occurred), "occurred {:?} not in Airship form", occurred);
            let time = NaiveDateTime::parse_from_str(occurred, AIRSHIP_TIME_FORMAT)
                .expect("the form is checked above");
            prop_assert!(time >= earliest, "occurred {} is over 90 days before NOW", occurred);
            prop_assert!(time <= now().naive_utc(), "occurred {} is after NOW", occurred);
        }
        for operation in attribute_operations(&mapped) {
            let timestamp = operation["timestamp"].as_str().expect("timestamp is a string");
            prop_assert!(is_airship_time(timestamp), "timestamp {:?} not Airship form", timestamp);
        }
    }
}

/// Generates integer literals: any `u64` or `i64`, and literals of 20 to 60 digits.
fn integer_literal() -> BoxedStrategy<String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        regex("-?[1-9][0-9]{19,59}"),
    ]
    .boxed()
}

/// Generates objects with the keys of a Segment message, each set to any JSON value.
fn message_shaped_value() -> BoxedStrategy<Value> {
    let message_type = prop_oneof![
        6 => proptest::sample::select(
            ["identify", "track", "group", "page", "screen", "alias"].as_slice()
        )
        .prop_map(|name| json!(name)),
        1 => json_value(1),
    ];
    let fields = proptest::collection::vec(
        (
            proptest::sample::select(
                [
                    "userId",
                    "messageId",
                    "event",
                    "properties",
                    "traits",
                    "groupId",
                    "context",
                    "integrations",
                    "timestamp",
                    "originalTimestamp",
                    "receivedAt",
                ]
                .as_slice(),
            ),
            json_value(3),
        ),
        0..8,
    );
    (message_type, fields)
        .prop_map(|(message_type, fields)| {
            let mut message: Map<String, Value> = fields
                .into_iter()
                .map(|(field, value)| (field.to_owned(), value))
                .collect();
            message.insert("type".into(), message_type);
            Value::Object(message)
        })
        .boxed()
}
