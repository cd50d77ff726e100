//! The `airship-mock` binary: startup log with the real port, serving, and SIGTERM shutdown.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{ACCEPT_V3, APP_KEY};

#[tokio::test]
async fn binary_logs_port_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airship-mock"))
        .args(["--listen", "127.0.0.1:0", "--app-key", APP_KEY])
        .env("AIRSHIP_MOCK_ACCESS_TOKEN", "token-from-env")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());

    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    let address = line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("address="))
        .unwrap_or_else(|| panic!("no address in {line}"))
        .to_owned();
    assert_ne!(address, "127.0.0.1:0");

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let response = http
        .post(format!("http://{address}/api/named_users/tags"))
        .header("accept", ACCEPT_V3)
        .header("authorization", "Bearer token-from-env")
        .body(r#"{"audience":{"named_user_id":"u"},"add":{"segment-integration":["t"]}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    drop(http);

    let mut request_line = String::new();
    stderr.read_line(&mut request_line).unwrap();
    assert!(request_line.contains("received request"), "{request_line}");
    assert!(
        request_line.contains("/api/named_users/tags"),
        "{request_line}"
    );
    assert!(!request_line.contains("token-from-env"), "{request_line}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// Starts the binary with `args`, and returns it with the address from its first log line.
fn start_binary(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airship-mock"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("AIRSHIP_MOCK_ACCESS_TOKEN")
        .env_remove("AIRSHIP_MOCK_APP_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let address = line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("address="))
        .unwrap_or_else(|| panic!("no address in {line}"))
        .to_owned();
    // Keep reading stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (child, address)
}

fn stop(mut child: std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn binary_reads_project_from_config_file_and_flags() {
    let path = std::env::temp_dir().join(format!("airship-mock-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(
        &path,
        r#"
            now = "2026-05-02T12:00:00Z"
            strict_named_users = true
            known_named_users = ["jill"]

            [project]
            tag_groups = ["crm"]

            [project.attributes]
            plan = "text"
        "#,
    )
    .unwrap();
    let (child, address) = start_binary(&[
        "--config",
        path.to_str().unwrap(),
        "--attribute",
        "score=number",
        "--known-named-user",
        "jack",
    ]);
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("http://{address}{path}"))
            .header("accept", ACCEPT_V3)
            .header("authorization", "Bearer mock-access-token")
            .header("x-ua-appkey", APP_KEY)
            .body(body.to_string())
            .send()
    };

    let tags = post(
        "/api/named_users/tags",
        serde_json::json!({"audience": {"named_user_id": ["jill", "jack", "joe"]}, "add": {"crm": ["vip"], "segment-integration": ["x"]}}),
    )
    .await
    .unwrap();
    let tags: serde_json::Value = serde_json::from_str(&tags.text().await.unwrap()).unwrap();
    let attributes = post(
        "/api/named_users/jill/attributes",
        serde_json::json!({"attributes": [
            {"action": "set", "key": "plan", "value": "pro"},
            {"action": "set", "key": "score", "value": 3}
        ]}),
    )
    .await
    .unwrap();
    let attributes: serde_json::Value =
        serde_json::from_str(&attributes.text().await.unwrap()).unwrap();
    let old_event = post(
        "/api/custom-events",
        serde_json::json!([{"occurred": "2026-01-01T00:00:00", "user": {"named_user_id": "jill"}, "body": {"name": "e"}}]),
    )
    .await
    .unwrap();
    drop(http);
    stop(child);
    std::fs::remove_file(&path).unwrap();

    assert_eq!(tags["ok"], serde_json::json!(true), "{tags}");
    assert_eq!(
        tags["tag_warnings"],
        serde_json::json!("segment-integration")
    );
    assert_eq!(tags["warnings"], serde_json::json!("joe"));
    assert_eq!(attributes["ok"], serde_json::json!(true), "{attributes}");
    assert!(attributes.get("warnings").is_none(), "{attributes}");
    assert_eq!(old_event.status().as_u16(), 400);
}

#[tokio::test]
async fn binary_fault_flags_fail_then_recover() {
    let (child, address) = start_binary(&[
        "--fail-status",
        "503",
        "--fail-count",
        "2",
        "--retry-after",
        "4",
        "--drop-connections",
        "1",
        "--latency-ms",
        "10",
    ]);
    let http = reqwest::Client::new();
    let send = || {
        http.post(format!("http://{address}/api/named_users/tags"))
            .header("accept", ACCEPT_V3)
            .header("authorization", "Bearer mock-access-token")
            .body(r#"{"audience":{"named_user_id":"u"},"add":{"segment-integration":["t"]}}"#)
            .send()
    };

    let first = send().await.unwrap();
    let second = send().await.unwrap();
    let dropped = send().await;
    let recovered = send().await.unwrap();
    let recorded: Vec<airship_mock::RecordedRequest> = serde_json::from_str(
        &http
            .get(format!("http://{address}/__mock/requests"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    drop(http);
    stop(child);

    for failed in [&first, &second] {
        assert_eq!(failed.status().as_u16(), 503);
        assert_eq!(failed.headers()["retry-after"], "4");
    }
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(recovered.status().as_u16(), 200);
    let statuses: Vec<Option<u16>> = recorded.iter().map(|request| request.status).collect();
    assert_eq!(statuses, [Some(503), Some(503), None, Some(200)]);
}

#[test]
fn binary_rejects_invalid_config() {
    let output = Command::new(env!("CARGO_BIN_EXE_airship-mock"))
        .args(["--tag-group", "ua_reserved"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ua_reserved"), "{stderr}");
}
