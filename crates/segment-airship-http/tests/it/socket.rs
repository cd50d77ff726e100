//! The service on a real socket, delivering to the mock Airship server through the live client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use airship_client::{AirshipConfig, DataCenter, LiveClient};
use airship_mapping::Settings;
use airship_mock::{MockConfig, RecordedRequest};
use segment_airship_delivery::{
    AirshipTarget, Engine, EngineConfig, Intake, Spool, SqliteSpool, SqliteSpoolOptions,
};
use segment_airship_http::{serve, AppState, Auth, WriteKey};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::support::{now, WRITE_KEY};

const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

#[tokio::test]
async fn identify_reaches_mock_airship_with_credentials() {
    let mock_config = MockConfig::default();
    let mock = airship_mock::spawn(mock_config.clone(), LOOPBACK)
        .await
        .unwrap();
    let client = LiveClient::new(
        AirshipConfig::new(
            DataCenter::Us,
            mock_config.app_key.clone(),
            mock_config.access_token.clone(),
        )
        .with_base_url(mock.base_url()),
    )
    .unwrap();
    let directory = tempfile::tempdir().unwrap();
    let spool: Arc<dyn Spool> = Arc::new(
        SqliteSpool::open(
            &directory.path().join("spool.db"),
            SqliteSpoolOptions::default(),
        )
        .unwrap(),
    );
    let settings = Arc::new(Settings::default());
    let target = AirshipTarget {
        data_center: DataCenter::Us,
        base_url: mock.base_url(),
    };
    let engine = Engine::start(
        spool.clone(),
        Arc::new(client),
        settings.clone(),
        target,
        EngineConfig::default(),
    );
    let intake = Intake::new(spool, settings, engine.handle());
    let auth = Auth::write_keys([WriteKey::new(WRITE_KEY)]).unwrap();
    let state = AppState::new(intake, auth).with_clock(now);
    let listener = TcpListener::bind(LOOPBACK).await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));

    let response = reqwest::Client::new()
        .post(format!("http://{address}/v1/identify"))
        .basic_auth(WRITE_KEY, Some(""))
        .header("content-type", "application/json")
        .body(
            json!({
                "messageId": "m-1",
                "userId": "jill",
                "traits": {"new_customer": true, "order_completed_last_60days": false}
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "queued", "{body}");
    tokio::time::timeout(Duration::from_secs(10), engine.handle().wait_idle())
        .await
        .expect("the message is delivered within 10 s")
        .unwrap();

    let recorded: Vec<RecordedRequest> = mock.requests();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let request = &recorded[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/api/named_users/tags");
    assert_eq!(
        request.body,
        json!({
            "audience": {"named_user_id": ["jill"]},
            "add": {"segment-integration": ["new_customer"]},
            "remove": {"segment-integration": ["order_completed_last_60days"]}
        })
    );
    let header = |name: &str| request.headers.get(name).map(String::as_str);
    assert_eq!(header("authorization"), Some("Bearer mock-access-token"));
    assert_eq!(header("x-ua-appkey"), Some("mock-app-key"));
    assert_eq!(
        header("accept"),
        Some("application/vnd.urbanairship+json; version=3")
    );
    assert_eq!(header("content-type"), Some("application/json"));

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    engine.shutdown().await;
    mock.shutdown().await.unwrap();
}
