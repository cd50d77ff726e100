//! One route per call type, the path's type, spooled delivery, health and unknown paths.

use airship_client::{AirshipError, AirshipRequest};
use airship_mapping::{map_message, Mapped, Outcome, Settings};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use segment_airship_delivery::{DeadLetterFilter, DeadLetterReason, Spool};
use serde_json::{json, Value};

use crate::support::{harness, now, post};

fn jill_identify() -> Value {
    json!({
        "type": "identify",
        "messageId": "m-1",
        "userId": "jill",
        "traits": {"new_customer": true, "order_completed_last_60days": false}
    })
}

fn jill_tags_request() -> AirshipRequest {
    AirshipRequest::named_user_tags(json!({
        "audience": {"named_user_id": ["jill"]},
        "add": {"segment-integration": ["new_customer"]},
        "remove": {"segment-integration": ["order_completed_last_60days"]}
    }))
}

/// Returns the mapping's sentence for a skipped or invalid message, so tests need not copy it.
fn mapping_message(raw: Value) -> String {
    match map_message(raw, &Settings::default(), now()) {
        Mapped {
            outcome: Outcome::Skipped { message, .. },
            ..
        } => message,
        Mapped {
            outcome: Outcome::Invalid(invalid),
            ..
        } => invalid.message,
        other => panic!("expected skipped or invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn identify_sends_boolean_traits_as_tags() {
    let harness = harness();

    let (status, body) = harness.call(post("/v1/identify", &jill_identify())).await;
    harness.delivered().await;

    assert_eq!(harness.client.requests(), vec![jill_tags_request()]);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"success": true, "results": [{
            "index": 0,
            "message_id": "m-1",
            "type": "identify",
            "outcome": "sent",
            "status": "queued"
        }]})
    );
}

#[tokio::test]
async fn track_sends_custom_event() {
    let harness = harness();
    let track = json!({
        "type": "track",
        "messageId": "m-2",
        "userId": "jill",
        "event": "Product Clicked",
        "properties": {"name": "Air Jordans", "brand": "Nike ", "price": 200, "quantity": 1, "variant": "Red"},
        "timestamp": "2026-05-02T11:59:00Z"
    });

    let (status, body) = harness.call(post("/v1/track", &track)).await;
    harness.delivered().await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["status"], "queued");
    assert_eq!(
        harness.client.requests(),
        vec![AirshipRequest::custom_events(vec![json!({
            "occurred": "2026-05-02T11:59:00",
            "user": {"named_user_id": "jill"},
            "body": {
                "name": "product clicked",
                "properties": {"name": "Air Jordans", "brand": "Nike ", "price": 200, "quantity": 1, "variant": "Red"}
            }
        })])]
    );
}

#[tokio::test]
async fn group_sets_group_attribute_and_company() {
    let harness = harness();
    let group = json!({
        "type": "group",
        "messageId": "m-3",
        "userId": "jill",
        "groupId": "1234",
        "traits": {"name": "Initech", "industry": "Technology", "employees": 329, "plan": "enterprise", "totalBilled": 830},
        "timestamp": "2026-05-02T11:59:00Z"
    });

    let (status, body) = harness.call(post("/v1/group", &group)).await;
    harness.delivered().await;

    assert_eq!(status, StatusCode::OK);
    let requests = harness.client.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "/api/named_users/jill/attributes");
    let mut attributes = requests[0].body["attributes"].as_array().unwrap().clone();
    attributes.sort_by_key(|attribute| attribute["key"].as_str().unwrap().to_owned());
    assert_eq!(
        attributes,
        vec![
            json!({"action": "set", "key": "airship_segment_group_1234", "value": "true", "timestamp": "2026-05-02T11:59:00"}),
            json!({"action": "set", "key": "company", "value": "Initech", "timestamp": "2026-05-02T11:59:00"}),
        ]
    );
    let mut warned: Vec<&str> = body["results"][0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|warning| {
            assert_eq!(warning["reason"], "not_a_known_attribute");
            warning["key"].as_str().unwrap()
        })
        .collect();
    warned.sort_unstable();
    assert_eq!(warned, ["employees", "industry", "plan", "totalBilled"]);
}

#[tokio::test]
async fn page_screen_and_alias_are_skipped() {
    for message_type in ["page", "screen", "alias"] {
        let harness = harness();
        let message = json!({"messageId": "m-4", "userId": "jill", "name": "Home"});
        let mut typed = message.clone();
        typed["type"] = json!(message_type);

        let (status, body) = harness
            .call(post(&format!("/v1/{message_type}"), &message))
            .await;

        assert_eq!(status, StatusCode::OK, "{message_type}");
        assert!(harness.client.requests().is_empty(), "{message_type}");
        assert_eq!(
            body,
            json!({"success": true, "results": [{
                "index": 0,
                "message_id": "m-4",
                "type": message_type,
                "outcome": "skipped",
                "reason": "unsupported_type",
                "message": mapping_message(typed),
                "status": "skipped"
            }]}),
            "{message_type}"
        );
    }
}

