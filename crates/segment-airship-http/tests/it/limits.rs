//! Segment's limits (32 KB per message, 500 KB per request, 2,500 messages per batch), gzip
//! bodies and malformed JSON.

use std::io::Write;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use flate2::write::GzEncoder;
use flate2::Compression;
use segment_airship_http::{MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES};
use serde_json::{json, Value};

use crate::support::{basic, harness, post, WRITE_KEY};

/// Builds a page message whose compact JSON is exactly `size` bytes.
fn page_of_size(size: usize) -> Value {
    let mut message =
        json!({"type": "page", "messageId": "m-big", "userId": "jill", "padding": ""});
    let base = serde_json::to_string(&message).unwrap().len();
    message["padding"] = json!("x".repeat(size - base));
    assert_eq!(serde_json::to_string(&message).unwrap().len(), size);
    message
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn post_bytes(path: &str, bytes: Vec<u8>) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, basic(WRITE_KEY))
        .body(Body::from(bytes))
        .unwrap()
}

fn post_gzip(path: &str, bytes: &[u8]) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, basic(WRITE_KEY))
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gzip(bytes)))
        .unwrap()
}

fn error(code: &str, message: &str) -> Value {
    json!({"error": code, "message": message})
}

#[test]
fn limits_are_segments() {
    assert_eq!(MAX_MESSAGE_BYTES, 32_768);
    assert_eq!(MAX_REQUEST_BYTES, 512_000);
    assert_eq!(MAX_BATCH_MESSAGES, 2_500);
}

#[tokio::test]
async fn message_at_32_kb_is_accepted() {
    let harness = harness();

    let (status, body) = harness
        .call(post("/v1/page", &page_of_size(MAX_MESSAGE_BYTES)))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["outcome"], "skipped");
}

#[tokio::test]
async fn message_over_32_kb_is_rejected() {
    let harness = harness();

    let (status, body) = harness
        .call(post("/v1/page", &page_of_size(MAX_MESSAGE_BYTES + 1)))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        error(
            "message_too_large",
            "message is 32769 bytes; the limit is 32 KB (32768 bytes) per message"
        )
    );
}

#[tokio::test]
async fn request_over_500_kb_with_length_names_size() {
    let harness = harness();
    let mut bytes = b"{\"batch\":[]}".to_vec();
    bytes.resize(612_345, b' ');
    let request = Request::post("/v1/batch")
        .header(header::AUTHORIZATION, basic(WRITE_KEY))
        .header(header::CONTENT_LENGTH, bytes.len())
        .body(Body::from(bytes))
        .unwrap();

    let (status, body) = harness.call(request).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        error(
            "request_too_large",
            "request body is 612345 bytes; the limit is 500 KB (512000 bytes)"
        )
    );
}

#[tokio::test]
async fn request_over_500_kb_without_length_is_rejected() {
    let harness = harness();
    let mut bytes = b"{\"batch\":[]}".to_vec();
    bytes.resize(MAX_REQUEST_BYTES + 1, b' ');

    let (status, body) = harness.call(post_bytes("/v1/batch", bytes)).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        error(
            "request_too_large",
            "request body is more than 512000 bytes; the limit is 500 KB (512000 bytes)"
        )
    );
}

#[tokio::test]
async fn request_at_500_kb_is_accepted() {
    let harness = harness();
    let mut bytes = b"{\"batch\":[]}".to_vec();
    bytes.resize(MAX_REQUEST_BYTES, b' ');

    let (status, body) = harness.call(post_bytes("/v1/batch", bytes)).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"success": true, "results": []}));
}

#[tokio::test]
async fn gzip_body_is_accepted() {
    let harness = harness();
    let message = json!({"type": "page", "messageId": "m-gz", "userId": "jill"});

    let (status, body) = harness
        .call(post_gzip("/v1/page", message.to_string().as_bytes()))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["message_id"], "m-gz");
}

#[tokio::test]
async fn gzip_batch_is_accepted() {
    let harness = harness();
    let batch = json!({"batch": [{"type": "page", "messageId": "m-1"}, {"type": "screen", "messageId": "m-2"}]});

    let (status, body) = harness
        .call(post_gzip("/v1/batch", batch.to_string().as_bytes()))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn gzip_over_500_kb_decompressed_is_rejected() {
    let harness = harness();
    let mut bytes = b"{\"batch\":[]}".to_vec();
    bytes.resize(MAX_REQUEST_BYTES + 1, b' ');

    let (status, body) = harness.call(post_gzip("/v1/batch", &bytes)).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        error(
            "request_too_large",
            "request body is more than 512000 bytes after gzip decompression; \
             the limit is 500 KB (512000 bytes)"
        )
    );
}

#[tokio::test]
async fn invalid_gzip_is_rejected() {
    let harness = harness();
    let request = Request::post("/v1/page")
        .header(header::AUTHORIZATION, basic(WRITE_KEY))
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from("{\"type\":\"page\"}"))
        .unwrap();

    let (status, body) = harness.call(request).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_gzip");
}

#[tokio::test]
async fn unsupported_encoding_is_rejected() {
    let harness = harness();
    let request = Request::post("/v1/page")
        .header(header::AUTHORIZATION, basic(WRITE_KEY))
        .header(header::CONTENT_ENCODING, "br")
        .body(Body::from("{}"))
        .unwrap();

    let (status, body) = harness.call(request).await;

    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        body,
        error(
            "unsupported_encoding",
            "unsupported Content-Encoding `br`; send the body as is or with gzip"
        )
    );
}

#[tokio::test]
async fn batch_of_2500_messages_is_accepted() {
    let harness = harness();
    let messages = vec![json!({"type": "page", "userId": "jill"}); MAX_BATCH_MESSAGES];

    let (status, body) = harness
        .call(post("/v1/batch", &json!({"batch": messages})))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["results"].as_array().unwrap().len(),
        MAX_BATCH_MESSAGES
    );
}

#[tokio::test]
async fn batch_over_2500_messages_is_rejected() {
    let harness = harness();
    let messages = vec![json!({"type": "page"}); MAX_BATCH_MESSAGES + 1];

    let (status, body) = harness
        .call(post("/v1/batch", &json!({"batch": messages})))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        error(
            "too_many_messages",
            "batch has 2501 messages; the limit is 2500 messages per batch"
        )
    );
}

#[tokio::test]
async fn malformed_json_names_position() {
    let harness = harness();

    let (status, body) = harness
        .call(post_bytes(
            "/v1/track",
            b"{\"type\": \"track\",\n  oops}".to_vec(),
        ))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        error(
            "malformed_json",
            "request body is not valid JSON: key must be a string at line 2 column 3"
        )
    );
}

#[tokio::test]
async fn empty_body_is_malformed_json() {
    let harness = harness();

    let (status, body) = harness.call(post_bytes("/v1/batch", Vec::new())).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "malformed_json");
}
