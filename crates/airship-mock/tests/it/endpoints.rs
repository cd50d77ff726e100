//! Responses of the three Airship endpoints: header checks, body checks and success shape.

use serde_json::{json, Value};

use crate::{authorized_post, start, Answer, ACCEPT_V3, TOKEN};

const TAGS_BODY: &str =
    r#"{"audience":{"named_user_id":["u-42"]},"add":{"segment-integration":["plan_pro"]}}"#;
const ATTRIBUTES_BODY: &str =
    r#"{"attributes":[{"action":"set","key":"first_name","value":"Ada"}]}"#;
const EVENTS_BODY: &str =
    r#"[{"user":{"named_user_id":"u-42"},"body":{"name":"order_completed"}}]"#;

fn assert_operation_id(body: &Value) {
    let id = body["operation_id"].as_str().expect("operation_id string");
    let parsed = uuid::Uuid::parse_str(id).expect("operation_id is a uuid");
    assert_eq!(parsed.get_version_num(), 4);
}

#[tokio::test]
async fn endpoints_ok_with_optional_trailing_slash() {
    let mock = start().await;
    let http = reqwest::Client::new();
    let cases = [
        ("/api/custom-events", EVENTS_BODY, ACCEPT_V3),
        ("/api/custom-events/", EVENTS_BODY, ACCEPT_V3),
        ("/api/named_users/tags", TAGS_BODY, "application/json"),
        ("/api/named_users/tags/", TAGS_BODY, "application/json"),
        (
            "/api/named_users/u-42/attributes",
            ATTRIBUTES_BODY,
            "application/json",
        ),
        (
            "/api/named_users/u-42/attributes/",
            ATTRIBUTES_BODY,
            "application/json",
        ),
    ];

    for (path, body, content_type) in cases {
        let response = authorized_post(&http, &mock, path)
            .body(body)
            .send()
            .await
            .unwrap();
        let answer = Answer::read(response).await;

        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        assert_eq!(answer.content_type, content_type, "{path}");
        assert_eq!(answer.json()["ok"], json!(true), "{path}");
        assert_operation_id(&answer.json());
    }
}

#[tokio::test]
async fn missing_accept_gives_406_json_error() {
    let mock = start().await;
    let http = reqwest::Client::new();

    let response = http
        .post(format!("{}/api/named_users/tags", mock.base_url()))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(TAGS_BODY)
        .send()
        .await
        .unwrap();
    let answer = Answer::read(response).await;

    assert_eq!(answer.status, 406);
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(answer.json()["ok"], json!(false));
    assert_eq!(answer.json()["error_code"], json!(40600));
}

