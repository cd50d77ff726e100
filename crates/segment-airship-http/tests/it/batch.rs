//! `/v1/batch` and `/v1/import`: partial acceptance, envelope fields and per-message results.

use airship_client::AirshipError;
use airship_mapping::{map_message, Outcome, Settings};
use axum::http::StatusCode;
use segment_airship_delivery::{DeadLetterFilter, Spool};
use segment_airship_http::MAX_MESSAGE_BYTES;
use serde_json::{json, Value};

use crate::support::{harness, now, post, WRITE_KEY};

fn invalid_message(raw: Value) -> String {
    match map_message(raw, &Settings::default(), now()).outcome {
        Outcome::Invalid(invalid) => invalid.message,
        other => panic!("expected invalid, got {other:?}"),
    }
}

fn oversized_page() -> Value {
    json!({"type": "page", "messageId": "m-big", "userId": "jill", "padding": "x".repeat(MAX_MESSAGE_BYTES)})
}

#[tokio::test]
async fn invalid_and_oversized_messages_are_rejected_individually() {
    let harness = harness();
    let oversized = oversized_page();
    let oversized_size = serde_json::to_string(&oversized).unwrap().len();
    let unknown_type = json!({"type": "purchase", "messageId": "m-type", "userId": "jill"});
    let batch = json!({"batch": [
        {"type": "page", "messageId": "m-page", "userId": "jill"},
        oversized,
        unknown_type.clone(),
        {"type": "identify", "userId": "jill", "traits": {"vip": true}},
        "not an object"
    ]});

    let (status, body) = harness.call(post("/v1/batch", &batch)).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
    assert_eq!(
        body["rejected"],
        json!([
            {
                "index": 1,
                "message_id": "m-big",
                "reason": "message_too_large",
                "field": "message",
                "message": format!(
                    "message is {oversized_size} bytes; the limit is 32 KB (32768 bytes) per message"
                )
            },
            {
                "index": 2,
                "message_id": "m-type",
                "reason": "invalid_type",
                "field": "type",
                "message": invalid_message(unknown_type)
            },
            {
                "index": 4,
                "message_id": null,
                "reason": "not_an_object",
                "field": "message",
                "message": invalid_message(json!("not an object"))
            }
        ])
    );
    let outcomes: Vec<(&str, &str)> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            (
                result["outcome"].as_str().unwrap(),
                result["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("skipped", "skipped"),
            ("invalid", "invalid"),
            ("invalid", "invalid"),
            ("sent", "queued"),
            ("invalid", "invalid"),
        ]
    );
    harness.delivered().await;
    assert_eq!(harness.client.requests().len(), 1);
    assert_eq!(harness.client.requests()[0].path, "/api/named_users/tags");
}

#[tokio::test]
async fn batch_without_rejections_has_no_rejected_list() {
    let harness = harness();
    let batch = json!({"batch": [{"type": "page", "messageId": "m-1"}]});

    let (status, body) = harness.call(post("/v1/batch", &batch)).await;

    assert_eq!(status, StatusCode::OK);
    assert!(body.get("rejected").is_none(), "{body}");
    assert_eq!(body["results"][0]["index"], 0);
}

#[tokio::test]
async fn identical_tag_changes_share_one_request() {
    let harness = harness();
    let batch = json!({"batch": [
        {"type": "identify", "userId": "first", "traits": {"vip": true}},
        {"type": "identify", "userId": "second", "traits": {"vip": true}},
        {"type": "identify", "userId": "third", "traits": {"vip": false}}
    ]});

    harness.call(post("/v1/batch", &batch)).await;
    harness.delivered().await;

    let audiences: Vec<Value> = harness
        .client
        .requests()
        .iter()
        .map(|request| request.body["audience"]["named_user_id"].clone())
        .collect();
    assert_eq!(audiences, [json!(["first", "second"]), json!(["third"])]);
}

#[tokio::test]
async fn message_write_key_is_not_spooled() {
    let harness = harness();
    let batch = json!({"batch": [
        {"type": "track", "messageId": "m-1", "userId": "jill", "event": "Signed Up", "writeKey": WRITE_KEY}
    ]});
    // The rejection turns the message into a dead letter, which shows the stored message.
    harness.client.push_response(Err(AirshipError::Api {
        status: 400,
        error: None,
        error_code: None,
        details: None,
        operation_id: None,
        body: String::new(),
        retry_after: None,
    }));

    harness.call(post("/v1/batch", &batch)).await;
    harness.delivered().await;

    let dead = harness
        .spool
        .dead_letters(DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message["event"], "Signed Up");
    assert!(
        dead[0].message.get("writeKey").is_none(),
        "{}",
        dead[0].message
    );
}

#[tokio::test]
async fn envelope_integrations_apply_to_messages() {
    let harness = harness();
    let batch = json!({
        "integrations": {"Airship": false},
        "batch": [{"type": "identify", "messageId": "m-1", "userId": "jill", "traits": {"vip": true}}]
    });

    let (status, body) = harness.call(post("/v1/batch", &batch)).await;
    harness.delivered().await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["reason"], "disabled_by_integrations");
    assert!(harness.client.requests().is_empty());
}

#[tokio::test]
async fn import_is_an_alias_of_batch() {
    let harness = harness();
    let batch = json!({"batch": [{"type": "screen", "messageId": "m-1"}]});

    let (status, body) = harness.call(post("/v1/import", &batch)).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["type"], "screen");
}

#[tokio::test]
async fn body_without_batch_array_is_rejected() {
    let harness = harness();

    let (status, body) = harness
        .call(post("/v1/batch", &json!({"type": "track"})))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "not_a_batch", "message": "batch body must be a JSON object with a `batch` array"})
    );
}
