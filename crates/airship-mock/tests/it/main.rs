//! Integration tests for `airship-mock`, built as one test binary.

mod binary;
mod endpoints;
mod faults;
mod mapping_contract;
mod named_users;
mod recording;
mod validation;

use std::net::SocketAddr;

use airship_mock::{MockConfig, RunningMock};
use chrono::{DateTime, Utc};
use serde_json::Value;

pub(crate) const ACCEPT_V3: &str = "application/vnd.urbanairship+json; version=3";
pub(crate) const TOKEN: &str = "mock-access-token";
pub(crate) const APP_KEY: &str = "mock-app-key";
/// The fixed clock of [`start_at_now`], and of the mapping in the property tests.
pub(crate) const NOW: &str = "2026-05-02T12:00:00Z";

pub(crate) fn now() -> DateTime<Utc> {
    NOW.parse().expect("NOW is RFC 3339")
}

/// Starts a mock with the default config on a free loopback port.
pub(crate) async fn start() -> RunningMock {
    start_with(MockConfig::default()).await
}

/// Starts a mock with the default config and its clock fixed at [`NOW`].
pub(crate) async fn start_at_now() -> RunningMock {
    start_with(MockConfig {
        now: Some(now()),
        ..MockConfig::default()
    })
    .await
}

/// Starts a mock with `config` on a free loopback port.
pub(crate) async fn start_with(config: MockConfig) -> RunningMock {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    airship_mock::spawn(config, addr).await.unwrap()
}

/// Builds a GET of `path` with the headers Airship requires.
pub(crate) fn authorized_get(
    http: &reqwest::Client,
    mock: &RunningMock,
    path: &str,
) -> reqwest::RequestBuilder {
    http.get(format!("{}{path}", mock.base_url()))
        .header("accept", ACCEPT_V3)
        .header("authorization", format!("Bearer {TOKEN}"))
}

/// Builds a POST to `path` with all the headers Airship requires.
pub(crate) fn authorized_post(
    http: &reqwest::Client,
    mock: &RunningMock,
    path: &str,
) -> reqwest::RequestBuilder {
    http.post(format!("{}{path}", mock.base_url()))
        .header("accept", ACCEPT_V3)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("x-ua-appkey", APP_KEY)
        .header("content-type", "application/json")
}

/// Status, content type and body text of a response.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        Answer {
            status,
            content_type,
            text,
        }
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {}", self.text))
    }
}