#[tokio::test]
async fn accept_with_trailing_semicolon_allowed() {
    let mock = start().await;
    let http = reqwest::Client::new();

    let response = authorized_post(&http, &mock, "/api/named_users/tags")
        .header("accept", "application/vnd.urbanairship+json;version=3;")
        .body(TAGS_BODY)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn missing_or_wrong_bearer_gives_401_text() {
    let mock = start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/named_users/tags", mock.base_url());
    let attempts = [
        http.post(&url).header("accept", ACCEPT_V3),
        http.post(&url)
            .header("accept", ACCEPT_V3)
            .header("authorization", "Bearer wrong-token"),
        http.post(&url)
            .header("accept", ACCEPT_V3)
            .header("authorization", format!("Basic {TOKEN}")),
    ];

    for attempt in attempts {
        let answer = Answer::read(attempt.body(TAGS_BODY).send().await.unwrap()).await;

        assert_eq!(answer.status, 401, "{}", answer.text);
        assert!(
            answer.content_type.starts_with("text/plain"),
            "{}",
            answer.content_type
        );
        assert!(answer.text.starts_with("Unauthorized"), "{}", answer.text);
    }
}

#[tokio::test]
async fn custom_events_without_app_key_gives_401() {
    let mock = start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/custom-events", mock.base_url());
    let without_key = http
        .post(&url)
        .header("accept", ACCEPT_V3)
        .header("authorization", format!("Bearer {TOKEN}"));
    let wrong_key = http
        .post(&url)
        .header("accept", ACCEPT_V3)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("x-ua-appkey", "other-app-key");

    for attempt in [without_key, wrong_key] {
        let answer = Answer::read(attempt.body(EVENTS_BODY).send().await.unwrap()).await;

        assert_eq!(answer.status, 401, "{}", answer.text);
        assert!(answer.content_type.starts_with("text/plain"));
        assert!(answer.text.contains("X-UA-Appkey"), "{}", answer.text);
    }
}

#[tokio::test]
async fn tags_without_app_key_allowed() {
    let mock = start().await;
    let http = reqwest::Client::new();

    let response = http
        .post(format!("{}/api/named_users/tags", mock.base_url()))
        .header("accept", ACCEPT_V3)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(TAGS_BODY)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn non_json_body_gives_400_error_shape() {
    let mock = start().await;
    let http = reqwest::Client::new();

    let response = authorized_post(&http, &mock, "/api/custom-events")
        .body("not json")
        .send()
        .await
        .unwrap();
    let answer = Answer::read(response).await;

    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_type, "application/json");
    let body = answer.json();
    assert_eq!(body["ok"], json!(false));
    assert_eq!(body["error"], json!("Could not parse request body."));
    assert_eq!(body["error_code"], json!(40000));
    assert!(body["details"]["error"].is_string(), "{body}");
    assert_operation_id(&body);
}

#[tokio::test]
async fn wrong_shapes_give_400_with_path() {
    let mock = start().await;
    let http = reqwest::Client::new();
    let cases = [
        ("/api/custom-events", "[]", "body"),
        ("/api/custom-events", r#"{"body":{"name":"e"}}"#, "body"),
        (
            "/api/named_users/tags",
            r#"{"add":{"g":["t"]}}"#,
            "body.audience",
        ),
        (
            "/api/named_users/tags",
            r#"{"audience":{"named_user_id":["u"]}}"#,
            "body",
        ),
        (
            "/api/named_users/u/attributes",
            r#"{"attributes":[]}"#,
            "body.attributes",
        ),
    ];

    for (path, body, error_path) in cases {
        let response = authorized_post(&http, &mock, path)
            .body(body)
            .send()
            .await
            .unwrap();
        let answer = Answer::read(response).await;

        assert_eq!(answer.status, 400, "{path} {body}");
        assert_eq!(
            answer.json()["details"]["path"],
            json!(error_path),
            "{path} {body}"
        );
    }
}

#[tokio::test]
async fn unknown_path_gives_404_and_wrong_method_405() {
    let mock = start().await;
    let http = reqwest::Client::new();

    let unknown = authorized_post(&http, &mock, "/api/push")
        .body("{}")
        .send()
        .await
        .unwrap();
    let wrong_method = http
        .get(format!("{}/api/custom-events", mock.base_url()))
        .send()
        .await
        .unwrap();

    assert_eq!(unknown.status().as_u16(), 404);
    assert_eq!(wrong_method.status().as_u16(), 405);
    assert_eq!(
        Answer::read(wrong_method).await.json()["error_code"],
        json!(40500)
    );
}

#[tokio::test]
async fn body_over_5_mib_gives_413() {
    let mock = start().await;
    let http = reqwest::Client::new();
    let body = format!("[\"{}\"]", "x".repeat(5 * 1024 * 1024));

    let response = authorized_post(&http, &mock, "/api/custom-events")
        .body(body)
        .send()
        .await
        .unwrap();
    let answer = Answer::read(response).await;

    assert_eq!(answer.status, 413);
    assert_eq!(answer.json()["error_code"], json!(41300));
    assert_eq!(mock.requests()[0].body, Value::Null);
}
