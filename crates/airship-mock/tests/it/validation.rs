//! Every request Airship rejects gets Airship's status and error shape from the mock, and the
//! values just inside each limit are accepted.
//!
//! The mock's clock is fixed at NOW = 2026-05-02T12:00:00Z, so the 90-day window of `occurred`
//! is 2026-02-01T12:00:00 to NOW.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::{authorized_post, start_at_now, Answer, ACCEPT_V3, APP_KEY, TOKEN};

const EVENTS: &str = "/api/custom-events";
const TAGS: &str = "/api/named_users/tags";
const ATTRIBUTES: &str = "/api/named_users/u-42/attributes";
const GROUP: &str = "segment-integration";

fn event(user: &str, name: &str) -> Value {
    json!({"user": {"named_user_id": user}, "body": {"name": name}})
}

fn event_at(occurred: &str) -> Value {
    json!([{"occurred": occurred, "user": {"named_user_id": "u-42"}, "body": {"name": "e"}}])
}

fn tags_for(ids: Value) -> Value {
    json!({"audience": {"named_user_id": ids}, "add": {GROUP: ["t"]}})
}

fn tags_add(group: &str, tags: Value) -> Value {
    json!({"audience": {"named_user_id": ["u-42"]}, "add": {group: tags}})
}

fn set_attribute(key: &str, value: Value) -> Value {
    json!({"attributes": [{"action": "set", "key": key, "value": value}]})
}

fn ids(count: usize) -> Value {
    json!((0..count).map(|i| format!("u{i}")).collect::<Vec<_>>())
}

fn tag_names(count: usize) -> Value {
    json!((0..count).map(|i| format!("t{i}")).collect::<Vec<_>>())
}

fn basic(secret: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{APP_KEY}:{secret}")))
}

