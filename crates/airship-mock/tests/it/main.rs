//! Integration tests for `airship-mock`, built as one test binary.

mod binary;
mod endpoints;
mod recording;

use std::net::SocketAddr;

use airship_mock::{MockConfig, RunningMock};
use serde_json::Value;

pub(crate) const ACCEPT_V3: &str = "application/vnd.urbanairship+json; version=3";
pub(crate) const TOKEN: &str = "mock-access-token";
pub(crate) const APP_KEY: &str = "mock-app-key";

/// Starts a mock with the default config on a free loopback port.
pub(crate) async fn start() -> RunningMock {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    airship_mock::spawn(MockConfig::default(), addr)
        .await
        .unwrap()
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
