//! Shared setup: a router over an in-memory spool, a delivery engine and an in-memory Airship
//! client with a fixed clock, and request helpers.

use std::sync::Arc;
use std::time::Duration;

use airship_client::{AirshipClient, DataCenter, InMemoryClient};
use airship_mapping::Settings;
use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use segment_airship_delivery::{
    AirshipTarget, Engine, EngineConfig, Intake, Spool, SqliteSpool, SqliteSpoolOptions,
};
use segment_airship_http::{app, AppState, Auth, WriteKey};
use serde_json::Value;
use tower::ServiceExt;

/// The write key every test router accepts.
pub(crate) const WRITE_KEY: &str = "wk-test-1";

/// Returns the fixed "now" of every test router.
pub(crate) fn now() -> DateTime<Utc> {
    "2026-05-02T12:00:00Z".parse().unwrap()
}

/// A router, the spool and engine behind it, and the in-memory client the engine sends to.
pub(crate) struct Harness {
    pub(crate) client: Arc<InMemoryClient>,
    pub(crate) spool: Arc<SqliteSpool>,
    pub(crate) engine: Engine,
    pub(crate) router: Router,
}

/// Builds a router that accepts [`WRITE_KEY`].
pub(crate) fn harness() -> Harness {
    harness_with(Auth::write_keys([WriteKey::new(WRITE_KEY)]).unwrap())
}

pub(crate) fn harness_with(auth: Auth) -> Harness {
    let client = Arc::new(InMemoryClient::new());
    let spool = Arc::new(SqliteSpool::in_memory(SqliteSpoolOptions::default()).unwrap());
    let settings = Arc::new(Settings::default());
    let shared_client: Arc<dyn AirshipClient> = client.clone();
    let shared_spool: Arc<dyn Spool> = spool.clone();

    let target = AirshipTarget {
        data_center: DataCenter::Us,
        base_url: "http://in-memory".into(),
    };
    // One worker, so requests of different users go out in a predictable order.
    let config = EngineConfig {
        workers: 1,
        flush_interval: Duration::from_millis(5),
        ..EngineConfig::default()
    };

    let engine = Engine::start(
        shared_spool.clone(),
        shared_client,
        settings.clone(),
        target,
        config,
    );
    let intake = Intake::new(shared_spool, settings, engine.handle());
    let state = AppState::new(intake, auth).with_clock(now);
    Harness {
        client,
        spool,
        engine,
        router: app(state),
    }
}

/// `Basic` credentials with `key` as the user name and an empty password, as Segment sends them.
pub(crate) fn basic(key: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{key}:")))
}

/// Builds a JSON POST authenticated with [`WRITE_KEY`].
pub(crate) fn post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, basic(WRITE_KEY))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Builds a JSON POST without credentials.
pub(crate) fn post_anonymous(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

impl Harness {
    /// Sends `request` and returns the response as it is.
    pub(crate) async fn response(&self, request: Request<Body>) -> Response {
        self.router.clone().oneshot(request).await.unwrap()
    }

    /// Sends `request` and returns the status and the JSON body.
    pub(crate) async fn call(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.response(request).await;
        let status = response.status();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
            panic!(
                "response body is not JSON ({error}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, body)
    }

    /// Waits until the engine has settled every spooled message.
    pub(crate) async fn delivered(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.engine.handle().wait_idle())
            .await
            .expect("the spool drains within 10 s")
            .unwrap();
    }
}
