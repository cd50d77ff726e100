//! The mapping against Airship's contract: every request `airship-mapping` produces, for each
//! fixture in `fixtures/events` and for generated Segment messages, matches the request schemas in
//! `fixtures/airship-schemas`, and the mock responds to it with 200 and no warnings.
//!
//! Mapping and mock share the clock NOW = 2026-05-02T12:00:00Z. The mock's project defines what
//! the mapping settings name: the default tag groups and attributes, plus the custom attributes of
//! [`custom_settings`]. Requests go to the mock's router in-process, without a socket. Each
//! property runs proptest's default 256 cases (override with `PROPTEST_CASES`).

use std::path::{Path, PathBuf};

use airship_mapping::{map_message, AirshipRequest, AttributeType, Endpoint, Settings};
use airship_mock::{MockAirship, MockConfig, Project};
use axum::body::{to_bytes, Body};
use axum::http::Request;
use proptest::prelude::*;
use proptest::string::string_regex;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use tower::ServiceExt as _;

use crate::{now, ACCEPT_V3, APP_KEY, TOKEN};

fn workspace_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// The three request schemas, compiled.
struct Schemas {
    custom_events: jsonschema::Validator,
    named_user_tags: jsonschema::Validator,
    named_user_attributes: jsonschema::Validator,
}

impl Schemas {
    fn load() -> Schemas {
        let compile = |file: &str| {
            let path = workspace_path(&format!("fixtures/airship-schemas/{file}"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
            let schema: Value = serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()));
            jsonschema::validator_for(&schema)
                .unwrap_or_else(|error| panic!("{} is not a valid schema: {error}", path.display()))
        };
        Schemas {
            custom_events: compile("custom-events.request.json"),
            named_user_tags: compile("named-user-tags.request.json"),
            named_user_attributes: compile("named-user-attributes.request.json"),
        }
    }

    /// Returns every schema violation of `request`'s body, one per line, or `None` when it is
    /// valid.
    fn violations(&self, request: &AirshipRequest) -> Option<String> {
        let validator = match request.endpoint() {
            Some(Endpoint::CustomEvents) => &self.custom_events,
            Some(Endpoint::NamedUserTags) => &self.named_user_tags,
            Some(Endpoint::NamedUserAttributes) => &self.named_user_attributes,
            None => return Some(format!("unknown endpoint {}", request.path)),
        };
        let errors: Vec<String> = validator
            .iter_errors(&request.body)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        (!errors.is_empty()).then(|| errors.join("\n"))
    }
}

