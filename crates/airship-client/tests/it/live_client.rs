//! `LiveClient` against a wiremock server on loopback.

use std::time::Duration;

use airship_client::{
    AirshipClient, AirshipConfig, AirshipError, AirshipRequest, DataCenter, LiveClient, USER_AGENT,
};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "tok-0123456789-secret";
const APP_KEY: &str = "app-key-42";

fn config_for(server: &MockServer) -> AirshipConfig {
    AirshipConfig::new(DataCenter::Us, APP_KEY, TOKEN).with_base_url(server.uri())
}

fn client_for(server: &MockServer) -> LiveClient {
    LiveClient::new(config_for(server)).unwrap()
}

fn custom_event() -> AirshipRequest {
    AirshipRequest::custom_events(vec![json!({
        "user": {"named_user_id": "u-42"},
        "body": {"name": "order_completed"}
    })])
}

async fn answer_with(template: ResponseTemplate) -> (MockServer, LiveClient) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    let client = client_for(&server);
    (server, client)
}

async fn send_error(template: ResponseTemplate) -> AirshipError {
    let (_server, client) = answer_with(template).await;
    client.send(&custom_event()).await.unwrap_err()
}

#[tokio::test]
async fn sends_all_five_headers() {
    let (server, client) = answer_with(ResponseTemplate::new(200)).await;

    client.send(&custom_event()).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let headers = &received[0].headers;
    let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    assert_eq!(header("authorization"), format!("Bearer {TOKEN}"));
    assert_eq!(header("x-ua-appkey"), APP_KEY);
    assert_eq!(
        header("accept"),
        "application/vnd.urbanairship+json; version=3"
    );
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("user-agent"), USER_AGENT);
    assert_eq!(
        USER_AGENT,
        format!("segment-airship/{}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn path_and_body_sent_exactly() {
    let (server, client) = answer_with(ResponseTemplate::new(200)).await;
    let body: Value = serde_json::from_str(
        r#"{"attributes":[{"action":"set","key":"account_id","value":1610521604143693812}]}"#,
    )
    .unwrap();
    let request = AirshipRequest::named_user_attributes("acct/42 #ü", body.clone());

    client.send(&request).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received[0].method.as_str(), "POST");
    assert_eq!(
        received[0].url.path(),
        "/api/named_users/acct%2F42%20%23%C3%BC/attributes"
    );
    let sent = String::from_utf8(received[0].body.clone()).unwrap();
    assert!(sent.contains("1610521604143693812"), "{sent}");
    assert_eq!(sent, serde_json::to_string(&body).unwrap());
}