/// Returns the rejected cases: name, path, body, and the `details.path` of the expected 400.
fn rejected_cases() -> Vec<(&'static str, String, Value, String)> {
    let padded_path = "/api/named_users/%20u-42/attributes".to_owned();
    let long_id_path = format!("/api/named_users/{}/attributes", "u".repeat(129));
    vec![
        (
            "unknown key in event",
            EVENTS.into(),
            json!([{"user": {"named_user_id": "u"}, "body": {"name": "e"}, "source": "segment"}]),
            "body[0].source".into(),
        ),
        (
            "unknown key in event body",
            EVENTS.into(),
            json!([{"user": {"named_user_id": "u"}, "body": {"name": "e", "category": "x"}}]),
            "body[0].body.category".into(),
        ),
        (
            "unknown key in tags",
            TAGS.into(),
            json!({"audience": {"named_user_id": ["u"]}, "add": {GROUP: ["t"]}, "source": "x"}),
            "body.source".into(),
        ),
        (
            "unknown key in audience",
            TAGS.into(),
            json!({"audience": {"named_user_id": ["u"], "channel": ["c"]}, "add": {GROUP: ["t"]}}),
            "body.audience.channel".into(),
        ),
        (
            "unknown key in attributes",
            ATTRIBUTES.into(),
            json!({"attributes": [{"action": "set", "key": "city", "value": "Oslo"}], "source": "x"}),
            "body.source".into(),
        ),
        (
            "unknown key in attribute operation",
            ATTRIBUTES.into(),
            json!({"attributes": [{"action": "set", "key": "city", "value": "Oslo", "type": "text"}]}),
            "body.attributes[0].type".into(),
        ),
        (
            "upper-case event name",
            EVENTS.into(),
            json!([event("u", "Order Completed")]),
            "body[0].body.name".into(),
        ),
        (
            "occurred older than 90 days",
            EVENTS.into(),
            event_at("2026-02-01T11:59:59"),
            "body[0].occurred".into(),
        ),
        (
            "occurred in the future",
            EVENTS.into(),
            event_at("2026-05-02T12:00:01"),
            "body[0].occurred".into(),
        ),
        ("no events", EVENTS.into(), json!([]), "body".into()),
        (
            "101 events",
            EVENTS.into(),
            Value::Array(vec![event("u", "e"); 101]),
            "body".into(),
        ),
        (
            "event named user over 128 characters",
            EVENTS.into(),
            json!([event(&"u".repeat(129), "e")]),
            "body[0].user.named_user_id".into(),
        ),
        (
            "event named user padded",
            EVENTS.into(),
            json!([event("u-42 ", "e")]),
            "body[0].user.named_user_id".into(),
        ),
        (
            "audience id over 128 characters",
            TAGS.into(),
            tags_for(json!(["u".repeat(129)])),
            "body.audience.named_user_id[0]".into(),
        ),
        (
            "audience id padded",
            TAGS.into(),
            tags_for(json!(["ok", " u-42"])),
            "body.audience.named_user_id[1]".into(),
        ),
        (
            "1001 audience ids",
            TAGS.into(),
            tags_for(ids(1001)),
            "body.audience.named_user_id".into(),
        ),
        (
            "101 tags in a group",
            TAGS.into(),
            tags_add(GROUP, tag_names(101)),
            "body.add.segment-integration".into(),
        ),
        (
            "tag of 128 characters",
            TAGS.into(),
            tags_add(GROUP, json!(["t".repeat(128)])),
            "body.add.segment-integration[0]".into(),
        ),
        (
            "group of 129 characters",
            TAGS.into(),
            json!({"audience": {"named_user_id": ["u"]}, "add": {"g".repeat(129): ["t"]}}),
            format!("body.add.{}", "g".repeat(129)),
        ),
        (
            "set with add",
            TAGS.into(),
            json!({"audience": {"named_user_id": ["u"]}, "set": {GROUP: []}, "add": {GROUP: ["t"]}}),
            "body.set".into(),
        ),
        (
            "set with remove",
            TAGS.into(),
            json!({"audience": {"named_user_id": ["u"]}, "set": {GROUP: []}, "remove": {GROUP: ["t"]}}),
            "body.set".into(),
        ),
        (
            "same tag added and removed",
            TAGS.into(),
            json!({"audience": {"named_user_id": ["u"]}, "add": {GROUP: ["a", "t"]}, "remove": {GROUP: ["t"]}}),
            "body.remove.segment-integration[0]".into(),
        ),
        (
            "set and remove of one attribute",
            ATTRIBUTES.into(),
            json!({"attributes": [
                {"action": "set", "key": "city", "value": "Oslo"},
                {"action": "remove", "key": "city"}
            ]}),
            "body.attributes[1].key".into(),
        ),
        (
            "attribute key over 64 characters",
            ATTRIBUTES.into(),
            set_attribute(&"k".repeat(65), json!("v")),
            "body.attributes[0].key".into(),
        ),
        (
            "attributes path id padded",
            padded_path,
            set_attribute("city", json!("Oslo")),
            "named_user_id".into(),
        ),
        (
            "attributes path id over 128 characters",
            long_id_path,
            set_attribute("city", json!("Oslo")),
            "named_user_id".into(),
        ),
        (
            "json attribute expiry over 731 days",
            ATTRIBUTES.into(),
            // 1840881601 is 2028-05-02T12:00:01Z, 731 days and 1 second after NOW.
            set_attribute("city#x", json!({"exp": 1840881601_i64})),
            "body.attributes[0].value.exp".into(),
        ),
        (
            "null in json attribute",
            ATTRIBUTES.into(),
            set_attribute("city#x", json!({"a": null})),
            "body.attributes[0].value.a".into(),
        ),
        (
            "attributes as bare array",
            ATTRIBUTES.into(),
            json!([{"action": "set", "key": "city", "value": "Oslo"}]),
            "body".into(),
        ),
        (
            "tags with only unknown groups",
            TAGS.into(),
            tags_add("crm", json!(["t"])),
            "body".into(),
        ),
        (
            "attributes with only unknown keys",
            ATTRIBUTES.into(),
            set_attribute("plan", json!("pro")),
            "body.attributes".into(),
        ),
    ]
}

#[tokio::test]
async fn invalid_bodies_get_400_with_path() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();

    for (name, path, body, error_path) in rejected_cases() {
        let response = authorized_post(&http, &mock, &path)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let answer = Answer::read(response).await;

        assert_eq!(answer.status, 400, "{name}: {}", answer.text);
        assert_eq!(answer.content_type, "application/json", "{name}");
        let error = answer.json();
        assert_eq!(error["ok"], json!(false), "{name}");
        assert_eq!(
            error["error"],
            json!("Could not parse request body."),
            "{name}"
        );
        assert_eq!(error["error_code"], json!(40000), "{name}");
        assert_eq!(
            error["details"]["path"],
            json!(error_path),
            "{name}: {error}"
        );
        assert!(error["details"]["error"].is_string(), "{name}: {error}");
        assert!(error["operation_id"].is_string(), "{name}: {error}");
    }
    assert!(mock.named_user("u-42").is_none());
}