/// Custom attributes of one of the two settings the properties run with, and of the mock project.
fn custom_attributes() -> [(&'static str, AttributeType); 4] {
    [
        ("preferences", AttributeType::Json),
        ("plan", AttributeType::Text),
        ("score", AttributeType::Number),
        ("renewal", AttributeType::Date),
    ]
}

fn custom_settings() -> Settings {
    Settings {
        attributes: custom_attributes()
            .into_iter()
            .map(|(key, kind)| (key.to_owned(), kind))
            .collect(),
        ..Settings::default()
    }
}

/// Maps messages and sends their requests to a fresh in-process mock each time.
struct Contract {
    runtime: tokio::runtime::Runtime,
    schemas: Schemas,
    config: MockConfig,
}

impl Contract {
    fn new() -> Contract {
        let mut project = Project::default();
        project.attributes.extend(
            custom_attributes()
                .into_iter()
                .map(|(key, kind)| (key.to_owned(), kind)),
        );
        Contract {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            schemas: Schemas::load(),
            config: MockConfig {
                now: Some(now()),
                project,
                ..MockConfig::default()
            },
        }
    }

    /// Maps `raw` with `settings` and checks each request against the schemas and the mock.
    fn check(&self, raw: &Value, settings: &Settings) -> Result<(), String> {
        let mapped = map_message(raw.clone(), settings, now());
        let router = airship_mock::router(MockAirship::new(self.config.clone()));
        for request in mapped.requests() {
            let describe = |problem: &str| {
                format!(
                    "{problem}\nmessage: {raw}\nrequest: POST {}\nbody: {}",
                    request.path, request.body
                )
            };
            if let Some(violations) = self.schemas.violations(request) {
                return Err(describe(&format!("schema violations:\n{violations}")));
            }
            let (status, answer) = self.runtime.block_on(send(router.clone(), request));
            if status != 200 {
                return Err(describe(&format!("mock answered {status}: {answer}")));
            }
            for key in ["warnings", "tag_warnings"] {
                if answer.get(key).is_some() {
                    return Err(describe(&format!("mock warned: {answer}")));
                }
            }
        }
        Ok(())
    }
}

/// Sends `request` through `router` with the headers the live client sends.
async fn send(router: axum::Router, request: &AirshipRequest) -> (u16, Value) {
    let http_request = Request::builder()
        .method(request.method.as_str())
        .uri(&request.path)
        .header("accept", ACCEPT_V3)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("x-ua-appkey", APP_KEY)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&request.body).unwrap()))
        .unwrap();
    let response = router.oneshot(http_request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

fn fixture_paths() -> Vec<PathBuf> {
    let directory = workspace_path("fixtures/events");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", directory.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_fixture_request_valid_and_accepted() {
    let contract = Contract::new();
    let paths = fixture_paths();
    assert!(!paths.is_empty(), "no fixtures in fixtures/events");

    let mut failures = Vec::new();
    let mut request_count = 0;
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let Ok(raw) = serde_json::from_str::<Value>(&text) else {
            // Malformed JSON is a fixture of the reader, not of the mapping.
            continue;
        };
        for settings in [Settings::default(), custom_settings()] {
            request_count += map_message(raw.clone(), &settings, now()).requests().len();
            if let Err(failure) = contract.check(&raw, &settings) {
                failures.push(format!("{}: {failure}", path.display()));
            }
        }
    }

    assert!(request_count > 0, "no fixture mapped to a request");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

fn regex(pattern: &str) -> BoxedStrategy<String> {
    string_regex(pattern)
        .unwrap_or_else(|error| panic!("bad pattern {pattern}: {error}"))
        .boxed()
}

/// Segment reserved traits, Airship predefined keys and the custom attributes.
const TRAIT_KEYS: [&str; 30] = [
    "firstName",
    "first_name",
    "lastName",
    "name",
    "full_name",
    "email",
    "phone",
    "mobile_phone",
    "home_phone",
    "title",
    "gender",
    "birthday",
    "birthdate",
    "age",
    "username",
    "createdAt",
    "account_creation",
    "company",
    "address",
    "city",
    "zipcode",
    "loyalty_tier",
    "latitude",
    "longitude",
    "advertising_id",
    "ua_country",
    "preferences",
    "plan",
    "score",
    "renewal",
];

fn key() -> BoxedStrategy<String> {
    prop_oneof![
        4 => proptest::sample::select(TRAIT_KEYS.as_slice()).prop_map(str::to_owned),
        3 => regex("[a-zA-Z_][a-zA-Z0-9_ .#-]{0,15}"),
        2 => regex("\\PC{1,10}"),
        1 => regex("[a-z_]{60,70}"),
        1 => regex("[A-Za-zÀ-ÿ]{120,135}"),
    ]
    .boxed()
}

/// Strings that exercise the attribute types: dates, numbers, phones, long text and Unicode.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        regex("[a-zA-Z0-9 ]{0,12}"),
        regex("\\PC{0,16}"),
        regex("(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T[01][0-9]:[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,3})?(Z|[+-]0[0-9]:[03]0))?"),
        regex("-?[0-9]{1,25}(\\.[0-9]{1,8})?"),
        regex("\\+?[0-9 ().-]{3,20}"),
        regex("[a-z]{250,260}"),
        Just("true".to_owned()),
        Just(String::new()),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1.0e12..1.0e12_f64).prop_map(|n| json!(n)),
        regex("[1-9][0-9]{20,40}").prop_map(|digits| serde_json::from_str(&digits).unwrap()),
        (1_600_000_000_i64..1_900_000_000).prop_map(Value::from),
        (1_600_000_000_000_i64..1_900_000_000_000).prop_map(Value::from),
    ]
    .boxed()
}

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => text().prop_map(Value::String),
        2 => number(),
        2 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
    .boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(key(), inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
        .boxed()
}

fn object_of(values: BoxedStrategy<Value>, size: std::ops::Range<usize>) -> BoxedStrategy<Value> {
    proptest::collection::btree_map(key(), values, size)
        .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>()))
        .boxed()
}

/// Generates a user id: ordinary, Unicode, padded, too long, with a line break, numeric, or
/// missing.
fn user_id() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        4 => regex("[a-zA-Z0-9@._-]{1,24}").prop_map(|id| Some(Value::String(id))),
        2 => regex("\\PC{1,20}").prop_map(|id| Some(Value::String(id))),
        1 => regex("[ \\t]?[a-z]{1,8}[ \\t]?").prop_map(|id| Some(Value::String(id))),
        1 => regex("[a-z]{120,135}").prop_map(|id| Some(Value::String(id))),
        1 => regex("[a-z]{1,5}[\n\r\u{85}\u{2028}\u{2029}][a-z]{1,5}").prop_map(|id| Some(Value::String(id))),
        1 => any::<i64>().prop_map(|id| Some(Value::from(id))),
        1 => Just(None),
    ]
    .boxed()
}