#[tokio::test]
async fn base_url_trailing_slash_not_doubled() {
    let server = MockServer::start().await;
    Mock::given(path("/api/custom-events"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let config = config_for(&server).with_base_url(format!("{}/", server.uri()));
    let client = LiveClient::new(config).unwrap();

    client.send(&custom_event()).await.unwrap();
}

#[tokio::test]
async fn success_parses_operation_id_and_warnings() {
    let template = ResponseTemplate::new(200).set_body_raw(
        r#"{"ok":true,"operation_id":"5b5d8d2c-0000-4000-8000-000000000001","tag_warnings":"crm,plan"}"#,
        "application/json",
    );
    let (_server, client) = answer_with(template).await;

    let response = client.send(&custom_event()).await.unwrap();

    assert_eq!(response.status, 200);
    assert_eq!(
        response.operation_id.as_deref(),
        Some("5b5d8d2c-0000-4000-8000-000000000001")
    );
    assert_eq!(response.warnings, ["crm", "plan"]);
}

#[tokio::test]
async fn json_400_keeps_details_and_operation_id() {
    let body = json!({
        "ok": false,
        "error": "Could not parse request body.",
        "error_code": 40000,
        "details": {"error": "The key 'x' is not allowed in this context", "path": "body.x", "location": {"line": 5, "column": 18}},
        "operation_id": "op-400"
    });

    let error = send_error(ResponseTemplate::new(400).set_body_json(&body)).await;

    let AirshipError::Api {
        status,
        error: message,
        error_code,
        details,
        operation_id,
        body: raw,
        retry_after,
    } = &error
    else {
        panic!("expected Api, got {error:?}");
    };
    assert_eq!(*status, 400);
    assert_eq!(message.as_deref(), Some("Could not parse request body."));
    assert_eq!(*error_code, Some(40000));
    assert_eq!(details.as_ref(), Some(&body["details"]));
    assert_eq!(operation_id.as_deref(), Some("op-400"));
    assert_eq!(serde_json::from_str::<Value>(raw).unwrap(), body);
    assert_eq!(*retry_after, None);
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("body.x"), "{error}");
}

#[tokio::test]
async fn unauthorized_with_text_body() {
    let template = ResponseTemplate::new(401).set_body_raw("Unauthorized", "text/plain");
    let (server, client) = answer_with(template).await;

    let error = client.send(&custom_event()).await.unwrap_err();

    let AirshipError::Unauthorized { base_url, body } = &error else {
        panic!("expected Unauthorized, got {error:?}");
    };
    assert_eq!(base_url, &server.uri());
    assert_eq!(body, "Unauthorized");
    assert_eq!(error.status(), Some(401));
    assert!(!error.is_retryable());
    let message = error.to_string();
    assert!(message.contains("access token"), "{message}");
    assert!(message.contains("app key"), "{message}");
    assert!(message.contains(&server.uri()), "{message}");
}

#[tokio::test]
async fn too_many_requests_with_retry_after_seconds() {
    let template = ResponseTemplate::new(429).insert_header("Retry-After", "1");

    let error = send_error(template).await;

    assert_eq!(error.status(), Some(429));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn retry_after_http_date() {
    let later = chrono::Utc::now() + chrono::Duration::seconds(120);
    let http_date = later.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let template = ResponseTemplate::new(503).insert_header("Retry-After", http_date.as_str());

    let error = send_error(template).await;

    let wait = error.retry_after().expect("retry-after parsed");
    assert!(wait > Duration::from_secs(100), "{wait:?}");
    assert!(wait <= Duration::from_secs(120), "{wait:?}");
}

#[tokio::test]
async fn service_unavailable_retryable() {
    let error = send_error(ResponseTemplate::new(503)).await;

    assert_eq!(error.status(), Some(503));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn not_found_not_retryable() {
    let template = ResponseTemplate::new(404).set_body_raw(
        r#"{"ok":false,"error":"Entity not found","error_code":40401}"#,
        "application/vnd.urbanairship+json",
    );

    let error = send_error(template).await;

    assert!(matches!(
        error,
        AirshipError::Api {
            status: 404,
            error_code: Some(40401),
            ..
        }
    ));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn html_502_body_kept_as_text() {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let template = ResponseTemplate::new(502).set_body_raw(html, "text/html");

    let error = send_error(template).await;

    let AirshipError::Api {
        status,
        error: message,
        body,
        ..
    } = &error
    else {
        panic!("expected Api, got {error:?}");
    };
    assert_eq!(*status, 502);
    assert_eq!(*message, None);
    assert_eq!(body, html);
    assert!(error.is_retryable());
    assert!(error.to_string().contains("502 Bad Gateway"), "{error}");
}

#[tokio::test]
async fn slow_answer_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let config = config_for(&server).with_timeout(Duration::from_millis(200));
    let client = LiveClient::new(config).unwrap();

    let error = client.send(&custom_event()).await.unwrap_err();

    assert!(
        matches!(error, AirshipError::Timeout { timeout } if timeout == Duration::from_millis(200)),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn connection_refused_is_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let config = AirshipConfig::new(DataCenter::Eu, APP_KEY, TOKEN)
        .with_base_url(format!("http://{address}"));
    let client = LiveClient::new(config).unwrap();

    let error = client.send(&custom_event()).await.unwrap_err();

    assert!(matches!(error, AirshipError::Connect { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert!(error.to_string().contains(&address.to_string()), "{error}");
}

#[tokio::test]
async fn non_post_method_rejected_before_sending() {
    let (server, client) = answer_with(ResponseTemplate::new(200)).await;
    let mut request = custom_event();
    request.method = "GET".into();

    let error = client.send(&request).await.unwrap_err();

    assert!(
        matches!(error, AirshipError::InvalidRequest { .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn token_absent_from_debug_and_messages() {
    let template = ResponseTemplate::new(401).set_body_raw("Unauthorized", "text/plain");
    let (server, client) = answer_with(template).await;
    let unauthorized = client.send(&custom_event()).await.unwrap_err();
    let timeout = AirshipError::Timeout {
        timeout: Duration::from_secs(1),
    };

    let outputs = [
        format!("{:?}", config_for(&server)),
        format!("{client:?}"),
        format!("{unauthorized:?}"),
        unauthorized.to_string(),
        format!("{timeout:?}"),
    ];

    for output in outputs {
        assert!(!output.contains(TOKEN), "token leaked in {output}");
    }
    assert!(format!("{client:?}").contains("[redacted]"));
}

#[test]
fn data_center_base_urls_used_by_default() {
    let us = AirshipConfig::new(DataCenter::Us, APP_KEY, TOKEN);
    let eu = AirshipConfig::new(DataCenter::Eu, APP_KEY, TOKEN);

    assert_eq!(us.base_url, "https://go.urbanairship.com");
    assert_eq!(eu.base_url, "https://go.airship.eu");
    assert_eq!(
        LiveClient::new(eu).unwrap().config().data_center,
        DataCenter::Eu
    );
}