#[tokio::test]
async fn values_at_each_limit_accepted() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    let cases = [
        (
            "100 events",
            EVENTS,
            Value::Array(vec![event("u-42", "e"); 100]),
        ),
        (
            "occurred exactly 90 days ago",
            EVENTS,
            event_at("2026-02-01T12:00:00"),
        ),
        (
            "occurred now with Z",
            EVENTS,
            event_at("2026-05-02T12:00:00Z"),
        ),
        (
            "occurred with a space",
            EVENTS,
            event_at("2026-04-01 08:00:00"),
        ),
        (
            "non-ASCII upper case in name",
            EVENTS,
            json!([event("u-42", "été Über")]),
        ),
        (
            "128-character named user",
            EVENTS,
            json!([event(&"u".repeat(128), "e")]),
        ),
        ("1000 audience ids", TAGS, tags_for(ids(1000))),
        ("100 tags in a group", TAGS, tags_add(GROUP, tag_names(100))),
        (
            "127-character tag",
            TAGS,
            tags_add(GROUP, json!(["t".repeat(127)])),
        ),
        (
            "bare string audience",
            TAGS,
            json!({"audience": {"named_user_id": "u-42"}, "add": {GROUP: ["t"]}}),
        ),
        (
            "empty set clears a group",
            TAGS,
            json!({"audience": {"named_user_id": ["u-42"]}, "set": {GROUP: []}}),
        ),
        (
            "same tag in other groups",
            TAGS,
            json!({"audience": {"named_user_id": ["u-42"]}, "add": {GROUP: ["t"]}, "remove": {"segment-integration-group": ["t"]}}),
        ),
        (
            "64-character attribute key",
            ATTRIBUTES,
            set_attribute(
                &format!("airship_segment_group_{}", "9".repeat(42)),
                json!("true"),
            ),
        ),
        (
            "attribute with timestamp",
            ATTRIBUTES,
            json!({"attributes": [{"action": "set", "key": "city", "value": "Oslo", "timestamp": "2026-05-02T11:00:00"}]}),
        ),
    ];

    for (name, path, body) in cases {
        let response = authorized_post(&http, &mock, path)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let answer = Answer::read(response).await;

        assert_eq!(answer.status, 200, "{name}: {}", answer.text);
        assert_eq!(answer.json()["ok"], json!(true), "{name}");
    }
}

#[tokio::test]
async fn missing_or_wrong_accept_gives_406() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    let url = format!("{}{TAGS}", mock.base_url());
    let body = tags_for(json!(["u-42"])).to_string();
    let attempts = [
        None,
        Some("application/json"),
        Some("application/vnd.urbanairship+json; version=2"),
        Some("*/*"),
    ];

    for accept in attempts {
        let mut request = http
            .post(&url)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(body.clone());
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let answer = Answer::read(request.send().await.unwrap()).await;

        assert_eq!(answer.status, 406, "{accept:?}");
        assert_eq!(answer.json()["error_code"], json!(40600), "{accept:?}");
    }
}

#[tokio::test]
async fn bad_auth_gives_401_plain_text() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    let attempts = [
        ("no authorization", None),
        ("wrong bearer token", Some("Bearer wrong".to_owned())),
        ("wrong basic secret", Some(basic("wrong"))),
        ("basic with the token as secret", Some(basic(TOKEN))),
        ("unknown scheme", Some("Token mock-access-token".to_owned())),
    ];

    for path in [EVENTS, TAGS, ATTRIBUTES] {
        for (name, authorization) in &attempts {
            let mut request = http
                .post(format!("{}{path}", mock.base_url()))
                .header("accept", ACCEPT_V3)
                .header("x-ua-appkey", APP_KEY)
                .body("{}");
            if let Some(authorization) = authorization {
                request = request.header("authorization", authorization);
            }
            let answer = Answer::read(request.send().await.unwrap()).await;

            assert_eq!(answer.status, 401, "{path} {name}: {}", answer.text);
            assert!(
                answer.content_type.starts_with("text/plain"),
                "{path} {name}: {}",
                answer.content_type
            );
            assert!(
                serde_json::from_str::<Value>(&answer.text).is_err(),
                "{path} {name}"
            );
        }
    }
}

#[tokio::test]
async fn custom_events_reject_basic_auth() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    let body = json!([event("u-42", "e")]).to_string();

    for secret in ["mock-master-secret", "mock-app-secret"] {
        let response = http
            .post(format!("{}{EVENTS}", mock.base_url()))
            .header("accept", ACCEPT_V3)
            .header("authorization", basic(secret))
            .header("x-ua-appkey", APP_KEY)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let answer = Answer::read(response).await;

        assert_eq!(answer.status, 401, "{secret}");
        assert!(answer.text.contains("Bearer"), "{}", answer.text);
    }
}

#[tokio::test]
async fn named_user_writes_accept_basic_auth() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    let writes = [
        (TAGS, tags_for(json!(["u-42"]))),
        (ATTRIBUTES, set_attribute("city", json!("Oslo"))),
    ];

    for secret in ["mock-master-secret", "mock-app-secret"] {
        for (path, body) in &writes {
            let response = http
                .post(format!("{}{path}", mock.base_url()))
                .header("accept", ACCEPT_V3)
                .header("authorization", basic(secret))
                .body(body.to_string())
                .send()
                .await
                .unwrap();

            assert_eq!(response.status().as_u16(), 200, "{path} {secret}");
        }
    }
}
