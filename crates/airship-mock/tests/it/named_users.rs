//! Named-user state: warnings for what the project lacks, the stored profile, and the
//! `GET /api/named_users` lookup.

use airship_mock::{AttributeType, MockConfig, RunningMock};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::{authorized_get, authorized_post, now, start_at_now, start_with, Answer, APP_KEY};

const GROUP: &str = "segment-integration";

async fn post(http: &reqwest::Client, mock: &RunningMock, path: &str, body: Value) -> Answer {
    let response = authorized_post(http, mock, path)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    Answer::read(response).await
}

async fn lookup(http: &reqwest::Client, mock: &RunningMock, id: &str) -> Answer {
    let response = authorized_get(http, mock, "/api/named_users")
        .query(&[("id", id)])
        .send()
        .await
        .unwrap();
    Answer::read(response).await
}

#[tokio::test]
async fn unknown_group_gives_tag_warnings() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();

    let answer = post(
        &http,
        &mock,
        "/api/named_users/tags",
        json!({"audience": {"named_user_id": ["u"]}, "add": {GROUP: ["a"], "crm": ["b"], "ua_x": ["c"]}}),
    )
    .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["tag_warnings"], json!("crm,ua_x"));
    let tags = mock.named_user("u").unwrap().tags;
    assert_eq!(tags.len(), 1);
    assert!(tags[GROUP].contains("a"));
}

#[tokio::test]
async fn unknown_or_mistyped_attributes_give_warnings() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();

    let answer = post(
        &http,
        &mock,
        "/api/named_users/u/attributes",
        json!({"attributes": [
            {"action": "set", "key": "first_name", "value": "Ada"},
            {"action": "set", "key": "plan", "value": "pro"},
            {"action": "set", "key": "age", "value": "twenty-five"},
            {"action": "set", "key": "birthdate", "value": 19900714},
            {"action": "remove", "key": "favourite_color"}
        ]}),
    )
    .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json()["warnings"],
        json!("plan,age,birthdate,favourite_color")
    );
    let attributes = mock.named_user("u").unwrap().attributes;
    assert_eq!(attributes.len(), 1);
    assert_eq!(attributes["first_name"], json!("Ada"));
}

#[tokio::test]
async fn strict_mode_warns_for_unknown_named_users() {
    let mock = start_with(MockConfig {
        now: Some(now()),
        strict_named_users: true,
        known_named_users: vec!["known".into()],
        ..MockConfig::default()
    })
    .await;
    let http = reqwest::Client::new();

    let attributes = post(
        &http,
        &mock,
        "/api/named_users/stranger/attributes",
        json!({"attributes": [{"action": "set", "key": "city", "value": "Oslo"}]}),
    )
    .await;
    let tags = post(
        &http,
        &mock,
        "/api/named_users/tags",
        json!({"audience": {"named_user_id": ["known", "stranger"]}, "add": {GROUP: ["a"]}}),
    )
    .await;
    let event = post(
        &http,
        &mock,
        "/api/custom-events",
        json!([{"user": {"named_user_id": "stranger"}, "body": {"name": "e"}}]),
    )
    .await;

    assert_eq!(attributes.status, 200);
    assert_eq!(attributes.json()["warnings"], json!("city"));
    assert_eq!(tags.status, 200);
    assert_eq!(tags.json()["warnings"], json!("stranger"));
    assert_eq!(event.status, 200);
    assert!(event.json().get("warnings").is_none());
    assert!(mock.named_user("stranger").is_none());
    assert!(mock.named_user("known").unwrap().tags[GROUP].contains("a"));
}

