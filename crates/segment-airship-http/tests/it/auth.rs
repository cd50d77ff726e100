//! Write keys: Basic auth user name, `writeKey` in the body, wrong or missing keys, `--no-auth`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use segment_airship_http::Auth;
use serde_json::{json, Value};

use crate::support::{basic, harness, harness_with, post_anonymous, WRITE_KEY};

fn page() -> Value {
    json!({"type": "page", "messageId": "m-1", "userId": "jill"})
}

fn with_key(path: &str, key: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, basic(key))
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn unauthorized(message: &str) -> Value {
    json!({"error": "unauthorized", "message": message})
}

const INVALID_KEY: &str = "invalid write key: it is not one of the keys this service accepts";
const MISSING_KEY: &str =
    "missing write key: send it as the Basic auth user name, or as `writeKey` in the body";

#[tokio::test]
async fn basic_auth_user_name_is_accepted() {
    let harness = harness();

    let (status, body) = harness.call(with_key("/v1/page", WRITE_KEY, &page())).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
}

#[tokio::test]
async fn body_write_key_is_accepted() {
    let harness = harness();
    let mut message = page();
    message["writeKey"] = json!(WRITE_KEY);

    let (status, body) = harness
        .call(post_anonymous("/v1/page", message.to_string()))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["outcome"], "skipped");
}

#[tokio::test]
async fn batch_envelope_write_key_is_accepted() {
    let harness = harness();
    let batch = json!({"writeKey": WRITE_KEY, "batch": [page()]});

    let (status, _) = harness
        .call(post_anonymous("/v1/batch", batch.to_string()))
        .await;

    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_header_key_is_unauthorized() {
    let harness = harness();

    let response = harness
        .response(with_key("/v1/page", "wk-wrong", &page()))
        .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::WWW_AUTHENTICATE],
        "Basic realm=\"segment\""
    );
}

#[tokio::test]
async fn wrong_header_key_is_named_in_body() {
    let harness = harness();

    let (status, body) = harness
        .call(with_key("/v1/page", "wk-wrong", &page()))
        .await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, unauthorized(INVALID_KEY));
}

#[tokio::test]
async fn wrong_header_key_is_not_rescued_by_body_key() {
    let harness = harness();
    let mut message = page();
    message["writeKey"] = json!(WRITE_KEY);

    let (status, _) = harness
        .call(with_key("/v1/page", "wk-wrong", &message))
        .await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_body_key_is_unauthorized() {
    let harness = harness();
    let mut message = page();
    message["writeKey"] = json!("wk-wrong");

    let (status, body) = harness
        .call(post_anonymous("/v1/page", message.to_string()))
        .await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, unauthorized(INVALID_KEY));
}

#[tokio::test]
async fn missing_key_is_unauthorized() {
    let harness = harness();

    let (status, body) = harness
        .call(post_anonymous("/v1/page", page().to_string()))
        .await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, unauthorized(MISSING_KEY));
    assert!(harness.client.requests().is_empty());
}

#[tokio::test]
async fn bearer_header_is_unauthorized() {
    let harness = harness();
    let request = Request::post("/v1/page")
        .header(header::AUTHORIZATION, format!("Bearer {WRITE_KEY}"))
        .body(Body::from(page().to_string()))
        .unwrap();

    let (status, body) = harness.call(request).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        unauthorized(
            "invalid Authorization header: expected `Basic` followed by the base64 of `<write key>:`"
        )
    );
}

#[tokio::test]
async fn no_auth_accepts_calls_without_key() {
    let harness = harness_with(Auth::Disabled);

    let (status, body) = harness
        .call(post_anonymous("/v1/page", page().to_string()))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
}

#[tokio::test]
async fn no_auth_ignores_any_key() {
    let harness = harness_with(Auth::Disabled);

    let (status, _) = harness
        .call(with_key("/v1/page", "anything", &page()))
        .await;

    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn body_write_key_is_not_mapped() {
    let harness = harness();
    let message = json!({
        "type": "identify", "userId": "jill", "writeKey": WRITE_KEY,
        "traits": {"vip": true}
    });

    let (status, _) = harness
        .call(post_anonymous("/v1/identify", message.to_string()))
        .await;
    harness.delivered().await;

    assert_eq!(status, StatusCode::OK);
    let sent = serde_json::to_string(&harness.client.requests()).unwrap();
    assert!(!sent.contains(WRITE_KEY), "{sent}");
}
