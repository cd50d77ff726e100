//! A mock Airship, and an engine with an in-memory spool delivering to it through the live client.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use airship_client::{AirshipClient, AirshipConfig, DataCenter, LiveClient};
use airship_mapping::Settings;
use airship_mock::{MockConfig, RunningMock};
use chrono::Utc;
use segment_airship_delivery::{
    AirshipTarget, DeadLetter, DeadLetterFilter, Engine, EngineConfig, Incoming, Intake,
    IntakeStatus, RetryPolicy, Spool, SqliteSpool, SqliteSpoolOptions,
};
use serde_json::Value;

/// How long a test waits for the spool to drain.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

pub(crate) async fn start_mock() -> RunningMock {
    airship_mock::spawn(
        MockConfig::default(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .unwrap()
}

/// Builds a live client for `base_url` with the mock's credentials and a short timeout.
pub(crate) fn client_for(base_url: &str) -> Arc<dyn AirshipClient> {
    let mock = MockConfig::default();
    let config = AirshipConfig::new(DataCenter::Us, mock.app_key, mock.access_token)
        .with_base_url(base_url)
        .with_timeout(Duration::from_secs(5));
    Arc::new(LiveClient::new(config).unwrap())
}

/// Engine settings for tests: one worker, quick flushes and short backoff.
pub(crate) fn quick_config() -> EngineConfig {
    EngineConfig {
        flush_interval: Duration::from_millis(10),
        workers: 1,
        retry: RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
            ..RetryPolicy::default()
        },
        ..EngineConfig::default()
    }
}

/// An engine over an in-memory spool, and the intake feeding it.
pub(crate) struct Pipeline {
    pub(crate) spool: Arc<SqliteSpool>,
    pub(crate) engine: Engine,
    pub(crate) intake: Intake,
}

impl Pipeline {
    pub(crate) fn start(base_url: &str, config: EngineConfig) -> Pipeline {
        let spool = Arc::new(SqliteSpool::in_memory(SqliteSpoolOptions::default()).unwrap());
        let shared: Arc<dyn Spool> = spool.clone();
        let settings = Arc::new(Settings::default());
        let target = AirshipTarget {
            data_center: DataCenter::Us,
            base_url: base_url.to_owned(),
        };
        let engine = Engine::start(
            shared.clone(),
            client_for(base_url),
            settings.clone(),
            target,
            config,
        );
        let intake = Intake::new(shared, settings, engine.handle());
        Pipeline {
            spool,
            engine,
            intake,
        }
    }

    /// Accepts `messages` in one call, as one HTTP batch would, and checks each was queued.
    pub(crate) async fn accept(&self, messages: Vec<Value>) {
        let incoming = messages.into_iter().map(Incoming::Message).collect();
        let accepted = self.intake.accept(incoming, Utc::now()).await.unwrap();
        for entry in accepted {
            assert_eq!(entry.status, IntakeStatus::Queued, "{:?}", entry.mapped);
        }
    }

    /// Waits until every spooled message is delivered or dead.
    pub(crate) async fn settled(&self) {
        tokio::time::timeout(DEADLINE, self.engine.handle().wait_idle())
            .await
            .expect("the spool drains before the deadline")
            .unwrap();
    }

    pub(crate) async fn dead_letters(&self) -> Vec<DeadLetter> {
        self.spool
            .dead_letters(DeadLetterFilter::default())
            .await
            .unwrap()
    }

    pub(crate) async fn stop(self) {
        self.engine.shutdown().await;
        self.spool.close().await;
    }
}
