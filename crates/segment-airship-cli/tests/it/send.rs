//! `segment-airship send` against the mock Airship server on loopback.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Output;

use airship_mock::{MockConfig, RunningMock};
use serde_json::json;

use crate::support::{command, input_file, json_lines, run, stderr};

const IDENTIFY: &str = r#"{"type":"identify","messageId":"m-2","userId":"jill","traits":{"new_customer":true,"order_completed_last_60days":false}}"#;
const PAGE: &str = r#"{"type":"page","messageId":"m-1","userId":"jill"}"#;

async fn start_mock() -> RunningMock {
    airship_mock::spawn(
        MockConfig::default(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .unwrap()
}

/// Runs `send` on `input` (as a file) against `mock` with the given token, off the runtime's
/// threads so the mock keeps serving.
async fn send(mock: &RunningMock, token: &str, input: &str) -> Output {
    let file = input_file("events.ndjson", input);
    let mut command = command(&["send", file.to_str().unwrap()]);
    command
        .env("AIRSHIP_APP_KEY", MockConfig::default().app_key)
        .env("AIRSHIP_ACCESS_TOKEN", token)
        .env("AIRSHIP_URL", mock.base_url());
    tokio::task::spawn_blocking(move || run(command, ""))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identify_is_delivered_to_mock() {
    let mock = start_mock().await;

    let output = send(
        &mock,
        &MockConfig::default().access_token,
        &format!("{IDENTIFY}\n{PAGE}\n"),
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let recorded = mock.requests();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].path, "/api/named_users/tags");
    assert_eq!(
        recorded[0].body,
        json!({
            "audience": {"named_user_id": ["jill"]},
            "add": {"segment-integration": ["new_customer"]},
            "remove": {"segment-integration": ["order_completed_last_60days"]}
        })
    );
    let header = |name: &str| recorded[0].headers.get(name).map(String::as_str);
    assert_eq!(header("authorization"), Some("Bearer mock-access-token"));
    assert_eq!(header("x-ua-appkey"), Some("mock-app-key"));
    assert_eq!(
        header("accept"),
        Some("application/vnd.urbanairship+json; version=3")
    );

    let lines = json_lines(&output);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["outcome"], "sent");
    let delivery = &lines[0]["delivery"];
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["requests"][0]["result"], "accepted");
    assert_eq!(delivery["requests"][0]["status"], 200);
    assert!(
        delivery["requests"][0]["operation_id"].is_string(),
        "{delivery}"
    );
    assert_eq!(
        lines[1]["delivery"],
        json!({"status": "skipped", "requests": []})
    );
    assert!(
        stderr(&output).contains("2 messages: 1 delivered, 0 failed, 1 skipped, 0 invalid"),
        "{}",
        stderr(&output)
    );
    mock.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_token_fails_with_exit_3() {
    let mock = start_mock().await;

    let output = send(&mock, "wrong-token", IDENTIFY).await;

    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let lines = json_lines(&output);
    let delivery = &lines[0]["delivery"];
    assert_eq!(delivery["status"], "failed");
    assert_eq!(delivery["requests"][0]["result"], "failed");
    assert_eq!(delivery["requests"][0]["error"]["kind"], "unauthorized");
    assert_eq!(delivery["requests"][0]["error"]["status"], 401);
    assert!(
        !stderr(&output).contains("wrong-token"),
        "{}",
        stderr(&output)
    );
    mock.shutdown().await.unwrap();
}

#[test]
fn missing_credentials_name_flags_and_variables() {
    let file = input_file("events.ndjson", IDENTIFY);

    let output = run(command(&["send", file.to_str().unwrap()]), "");

    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    for name in [
        "--app-key",
        "AIRSHIP_APP_KEY",
        "--access-token",
        "AIRSHIP_ACCESS_TOKEN",
    ] {
        assert!(message.contains(name), "{name} missing from: {message}");
    }
    assert!(output.stdout.is_empty());
}

#[test]
fn send_requires_an_input() {
    let output = run(command(&["send"]), "");

    assert_eq!(output.status.code(), Some(2));
}
