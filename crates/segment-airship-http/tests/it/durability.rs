//! Durable delivery seen from the front: the service keeps accepting while Airship fails, and
//! every acknowledged message survives `kill -9`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use airship_client::{AirshipConfig, DataCenter, LiveClient};
use airship_mapping::Settings;
use airship_mock::{MockConfig, RunningMock};
use segment_airship_delivery::{
    AirshipTarget, Engine, EngineConfig, Intake, RetryPolicy, Spool, SqliteSpool,
    SqliteSpoolOptions,
};
use segment_airship_http::{serve, AppState, Auth, WriteKey};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::support::WRITE_KEY;

/// Maximum wait for the service to start or for deliveries to reach the mock.
const DEADLINE: Duration = Duration::from_secs(60);

async fn start_mock() -> RunningMock {
    airship_mock::spawn(
        MockConfig::default(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .unwrap()
}

/// Polls `condition` every 20 ms until it holds; panics with `what` after [`DEADLINE`].
async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let started = tokio::time::Instant::now();
    while !condition() {
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Custom-event `properties.seq` values the mock accepted, with how often each arrived.
fn received_seqs(mock: &RunningMock) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for user in mock.mock().named_users() {
        for event in &user.custom_events {
            if let Some(seq) = event["body"]["properties"]["seq"].as_u64() {
                *seen.entry(seq).or_insert(0) += 1;
            }
        }
    }
    seen
}

fn track(seq: u64) -> Value {
    json!({
        "type": "track",
        "messageId": format!("m-{seq}"),
        "userId": format!("user-{}", seq % 50),
        "event": "Load Test",
        "properties": {"seq": seq}
    })
}

#[tokio::test]
async fn service_keeps_accepting_while_airship_answers_503() {
    let mock = start_mock().await;
    mock.mock().fail_requests(503, None, None).unwrap();
    let mock_config = MockConfig::default();
    let client = LiveClient::new(
        AirshipConfig::new(
            DataCenter::Us,
            mock_config.app_key,
            mock_config.access_token,
        )
        .with_base_url(mock.base_url()),
    )
    .unwrap();
    let spool: Arc<dyn Spool> =
        Arc::new(SqliteSpool::in_memory(SqliteSpoolOptions::default()).unwrap());
    let settings = Arc::new(Settings::default());
    let config = EngineConfig {
        flush_interval: Duration::from_millis(5),
        retry: RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            ..RetryPolicy::default()
        },
        ..EngineConfig::default()
    };
    let target = AirshipTarget {
        data_center: DataCenter::Us,
        base_url: mock.base_url(),
    };
    let engine = Engine::start(
        spool.clone(),
        Arc::new(client),
        settings.clone(),
        target,
        config,
    );
    let intake = Intake::new(spool, settings, engine.handle());
    let auth = Auth::write_keys([WriteKey::new(WRITE_KEY)]).unwrap();
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, AppState::new(intake, auth), async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();

    for seq in 0..50 {
        let response = http
            .post(format!("http://{address}/v1/track"))
            .basic_auth(WRITE_KEY, Some(""))
            .header("content-type", "application/json")
            .body(track(seq).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "message {seq} while Airship fails");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(body["results"][0]["status"], "queued");
    }
    wait_for("a few failed deliveries", || {
        mock.requests()
            .iter()
            .filter(|request| request.status == Some(503))
            .count()
            >= 3
    })
    .await;
    assert!(received_seqs(&mock).is_empty());

    mock.mock().clear_faults();
    wait_for("all 50 events after recovery", || {
        received_seqs(&mock).len() == 50
    })
    .await;

    assert!(received_seqs(&mock).values().all(|count| *count == 1));
    // The mock stores an event before its response reaches the engine, so wait for the counter.
    wait_for("the engine to count 50 deliveries", || {
        engine.handle().stats().delivered == 50
    })
    .await;
    let stats = engine.handle().stats();
    assert_eq!((stats.delivered, stats.dead_lettered), (50, 0));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    engine.shutdown().await;
    mock.shutdown().await.unwrap();
}

/// Starts the service binary on a fixed port with a spool file.
fn spawn_service(address: SocketAddr, spool: &Path, mock: &RunningMock, log: &Path) -> Child {
    let config = MockConfig::default();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_segment-airship-http"))
        .args(["--listen", &address.to_string()])
        .args(["--spool", spool.to_str().unwrap()])
        .args(["--airship-url", &mock.base_url()])
        .args(["--app-key", &config.app_key])
        .args(["--access-token", &config.access_token])
        .args(["--write-key", WRITE_KEY])
        .env_remove("SEGMENT_WRITE_KEYS")
        .env_remove("AIRSHIP_DATA_CENTER")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

async fn wait_until_healthy(http: &reqwest::Client, base_url: &str) {
    let started = tokio::time::Instant::now();
    loop {
        let healthy = http
            .get(format!("{base_url}/health"))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success());
        if healthy {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "service at {base_url} did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the load generator saw: the `seq` of every message in a batch that got `200`.
#[derive(Default)]
struct Acknowledged {
    seqs: Mutex<BTreeSet<u64>>,
    count: AtomicUsize,
}

/// Sends `batches` (100 messages each) from several tasks, retrying a batch until it gets
/// `200`, as Segment's libraries do across a service restart.
async fn generate_load(
    http: reqwest::Client,
    base_url: String,
    batches: Arc<Vec<Vec<u64>>>,
    next: Arc<AtomicUsize>,
    acknowledged: Arc<Acknowledged>,
) {
    loop {
        let index = next.fetch_add(1, Ordering::SeqCst);
        let Some(batch) = batches.get(index) else {
            return;
        };
        let body =
            json!({"batch": batch.iter().map(|seq| track(*seq)).collect::<Vec<_>>()}).to_string();
        let started = tokio::time::Instant::now();
        loop {
            let sent = http
                .post(format!("{base_url}/v1/batch"))
                .basic_auth(WRITE_KEY, Some(""))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            if sent.is_ok_and(|response| response.status() == 200) {
                acknowledged.seqs.lock().unwrap().extend(batch);
                acknowledged.count.fetch_add(batch.len(), Ordering::SeqCst);
                break;
            }
            assert!(started.elapsed() < DEADLINE, "batch {index} never got 200");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_kill_9() {
    const MESSAGES: u64 = 20_000;
    const KILL_AFTER: usize = 6_000;
    const TASKS: usize = 4;

    let mock = start_mock().await;
    let directory = tempfile::tempdir().unwrap();
    let spool = directory.path().join("spool.db");
    let log = directory.path().join("service.log");
    let address = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base_url = format!("http://{address}");
    let http = reqwest::Client::new();
    let batches: Vec<Vec<u64>> = (0..MESSAGES)
        .collect::<Vec<_>>()
        .chunks(100)
        .map(<[u64]>::to_vec)
        .collect();
    let batches = Arc::new(batches);
    let next = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Acknowledged::default());

    let mut service = spawn_service(address, &spool, &mock, &log);
    wait_until_healthy(&http, &base_url).await;
    let generators: Vec<_> = (0..TASKS)
        .map(|_| {
            tokio::spawn(generate_load(
                http.clone(),
                base_url.clone(),
                batches.clone(),
                next.clone(),
                acknowledged.clone(),
            ))
        })
        .collect();

    wait_for("the first acknowledged messages", || {
        acknowledged.count.load(Ordering::SeqCst) >= KILL_AFTER
    })
    .await;
    // `Child::kill` sends SIGKILL on Unix: no shutdown code runs.
    service.kill().unwrap();
    service.wait().unwrap();
    let acknowledged_at_kill = acknowledged.count.load(Ordering::SeqCst);
    let received_at_kill = received_seqs(&mock).len();

    let mut restarted = spawn_service(address, &spool, &mock, &log);
    for generator in generators {
        generator.await.unwrap();
    }
    let acknowledged_seqs = acknowledged.seqs.lock().unwrap().clone();
    assert_eq!(acknowledged_seqs.len(), MESSAGES as usize);
    wait_for("every acknowledged message at the mock", || {
        let received = received_seqs(&mock);
        acknowledged_seqs
            .iter()
            .all(|seq| received.contains_key(seq))
    })
    .await;

    let received = received_seqs(&mock);
    let duplicates: usize = received.values().map(|count| count - 1).sum();
    println!(
        "kill -9 after {acknowledged_at_kill} acknowledged messages ({received_at_kill} at the mock); \
         after the restart all {} acknowledged messages arrived, {duplicates} of them more than once",
        acknowledged_seqs.len()
    );
    let missing: Vec<&u64> = acknowledged_seqs
        .iter()
        .filter(|seq| !received.contains_key(seq))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but never received: {missing:?}"
    );
    // Only the flushes in flight at the kill can arrive twice: at most one per worker, each at
    // most --flush-size messages.
    assert!(
        duplicates <= 4 * 1_000,
        "{duplicates} duplicates is more than the flushes in flight at the kill"
    );
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    mock.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_keeps_pending_messages_for_the_restart() {
    let mock = start_mock().await;
    mock.mock().fail_requests(503, None, None).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let spool = directory.path().join("spool.db");
    let log = directory.path().join("service.log");
    let address = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base_url = format!("http://{address}");
    let http = reqwest::Client::new();
    let mut service = spawn_service(address, &spool, &mock, &log);
    wait_until_healthy(&http, &base_url).await;
    let body = json!({"batch": (0..10).map(track).collect::<Vec<_>>()}).to_string();
    let response = http
        .post(format!("{base_url}/v1/batch"))
        .basic_auth(WRITE_KEY, Some(""))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    wait_for("a failed delivery", || {
        mock.requests()
            .iter()
            .any(|request| request.status == Some(503))
    })
    .await;

    let terminated = Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let mut exit = None;
    wait_for("the service to exit after SIGTERM", || {
        exit = service.try_wait().unwrap();
        exit.is_some()
    })
    .await;
    assert!(exit.unwrap().success(), "{exit:?}");
    assert!(received_seqs(&mock).is_empty());

    mock.mock().clear_faults();
    let mut restarted = spawn_service(address, &spool, &mock, &log);
    wait_for("all 10 messages after the restart", || {
        received_seqs(&mock).len() == 10
    })
    .await;

    assert!(received_seqs(&mock).values().all(|count| *count == 1));
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    mock.shutdown().await.unwrap();
}