#[tokio::test]
async fn strict_mode_user_added_through_control_route() {
    let mock = start_with(MockConfig {
        strict_named_users: true,
        ..MockConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let added = http
        .post(format!("{}/__mock/named_users", mock.base_url()))
        .body(r#"{"named_user_id":"late"}"#)
        .send()
        .await
        .unwrap();
    let invalid = http
        .post(format!("{}/__mock/named_users", mock.base_url()))
        .body(r#"{"named_user_id":" late"}"#)
        .send()
        .await
        .unwrap();

    let answer = post(
        &http,
        &mock,
        "/api/named_users/late/attributes",
        json!({"attributes": [{"action": "set", "key": "city", "value": "Oslo"}]}),
    )
    .await;

    assert_eq!(added.status().as_u16(), 204);
    assert_eq!(invalid.status().as_u16(), 400);
    assert_eq!(answer.status, 200);
    assert!(answer.json().get("warnings").is_none(), "{}", answer.text);
    assert_eq!(
        mock.named_user("late").unwrap().attributes["city"],
        json!("Oslo")
    );
}

#[tokio::test]
async fn lookup_returns_merged_profile() {
    let mut config = MockConfig {
        now: Some(now()),
        ..MockConfig::default()
    };
    config
        .project
        .attributes
        .insert("preferences".into(), AttributeType::Json);
    let mock = start_with(config).await;
    let http = reqwest::Client::new();
    let id = "acct/42 #ü";
    let encoded = "acct%2F42%20%23%C3%BC";
    let writes = [
        (
            "/api/named_users/tags".to_owned(),
            json!({"audience": {"named_user_id": [id]}, "add": {GROUP: ["a", "b"]}}),
        ),
        (
            "/api/named_users/tags".to_owned(),
            json!({"audience": {"named_user_id": [id]}, "add": {GROUP: ["c"]}, "remove": {GROUP: ["a"]}}),
        ),
        (
            format!("/api/named_users/{encoded}/attributes"),
            json!({"attributes": [
                {"action": "set", "key": "age", "value": "42"},
                {"action": "set", "key": "account_creation", "value": "2026-05-01T14:00:00+02:00"},
                {"action": "set", "key": "preferences#default", "value": {"color": "red"}},
                {"action": "set", "key": "city", "value": "Oslo"}
            ]}),
        ),
        (
            format!("/api/named_users/{encoded}/attributes/"),
            json!({"attributes": [{"action": "remove", "key": "city"}]}),
        ),
        (
            "/api/custom-events".to_owned(),
            json!([{"occurred": "2026-05-01T10:00:00", "user": {"named_user_id": id}, "body": {"name": "purchased", "value": 9.5}}]),
        ),
        (
            "/api/custom-events/".to_owned(),
            json!([{"user": {"named_user_id": id}, "body": {"name": "viewed"}}]),
        ),
    ];
    for (path, body) in writes {
        let answer = post(&http, &mock, &path, body).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
    }

    let answer = lookup(&http, &mock, id).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["ok"], json!(true));
    let user = &body["named_user"];
    assert_eq!(user["named_user_id"], json!(id));
    assert_eq!(user["created"], json!("2026-05-02T12:00:00"));
    assert_eq!(user["tags"], json!({GROUP: ["b", "c"]}));
    assert_eq!(
        user["attributes"],
        json!({
            "account_creation": "2026-05-01T12:00:00",
            "age": 42,
            "preferences#default": {"color": "red"}
        })
    );
    let events = user["custom_events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0]["body"],
        json!({"name": "purchased", "value": 9.5})
    );
    assert_eq!(events[1]["occurred"], json!("2026-05-02T12:00:00"));
    assert_eq!(user["channels"], json!([]));
}

#[tokio::test]
async fn lookup_of_unknown_user_gives_404() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();

    let answer = lookup(&http, &mock, "nobody").await;

    assert_eq!(answer.status, 404);
    assert_eq!(answer.content_type, "application/vnd.urbanairship+json");
    assert_eq!(answer.json()["error"], json!("Entity not found"));
    assert_eq!(answer.json()["error_code"], json!(40401));
}

#[tokio::test]
async fn lookup_without_id_lists_users() {
    let mock = start_with(MockConfig {
        known_named_users: vec!["b".into(), "a".into()],
        ..MockConfig::default()
    })
    .await;
    let http = reqwest::Client::new();

    let response = authorized_get(&http, &mock, "/api/named_users/")
        .send()
        .await
        .unwrap();
    let answer = Answer::read(response).await;

    assert_eq!(answer.status, 200);
    let ids: Vec<String> = answer.json()["named_users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["named_user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["a", "b"]);
}

#[tokio::test]
async fn lookup_needs_master_secret_or_bearer() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    let basic = |secret: &str| format!("Basic {}", BASE64.encode(format!("{APP_KEY}:{secret}")));
    let get = |authorization: String| {
        http.get(format!("{}/api/named_users", mock.base_url()))
            .header("accept", crate::ACCEPT_V3)
            .header("authorization", authorization)
            .send()
    };

    let master = get(basic("mock-master-secret")).await.unwrap();
    let app = get(basic("mock-app-secret")).await.unwrap();

    assert_eq!(master.status().as_u16(), 200);
    assert_eq!(app.status().as_u16(), 401);
}

#[tokio::test]
async fn reset_clears_named_users_and_faults() {
    let mock = start_with(MockConfig {
        known_named_users: vec!["known".into()],
        ..MockConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    post(
        &http,
        &mock,
        "/api/named_users/tags",
        json!({"audience": {"named_user_id": ["known", "new"]}, "add": {GROUP: ["a"]}}),
    )
    .await;
    mock.mock().set_latency(std::time::Duration::from_millis(5));

    let reset = http
        .post(format!("{}/__mock/reset", mock.base_url()))
        .send()
        .await
        .unwrap();

    assert_eq!(reset.status().as_u16(), 204);
    assert!(mock.requests().is_empty());
    assert!(mock.named_user("new").is_none());
    assert!(mock.named_user("known").unwrap().tags.is_empty());
    assert_eq!(mock.mock().faults(), airship_mock::Faults::default());
}
