//! Shared setup: a router over an in-memory Airship client with a fixed clock, and request helpers.

use std::sync::Arc;

use airship_client::{AirshipClient, InMemoryClient};
use airship_mapping::Settings;
use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use segment_airship_http::{app, AppState, Auth, WriteKey};
use serde_json::Value;
use tower::ServiceExt;

/// The write key every test router accepts.
pub(crate) const WRITE_KEY: &str = "wk-test-1";

/// Returns the fixed "now" of every test router.
pub(crate) fn now() -> DateTime<Utc> {
    "2026-05-02T12:00:00Z".parse().unwrap()
}

/// A router and the in-memory client behind it.
pub(crate) struct Harness {
    pub(crate) client: Arc<InMemoryClient>,
    pub(crate) router: Router,
}

/// Builds a router that accepts [`WRITE_KEY`].
pub(crate) fn harness() -> Harness {
    harness_with(Auth::write_keys([WriteKey::new(WRITE_KEY)]).unwrap())
}

pub(crate) fn harness_with(auth: Auth) -> Harness {
    let client = Arc::new(InMemoryClient::new());
    let shared: Arc<dyn AirshipClient> = client.clone();
    let state = AppState::new(shared, Settings::default(), auth).with_clock(now);
    Harness {
        client,
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
}
