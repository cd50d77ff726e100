//! Fault injection through `/__mock/faults` and the `MockAirship` methods: error statuses with
//! exact counts, dropped connections, latency, and how each faulted request is recorded.

use std::time::Duration;

use airship_mock::{FaultKind, FaultRule, Faults, InjectedFault, RunningMock};
use serde_json::{json, Value};

use crate::{authorized_post, start_at_now, Answer};

const TAGS_BODY: &str =
    r#"{"audience":{"named_user_id":["u-42"]},"add":{"segment-integration":["t"]}}"#;

async fn send_tags(
    http: &reqwest::Client,
    mock: &RunningMock,
) -> reqwest::Result<reqwest::Response> {
    authorized_post(http, mock, "/api/named_users/tags")
        .body(TAGS_BODY)
        .send()
        .await
}

async fn post_fault(http: &reqwest::Client, mock: &RunningMock, body: Value) -> Answer {
    let response = http
        .post(format!("{}/__mock/faults", mock.base_url()))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    Answer::read(response).await
}

fn outcomes(mock: &RunningMock) -> Vec<(Option<u16>, Option<InjectedFault>)> {
    mock.requests()
        .iter()
        .map(|request| (request.status, request.fault))
        .collect()
}

#[tokio::test]
async fn too_many_requests_for_exact_count() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();

    let configured = post_fault(
        &http,
        &mock,
        json!({"status": 429, "count": 3, "retry_after": 1}),
    )
    .await;
    assert_eq!(configured.status, 200, "{}", configured.text);
    assert_eq!(
        configured.json()["rules"],
        json!([{"kind": "status", "status": 429, "retry_after": 1, "remaining": 3}])
    );

    for attempt in 0..3 {
        let response = send_tags(&http, &mock).await.unwrap();
        let retry_after = response.headers().get("retry-after").cloned();
        let answer = Answer::read(response).await;

        assert_eq!(answer.status, 429, "attempt {attempt}");
        assert_eq!(retry_after.unwrap(), "1", "attempt {attempt}");
        assert_eq!(answer.content_type, "application/json");
        assert_eq!(answer.json()["ok"], json!(false));
        assert_eq!(answer.json()["error_code"], json!(42900));
    }
    let after = send_tags(&http, &mock).await.unwrap();

    assert_eq!(after.status().as_u16(), 200);
    assert_eq!(
        outcomes(&mock),
        [
            (Some(429), Some(InjectedFault::Status)),
            (Some(429), Some(InjectedFault::Status)),
            (Some(429), Some(InjectedFault::Status)),
            (Some(200), None),
        ]
    );
    assert!(mock.mock().faults().rules.is_empty());
    // The faulted requests were not handled, so only the last one created the named user.
    assert!(mock.named_user("u-42").is_some());
}

#[tokio::test]
async fn injected_429_gets_default_retry_after() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    post_fault(&http, &mock, json!({"status": 429, "count": 1})).await;
    post_fault(
        &http,
        &mock,
        json!({"status": 429, "count": 1, "retry_after": null}),
    )
    .await;

    let default = send_tags(&http, &mock).await.unwrap();
    let without = send_tags(&http, &mock).await.unwrap();

    assert_eq!(default.headers()["retry-after"], "1");
    assert_eq!(without.status().as_u16(), 429);
    assert!(without.headers().get("retry-after").is_none());
}

#[tokio::test]
async fn rules_apply_in_queue_order() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    post_fault(&http, &mock, json!({"status": 500, "count": 1})).await;
    post_fault(
        &http,
        &mock,
        json!({"status": 503, "count": 2, "retry_after": 5}),
    )
    .await;

    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = send_tags(&http, &mock).await.unwrap();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|value| value.to_str().unwrap().to_owned());
        statuses.push((response.status().as_u16(), retry_after));
    }

    assert_eq!(
        statuses,
        [
            (500, None),
            (503, Some("5".to_owned())),
            (503, Some("5".to_owned())),
            (200, None),
        ]
    );
}

