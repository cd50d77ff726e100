//! Helpers: input files, the binary, and the mock.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;

use airship_mock::{MockConfig, RunningMock};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_segment-airship-batch");

/// Returns a `track` message whose custom event carries `seq` in its properties.
pub(crate) fn track(seq: u64) -> String {
    format!(
        r#"{{"type":"track","userId":"user-{}","event":"Replay Test","messageId":"m-{seq}","properties":{{"seq":{seq}}}}}"#,
        seq % 40
    )
}

/// NDJSON of `track(0..count)`.
pub(crate) fn ndjson(count: u64) -> String {
    (0..count).map(|seq| track(seq) + "\n").collect()
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub(crate) fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

pub(crate) async fn mock() -> RunningMock {
    airship_mock::spawn(MockConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

/// Builds a command for the binary with the mock's credentials and URL, a state folder and no
/// progress output.
pub(crate) fn command(mock: &RunningMock, state: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(BINARY);
    command
        .args([
            "--app-key",
            "mock-app-key",
            "--access-token",
            "mock-access-token",
        ])
        .args(["--airship-url", &mock.base_url()])
        .arg("--state-dir")
        .arg(state)
        .arg("--no-progress")
        .env_remove("RUST_LOG")
        .env_remove("AIRSHIP_APP_KEY")
        .env_remove("AIRSHIP_ACCESS_TOKEN")
        .env_remove("AIRSHIP_URL")
        .env_remove("AIRSHIP_DATA_CENTER");
    command
}

pub(crate) async fn run(command: &mut tokio::process::Command) -> Output {
    let output = command.output().await.unwrap();
    eprintln!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    output
}

/// Counts how many times the mock accepted a custom event with each `seq`.
pub(crate) fn delivered_seqs(mock: &RunningMock) -> BTreeMap<u64, u64> {
    let mut seen = BTreeMap::new();
    for request in mock.requests() {
        if request.path != "/api/custom-events" || request.status != Some(200) {
            continue;
        }
        for event in request.body.as_array().into_iter().flatten() {
            if let Some(seq) = event
                .pointer("/body/properties/seq")
                .and_then(Value::as_u64)
            {
                *seen.entry(seq).or_default() += 1;
            }
        }
    }
    seen
}

/// Named users of accepted custom events, in arrival order.
pub(crate) fn event_users(mock: &RunningMock) -> Vec<String> {
    mock.requests()
        .iter()
        .filter(|request| request.path == "/api/custom-events" && request.status == Some(200))
        .flat_map(|request| request.body.as_array().cloned().unwrap_or_default())
        .filter_map(|event| {
            event
                .pointer("/user/named_user_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

pub(crate) fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub(crate) fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
