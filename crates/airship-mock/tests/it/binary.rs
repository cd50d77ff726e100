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
        .body(r#"{"audience":{"named_user_id":"u"},"add":{"g":["t"]}}"#)
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