#[tokio::test]
async fn body_type_matching_path_is_accepted() {
    let harness = harness();

    let (status, body) = harness.call(post("/v1/identify", &jill_identify())).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["type"], "identify");
}

#[tokio::test]
async fn body_type_disagreeing_with_path_is_rejected() {
    let harness = harness();
    let mut message = jill_identify();
    message["type"] = json!("track");

    let (status, body) = harness.call(post("/v1/identify", &message)).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "error": "type_mismatch",
            "message": "body `type` is \"track\" but the path /v1/identify sets type `identify`; \
                        remove `type` from the body or post to the path of its type"
        })
    );
    assert!(harness.client.requests().is_empty());
}

#[tokio::test]
async fn non_object_body_is_rejected() {
    let harness = harness();

    let (status, body) = harness.call(post("/v1/track", &json!([1, 2]))).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "not_an_object", "message": "request body must be a JSON object, found an array"})
    );
}

#[tokio::test]
async fn invalid_single_message_is_unprocessable() {
    let harness = harness();
    let message =
        json!({"type": "identify", "messageId": "m-5", "userId": true, "traits": {"a": true}});
    let expected_message = mapping_message(message.clone());

    let (status, body) = harness.call(post("/v1/identify", &message)).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({
            "success": false,
            "error": "invalid_message",
            "message": expected_message,
            "rejected": [{
                "index": 0,
                "message_id": "m-5",
                "reason": "invalid_user_id",
                "field": "userId",
                "message": expected_message
            }],
            "results": [{
                "index": 0,
                "message_id": "m-5",
                "type": "identify",
                "outcome": "invalid",
                "reason": "invalid_user_id",
                "field": "userId",
                "message": expected_message,
                "status": "invalid"
            }]
        })
    );
}

#[tokio::test]
async fn airship_rejection_becomes_dead_letter() {
    let harness = harness();
    harness.client.push_response(Err(AirshipError::Api {
        status: 400,
        error: Some("Could not parse request body.".into()),
        error_code: Some(40000),
        details: Some(json!({"error": "tag group not found"})),
        operation_id: Some("op-400".into()),
        body: String::new(),
        retry_after: None,
    }));

    let (status, body) = harness.call(post("/v1/identify", &jill_identify())).await;
    harness.delivered().await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["status"], "queued");
    let dead = harness
        .spool
        .dead_letters(DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id.as_deref(), Some("m-1"));
    assert_eq!(dead[0].failure.reason, DeadLetterReason::Rejected);
    assert_eq!(dead[0].failure.status, Some(400));
    assert_eq!(
        dead[0].failure.error.as_deref(),
        Some("Could not parse request body.")
    );
    assert_eq!(
        dead[0].failure.details,
        Some(json!({"error": "tag group not found"}))
    );
    assert_eq!(dead[0].failure.operation_id.as_deref(), Some("op-400"));
    assert_eq!(dead[0].message["userId"], "jill");
}

#[tokio::test]
async fn repeated_message_id_is_acknowledged_as_duplicate() {
    let harness = harness();

    let (_, first) = harness.call(post("/v1/identify", &jill_identify())).await;
    let (status, again) = harness.call(post("/v1/identify", &jill_identify())).await;
    harness.delivered().await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["results"][0]["status"], "queued");
    assert_eq!(again["results"][0]["status"], "duplicate");
    assert_eq!(harness.client.requests(), vec![jill_tags_request()]);
}

#[tokio::test]
async fn closed_spool_is_service_unavailable() {
    let harness = harness();
    harness.spool.close().await;

    let (status, body) = harness.call(post("/v1/identify", &jill_identify())).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "spool_unavailable");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("nothing was accepted"),
        "{body}"
    );
}

#[tokio::test]
async fn health_is_ok() {
    let harness = harness();
    let request = Request::get("/health").body(Body::empty()).unwrap();

    let (status, body) = harness.call(request).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["delivery"]["state"], "running");
    assert_eq!(body["delivery"]["counters"]["queued"], 0);
}

#[tokio::test]
async fn unknown_path_is_not_found() {
    let harness = harness();

    let (status, body) = harness.call(post("/v1/purchase", &json!({}))).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": "not_found", "message": "no route for POST /v1/purchase"})
    );
}

#[tokio::test]
async fn null_body_type_takes_path_type() {
    let harness = harness();
    let message = json!({"type": null, "messageId": "m-6", "userId": "jill"});

    let (status, body) = harness.call(post("/v1/screen", &message)).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["type"], "screen");
}