/// Generates an event time inside the 90-day window, at its edge, slightly in the future, or
/// absent.
fn timestamp() -> BoxedStrategy<Option<Value>> {
    let at = |seconds_before_now: i64, offset_hours: i32, millis: i64| {
        let time = now() - chrono::Duration::seconds(seconds_before_now)
            + chrono::Duration::milliseconds(millis);
        let offset = chrono::FixedOffset::east_opt(offset_hours * 3600).unwrap();
        Some(Value::String(
            time.with_timezone(&offset)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ))
    };
    prop_oneof![
        4 => (0_i64..90 * 86_400, -12_i32..14, 0_i64..1000).prop_map(move |(s, o, m)| at(s, o, m)),
        1 => (90 * 86_400 - 2..90 * 86_400 + 2_i64, -2_i32..2, 0_i64..1000).prop_map(move |(s, o, m)| at(s, o, m)),
        1 => (-600_i64..0, 0_i32..1, 0_i64..1000).prop_map(move |(s, o, m)| at(s, o, m)),
        1 => (0_i64..90 * 86_400).prop_map(|s| Some(Value::from((now() - chrono::Duration::seconds(s)).timestamp_millis()))),
        1 => Just(None),
    ]
    .boxed()
}

fn event_name() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => regex("[A-Za-z0-9 _.-]{1,30}").prop_map(Value::String),
        2 => regex("[A-ZÀ-Þa-zß-ÿİẞΣ ]{1,20}").prop_map(Value::String),
        1 => regex("\\PC{1,20}").prop_map(Value::String),
        1 => regex("[A-Z]{250,258}").prop_map(Value::String),
    ]
    .boxed()
}

fn group_id() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => regex("[a-zA-Z0-9_-]{1,20}").prop_map(Value::String),
        1 => regex("[a-z0-9]{40,44}").prop_map(Value::String),
        1 => regex("\\PC{1,12}").prop_map(Value::String),
        1 => regex("[a-z]{0,5}#[a-z]{0,5}(#[a-z]{0,2})?").prop_map(Value::String),
        1 => any::<u32>().prop_map(Value::from),
    ]
    .boxed()
}

fn traits() -> BoxedStrategy<Value> {
    let value = prop_oneof![3 => scalar(), 1 => json_value()].boxed();
    object_of(value, 0..12)
}

fn with_common(
    mut message: Map<String, Value>,
    user_id: Option<Value>,
    timestamp: Option<Value>,
) -> Value {
    message.insert("messageId".into(), json!("m-1"));
    if let Some(user_id) = user_id {
        message.insert("userId".into(), user_id);
    }
    if let Some(timestamp) = timestamp {
        message.insert("timestamp".into(), timestamp);
    }
    Value::Object(message)
}

/// Generates `identify`, `track` and `group` messages.
fn message() -> BoxedStrategy<Value> {
    let identify = (user_id(), timestamp(), traits()).prop_map(|(user, time, traits)| {
        let mut message = Map::new();
        message.insert("type".into(), json!("identify"));
        message.insert("traits".into(), traits);
        with_common(message, user, time)
    });
    let track = (
        user_id(),
        timestamp(),
        event_name(),
        object_of(json_value(), 0..24),
        proptest::option::of(number()),
    )
        .prop_map(|(user, time, event, mut properties, revenue)| {
            if let (Some(revenue), Value::Object(properties)) = (revenue, &mut properties) {
                properties.insert("revenue".into(), revenue);
            }
            let mut message = Map::new();
            message.insert("type".into(), json!("track"));
            message.insert("event".into(), event);
            message.insert("properties".into(), properties);
            with_common(message, user, time)
        });
    let group = (user_id(), timestamp(), group_id(), traits()).prop_map(
        |(user, time, group_id, traits)| {
            let mut message = Map::new();
            message.insert("type".into(), json!("group"));
            message.insert("groupId".into(), group_id);
            message.insert("traits".into(), traits);
            with_common(message, user, time)
        },
    );
    prop_oneof![identify, track, group].boxed()
}

fn run_property(settings: &Settings) {
    let contract = Contract::new();
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&message(), |raw| {
        contract.check(&raw, settings).map_err(TestCaseError::fail)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[test]
fn generated_requests_valid_and_accepted_with_default_settings() {
    run_property(&Settings::default());
}

#[test]
fn generated_requests_valid_and_accepted_with_custom_attributes() {
    run_property(&custom_settings());
}
