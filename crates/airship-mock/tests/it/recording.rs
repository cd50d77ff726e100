//! Recorded requests: read through `GET /__mock/requests` and `RunningMock::requests`, and reset.

use airship_mock::RecordedRequest;
use serde_json::{json, Value};

use crate::{authorized_post, start, ACCEPT_V3, APP_KEY, TOKEN};

async fn fetch_recorded(http: &reqwest::Client, base_url: &str) -> Vec<RecordedRequest> {
    let text = http
        .get(format!("{base_url}/__mock/requests"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn request_recorded_exactly_as_sent() {
    let mock = start().await;
    let http = reqwest::Client::new();
    let path = "/api/named_users/acct%2F42%20%23%C3%BC/attributes";
    let body = r#"{"attributes":[{"action":"set","key":"zipcode","value":1610521604143693812}]}"#;

    let response = authorized_post(&http, &mock, path)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let over_http = fetch_recorded(&http, &mock.base_url()).await;
    let direct = mock.requests();
    assert_eq!(over_http, direct);
    assert_eq!(direct.len(), 1);
    let recorded = &direct[0];
    assert_eq!(recorded.method, "POST");
    assert_eq!(recorded.path, path);
    assert_eq!(recorded.headers["accept"], ACCEPT_V3);
    assert_eq!(recorded.headers["authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(recorded.headers["x-ua-appkey"], APP_KEY);
    assert_eq!(recorded.headers["content-type"], "application/json");
    assert_eq!(recorded.body, serde_json::from_str::<Value>(body).unwrap());
    assert_eq!(
        recorded.body["attributes"][0]["value"].to_string(),
        "1610521604143693812"
    );
}

#[tokio::test]
async fn rejected_requests_recorded_in_arrival_order() {
    let mock = start().await;
    let http = reqwest::Client::new();

    http.post(format!("{}/api/custom-events", mock.base_url()))
        .body("not json")
        .send()
        .await
        .unwrap();
    authorized_post(&http, &mock, "/api/unknown")
        .body("[1]")
        .send()
        .await
        .unwrap();
    http.get(format!("{}/api/named_users/tags", mock.base_url()))
        .send()
        .await
        .unwrap();

    let recorded = mock.requests();
    let summary: Vec<(&str, &str)> = recorded
        .iter()
        .map(|request| (request.method.as_str(), request.path.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", "/api/custom-events"),
            ("POST", "/api/unknown"),
            ("GET", "/api/named_users/tags"),
        ]
    );
    assert_eq!(recorded[0].body, json!("not json"));
    assert_eq!(recorded[1].body, json!([1]));
}

#[tokio::test]
async fn inspection_requests_not_recorded() {
    let mock = start().await;
    let http = reqwest::Client::new();

    let recorded = fetch_recorded(&http, &mock.base_url()).await;

    assert!(recorded.is_empty());
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn reset_clears_recorded_requests() {
    let mock = start().await;
    let http = reqwest::Client::new();
    let send_one = || {
        authorized_post(&http, &mock, "/api/named_users/tags")
            .body("{}")
            .send()
    };

    send_one().await.unwrap();
    let reset = http
        .post(format!("{}/__mock/reset", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 204);
    assert!(mock.requests().is_empty());

    send_one().await.unwrap();
    let delete = http
        .delete(format!("{}/__mock/requests", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status().as_u16(), 204);
    assert!(fetch_recorded(&http, &mock.base_url()).await.is_empty());

    send_one().await.unwrap();
    mock.reset();
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let mock = start().await;
    let base_url = mock.base_url();
    let http = reqwest::Client::new();
    fetch_recorded(&http, &base_url).await;

    mock.shutdown().await.unwrap();

    let after = http.get(format!("{base_url}/__mock/requests")).send().await;
    assert!(after.is_err(), "server still answering: {after:?}");
}