#[tokio::test]
async fn status_without_count_lasts_until_cleared() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    mock.mock().fail_requests(503, None, None).unwrap();

    for _ in 0..5 {
        assert_eq!(
            send_tags(&http, &mock).await.unwrap().status().as_u16(),
            503
        );
    }
    let cleared = http
        .delete(format!("{}/__mock/faults", mock.base_url()))
        .send()
        .await
        .unwrap();

    assert_eq!(cleared.status().as_u16(), 204);
    assert_eq!(
        send_tags(&http, &mock).await.unwrap().status().as_u16(),
        200
    );
}

#[tokio::test]
async fn injected_401_has_text_body() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    mock.mock().fail_requests(401, Some(1), None).unwrap();

    let answer = Answer::read(send_tags(&http, &mock).await.unwrap()).await;

    assert_eq!(answer.status, 401);
    assert!(answer.content_type.starts_with("text/plain"));
}

#[tokio::test]
async fn dropped_connections_get_no_response() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    let configured = post_fault(&http, &mock, json!({"drop_connections": 2})).await;
    assert_eq!(
        configured.json()["rules"],
        json!([{"kind": "drop_connection", "remaining": 2}])
    );

    let first = send_tags(&http, &mock).await;
    let second = send_tags(&http, &mock).await;
    let third = send_tags(&http, &mock).await.unwrap();

    for dropped in [first, second] {
        let error = dropped.unwrap_err();
        assert!(!error.is_timeout(), "{error:?}");
        assert!(error.status().is_none(), "{error:?}");
    }
    assert_eq!(third.status().as_u16(), 200);
    assert_eq!(
        outcomes(&mock),
        [
            (None, Some(InjectedFault::DroppedConnection)),
            (None, Some(InjectedFault::DroppedConnection)),
            (Some(200), None),
        ]
    );
    assert_eq!(mock.requests()[0].path, "/api/named_users/tags");
}

#[tokio::test]
async fn latency_delays_answers() {
    let mock = start_at_now().await;
    let configured = post_fault(&reqwest::Client::new(), &mock, json!({"latency_ms": 100})).await;
    assert_eq!(configured.json()["latency_ms"], json!(100));
    let patient = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let delayed = send_tags(&patient, &mock).await.unwrap();

    assert_eq!(delayed.status().as_u16(), 200);
}

#[tokio::test]
async fn latency_longer_than_client_timeout_times_out() {
    let mock = start_at_now().await;
    mock.mock().set_latency(Duration::from_secs(60));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();

    let error = send_tags(&impatient, &mock).await.unwrap_err();

    assert!(error.is_timeout(), "{error:?}");
    // Recorded on arrival, before the delay, and still unanswered.
    assert_eq!(outcomes(&mock), [(None, None)]);
}

#[tokio::test]
async fn control_routes_never_faulted() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    mock.mock().fail_requests(500, None, None).unwrap();
    mock.mock().drop_connections(1).unwrap();

    let listed = http
        .get(format!("{}/__mock/faults", mock.base_url()))
        .send()
        .await
        .unwrap();
    let faults: Faults = serde_json::from_str(&listed.text().await.unwrap()).unwrap();

    assert_eq!(
        faults.rules,
        [
            FaultRule {
                fault: FaultKind::Status {
                    status: 500,
                    retry_after: None
                },
                remaining: None
            },
            FaultRule {
                fault: FaultKind::DropConnection,
                remaining: Some(1)
            },
        ]
    );
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn invalid_fault_requests_rejected() {
    let mock = start_at_now().await;
    let http = reqwest::Client::new();
    let invalid = [
        "not json".to_owned(),
        json!({}).to_string(),
        json!({"status": 302}).to_string(),
        json!({"status": 500, "count": 0}).to_string(),
        json!({"status": 500, "drop_connections": 1}).to_string(),
        json!({"latency": 5}).to_string(),
    ];

    for body in invalid {
        let response = http
            .post(format!("{}/__mock/faults", mock.base_url()))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let answer = Answer::read(response).await;

        assert_eq!(answer.status, 400, "{body}");
        assert!(answer.json()["error"].is_string(), "{body}");
    }
    assert_eq!(mock.mock().faults(), Faults::default());
}
