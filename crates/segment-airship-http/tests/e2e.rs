//! End to end: the service binary and a mock Airship on loopback ports, driven by the official
//! Segment Node.js library (`@segment/analytics-node`) and by plain HTTP.
//!
//! The Node.js test needs `e2e/node/node_modules`; `cargo xtask test` installs it with `npm ci`.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use airship_mock::{MockConfig, RecordedRequest, RunningMock};
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};

const WRITE_KEY: &str = "e2e-write-key";
/// How long to wait for the service to start and for deliveries to reach the mock.
const DEADLINE: Duration = Duration::from_secs(30);

/// The service binary, killed when dropped.
struct Service {
    child: Child,
    base_url: String,
    work_dir: WorkDir,
}

impl Service {
    /// Stops the service and returns everything it logged, at debug level.
    fn stop_and_read_log(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(self.work_dir.0.join("service.log")).expect("read the service log")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary working directory, so the service's data files stay out of the repository.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(name: &str) -> WorkDir {
        let path =
            std::env::temp_dir().join(format!("segment-airship-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the service's working directory");
        WorkDir(path)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address")
}

async fn start_mock() -> RunningMock {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    airship_mock::spawn(MockConfig::default(), addr)
        .await
        .expect("start the mock Airship")
}

async fn start_service(name: &str, mock: &RunningMock) -> Service {
    let addr = free_port();
    let work_dir = WorkDir::new(name);
    let config = MockConfig::default();
    let log =
        std::fs::File::create(work_dir.0.join("service.log")).expect("create the service log");
    let child = Command::new(env!("CARGO_BIN_EXE_segment-airship-http"))
        .args(["--listen", &addr.to_string()])
        .args(["--airship-url", &mock.base_url()])
        .args(["--app-key", &config.app_key])
        .args(["--access-token", &config.access_token])
        .args(["--write-key", WRITE_KEY])
        .current_dir(&work_dir.0)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::from(
            log.try_clone().expect("clone the log file handle"),
        ))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start segment-airship-http");
    let service = Service {
        child,
        base_url: format!("http://{addr}"),
        work_dir,
    };
    wait_until_healthy(&service.base_url).await;
    service
}

async fn wait_until_healthy(base_url: &str) {
    let client = reqwest::Client::new();
    let started = tokio::time::Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{base_url}/health")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the service did not become healthy at {base_url}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the mock has recorded `count` requests, and returns them.
async fn wait_for_requests(mock: &RunningMock, count: usize) -> Vec<RecordedRequest> {
    let started = tokio::time::Instant::now();
    loop {
        let requests = mock.requests();
        if requests.len() >= count {
            return requests;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the mock received {} of {count} requests: {requests:#?}",
            requests.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Returns the event time of every message, recent enough for Airship's 90-day window.
fn event_time() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3) - chrono::Duration::minutes(1)
}

/// Returns the three requests the docs page's identify, track and group examples become, keyed
/// by path.
fn expected_requests(time: DateTime<Utc>) -> Vec<(String, Value)> {
    let occurred = time.format("%Y-%m-%dT%H:%M:%S").to_string();
    vec![
        (
            "/api/named_users/jill/attributes".to_owned(),
            json!({"attributes": [
                {"action": "set", "key": "airship_segment_group_1234", "value": "true", "timestamp": occurred},
                {"action": "set", "key": "company", "value": "Initech", "timestamp": occurred},
            ]}),
        ),
        (
            "/api/named_users/tags".to_owned(),
            json!({
                "audience": {"named_user_id": ["jill"]},
                "add": {"segment-integration": ["new_customer"]},
                "remove": {"segment-integration": ["order_completed_last_60days"]},
            }),
        ),
        (
            "/api/custom-events".to_owned(),
            json!([{
                "occurred": occurred,
                "user": {"named_user_id": "jill"},
                "body": {"name": "product clicked", "properties":
                    {"name": "Air Jordans", "brand": "Nike ", "price": 200, "quantity": 1, "variant": "Red"}},
            }]),
        ),
    ]
}

/// Checks the requests the mock received: exactly the expected paths and bodies, in any order
/// between users' request kinds, with the headers Airship requires on each.
fn assert_docs_requests(received: &[RecordedRequest], time: DateTime<Utc>) {
    let mut actual: Vec<(String, Value)> = received
        .iter()
        .map(|request| (request.path.clone(), request.body.clone()))
        .collect();
    let mut expected = expected_requests(time);
    actual.sort_by(|a, b| a.0.cmp(&b.0));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(actual, expected);

    let config = MockConfig::default();
    for request in received {
        assert_eq!(request.method, "POST", "{}", request.path);
        let header = |name: &str| request.headers.get(name).map(String::as_str);
        assert_eq!(
            header("authorization"),
            Some(format!("Bearer {}", config.access_token).as_str()),
            "{}",
            request.path
        );
        assert_eq!(
            header("x-ua-appkey"),
            Some(config.app_key.as_str()),
            "{}",
            request.path
        );
        assert_eq!(
            header("accept"),
            Some("application/vnd.urbanairship+json; version=3"),
            "{}",
            request.path
        );
        assert_eq!(
            header("content-type"),
            Some("application/json"),
            "{}",
            request.path
        );
        assert_eq!(
            header("user-agent"),
            Some(concat!("segment-airship/", env!("CARGO_PKG_VERSION"))),
            "{}",
            request.path
        );
    }
}

/// Checks the service's debug log, which records every Airship request, for the write key and the
/// access token.
fn assert_log_has_no_secrets(service: Service) {
    let log = service.stop_and_read_log();
    assert!(log.contains("DEBUG"), "the log has no debug lines: {log}");
    assert!(
        !log.contains(WRITE_KEY),
        "the write key appears in the log: {log}"
    );
    let token = MockConfig::default().access_token;
    assert!(
        !log.contains(&token),
        "the access token appears in the log: {log}"
    );
}

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/node")
}

#[tokio::test]
async fn node_library_docs_examples_reach_airship() {
    let node_dir = node_dir();
    assert!(
        node_dir
            .join("node_modules/@segment/analytics-node")
            .is_dir(),
        "@segment/analytics-node is not installed in {}; run `cargo xtask test` or `npm ci` there",
        node_dir.display()
    );
    let mock = start_mock().await;
    let service = start_service("node", &mock).await;
    let time = event_time();

    let output = tokio::process::Command::new("node")
        .arg("send-docs-examples.mjs")
        .current_dir(&node_dir)
        .env("SEGMENT_HOST", &service.base_url)
        .env("SEGMENT_WRITE_KEY", WRITE_KEY)
        .env("EVENT_TIMESTAMP", time.to_rfc3339())
        .output()
        .await
        .expect("run node; Node.js 20 or later must be on PATH");
    assert!(
        output.status.success(),
        "the Node.js library failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("request POST {}/v1/batch", service.base_url)),
        "the library did not post to the service's /v1/batch: {stdout}"
    );

    let received = wait_for_requests(&mock, 3).await;
    assert_docs_requests(&received, time);

    assert_log_has_no_secrets(service);
}

#[tokio::test]
async fn plain_http_docs_examples_reach_airship() {
    let mock = start_mock().await;
    let service = start_service("http", &mock).await;
    let time = event_time();
    let timestamp = time.to_rfc3339();
    let calls = [
        (
            "identify",
            json!({"userId": "jill", "timestamp": timestamp,
                   "traits": {"new_customer": true, "order_completed_last_60days": false}}),
        ),
        (
            "track",
            json!({"userId": "jill", "timestamp": timestamp, "event": "Product Clicked",
                   "properties": {"name": "Air Jordans", "brand": "Nike ", "price": 200, "quantity": 1, "variant": "Red"}}),
        ),
        (
            "group",
            json!({"userId": "jill", "timestamp": timestamp, "groupId": "1234",
                   "traits": {"name": "Initech", "industry": "Technology", "employees": 329, "plan": "enterprise", "totalBilled": 830}}),
        ),
    ];

    let client = reqwest::Client::new();
    for (call, body) in calls {
        let response = client
            .post(format!("{}/v1/{call}", service.base_url))
            .basic_auth(WRITE_KEY, Some(""))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("post to the service");
        assert_eq!(response.status(), reqwest::StatusCode::OK, "/v1/{call}");
    }

    let received = wait_for_requests(&mock, 3).await;
    assert_docs_requests(&received, time);
    assert_log_has_no_secrets(service);
}
