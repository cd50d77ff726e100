//! The engine end to end over an in-memory spool and a scripted Airship client.

// The scripts return the client trait's own result type, whose error variant is large.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use airship_client::{AirshipError, AirshipRequest, AirshipResponse, DataCenter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::*;
use crate::intake::{Incoming, Intake, IntakeStatus};
use crate::spool::{
    DeadLetter, DeadLetterFilter, DeadLetterReason, NewMessage, SqliteSpool, SqliteSpoolOptions,
};

/// Returns the response to the `n`-th request (counting from 0).
type Script = dyn Fn(&AirshipRequest, usize) -> Result<AirshipResponse, AirshipError> + Send + Sync;

/// Records every request and responds to it with a script.
struct ScriptedClient {
    requests: Mutex<Vec<(AirshipRequest, bool)>>,
    script: Box<Script>,
}

impl std::fmt::Debug for ScriptedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScriptedClient")
    }
}

impl ScriptedClient {
    fn new(
        script: impl Fn(&AirshipRequest, usize) -> Result<AirshipResponse, AirshipError>
            + Send
            + Sync
            + 'static,
    ) -> Arc<ScriptedClient> {
        Arc::new(ScriptedClient {
            requests: Mutex::new(Vec::new()),
            script: Box::new(script),
        })
    }

    fn accepting() -> Arc<ScriptedClient> {
        ScriptedClient::new(|_, _| Ok(ok()))
    }

    /// Returns every request, in sending order.
    fn requests(&self) -> Vec<AirshipRequest> {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .map(|(request, _)| request.clone())
            .collect()
    }

    /// Returns the requests that got a 2xx response.
    fn accepted(&self) -> Vec<AirshipRequest> {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .filter(|(_, accepted)| *accepted)
            .map(|(request, _)| request.clone())
            .collect()
    }
}

#[async_trait]
impl airship_client::AirshipClient for ScriptedClient {
    async fn send(&self, request: &AirshipRequest) -> Result<AirshipResponse, AirshipError> {
        let index = self.requests.lock().unwrap().len();
        let answer = (self.script)(request, index);
        self.requests
            .lock()
            .unwrap()
            .push((request.clone(), answer.is_ok()));
        answer
    }
}

fn ok() -> AirshipResponse {
    AirshipResponse {
        status: 200,
        operation_id: Some("op-ok".into()),
        warnings: Vec::new(),
        body: json!({"ok": true}),
    }
}

fn api_error(status: u16) -> AirshipError {
    AirshipError::Api {
        status,
        error: Some(format!("status {status}")),
        error_code: Some(i64::from(status) * 100),
        details: Some(json!({"error": "detail", "path": "body[0]"})),
        operation_id: Some(format!("op-{status}")),
        body: String::new(),
        retry_after: None,
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn config() -> EngineConfig {
    EngineConfig {
        flush_interval: Duration::from_millis(10),
        workers: 1,
        retry: RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        },
        auth_probe_interval: Duration::from_millis(5),
        ..EngineConfig::default()
    }
}

struct Rig {
    spool: Arc<SqliteSpool>,
    engine: Engine,
    intake: Intake,
}

fn rig(client: Arc<ScriptedClient>, config: EngineConfig) -> Rig {
    let spool = Arc::new(SqliteSpool::in_memory(SqliteSpoolOptions::default()).unwrap());
    let settings = Arc::new(airship_mapping::Settings::default());
    let target = AirshipTarget {
        data_center: DataCenter::Eu,
        base_url: "https://go.airship.eu".into(),
    };
    let engine = Engine::start(spool.clone(), client, settings.clone(), target, config);
    let intake = Intake::new(spool.clone(), settings, engine.handle());
    Rig {
        spool,
        engine,
        intake,
    }
}

impl Rig {
    async fn accept(&self, messages: Vec<Value>) -> Vec<IntakeStatus> {
        let incoming = messages.into_iter().map(Incoming::Message).collect();
        self.intake
            .accept(incoming, now())
            .await
            .unwrap()
            .into_iter()
            .map(|accepted| accepted.status)
            .collect()
    }

    async fn idle(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.engine.handle().wait_idle())
            .await
            .expect("the spool drains within 10 s")
            .unwrap();
    }

    async fn dead_letters(&self) -> Vec<DeadLetter> {
        self.spool
            .dead_letters(DeadLetterFilter::default())
            .await
            .unwrap()
    }

    async fn stop(self) {
        self.engine.shutdown().await;
        self.spool.close().await;
    }
}

fn identify(id: &str, user: &str, traits: Value) -> Value {
    json!({"type": "identify", "messageId": id, "userId": user, "traits": traits})
}

fn track(id: &str, user: &str, event: &str) -> Value {
    json!({"type": "track", "messageId": id, "userId": user, "event": event})
}

fn event_names(request: &AirshipRequest) -> Vec<String> {
    request
        .body
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|event| event["body"]["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn one_flush_is_coalesced_into_few_requests() {
    let client = ScriptedClient::accepting();
    let rig = rig(client.clone(), config());

    let statuses = rig
        .accept(vec![
            identify("m-1", "jill", json!({"vip": true})),
            identify("m-2", "jack", json!({"vip": true})),
            track("m-3", "jill", "Order Completed"),
            track("m-4", "jack", "Order Completed"),
        ])
        .await;
    rig.idle().await;

    assert_eq!(statuses, [IntakeStatus::Queued; 4]);
    let requests = client.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(
        requests[0].body,
        json!({"audience": {"named_user_id": ["jill", "jack"]}, "add": {"segment-integration": ["vip"]}})
    );
    assert_eq!(
        event_names(&requests[1]),
        ["order completed", "order completed"]
    );
    assert_eq!(rig.engine.handle().stats().delivered, 4);
    rig.stop().await;
}

#[tokio::test]
async fn user_order_is_kept_across_flushes() {
    let client = ScriptedClient::accepting();
    let rig = rig(
        client.clone(),
        EngineConfig {
            flush_size: 1,
            workers: 3,
            ..config()
        },
    );

    rig.accept(vec![
        identify("m-1", "jill", json!({"vip": true})),
        identify("m-2", "jill", json!({"vip": false})),
    ])
    .await;
    rig.idle().await;

    let actions: Vec<&str> = client
        .requests()
        .iter()
        .map(|request| {
            if request.body.get("add").is_some() {
                "add"
            } else {
                "remove"
            }
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    assert_eq!(actions, ["add", "remove"]);
    rig.stop().await;
}

#[tokio::test]
async fn retryable_failure_is_delivered_on_retry() {
    let client = ScriptedClient::new(|_, index| {
        if index == 0 {
            Err(api_error(503))
        } else {
            Ok(ok())
        }
    });
    let rig = rig(client.clone(), config());

    rig.accept(vec![track("m-1", "jill", "Signed Up")]).await;
    rig.idle().await;

    assert_eq!(client.requests().len(), 2);
    assert_eq!(client.accepted().len(), 1);
    assert!(rig.dead_letters().await.is_empty());
    let stats = rig.engine.handle().stats();
    assert_eq!((stats.delivered, stats.retries), (1, 1));
    rig.stop().await;
}

#[tokio::test]
async fn bad_event_is_isolated_and_the_rest_delivered() {
    let client = ScriptedClient::new(|request, _| {
        if event_names(request).iter().any(|name| name == "bad") {
            Err(api_error(400))
        } else {
            Ok(ok())
        }
    });
    let rig = rig(client.clone(), config());
    let messages: Vec<Value> = (0..10)
        .map(|index| {
            let name = if index == 6 {
                "bad".to_owned()
            } else {
                format!("good {index}")
            };
            track(&format!("m-{index}"), &format!("user-{index}"), &name)
        })
        .collect();

    rig.accept(messages).await;
    rig.idle().await;

    let mut delivered: Vec<String> = client.accepted().iter().flat_map(event_names).collect();
    delivered.sort();
    let mut expected: Vec<String> = (0..10)
        .filter(|i| *i != 6)
        .map(|i| format!("good {i}"))
        .collect();
    expected.sort();
    assert_eq!(delivered, expected);
    let dead = rig.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id.as_deref(), Some("m-6"));
    assert_eq!(dead[0].failure.reason, DeadLetterReason::Rejected);
    assert_eq!(dead[0].failure.status, Some(400));
    assert_eq!(dead[0].failure.error.as_deref(), Some("status 400"));
    assert_eq!(
        dead[0].failure.details,
        Some(json!({"error": "detail", "path": "body[0]"}))
    );
    assert_eq!(dead[0].failure.operation_id.as_deref(), Some("op-400"));
    assert_eq!(dead[0].attempts, 1);
    rig.stop().await;
}

#[tokio::test]
async fn forbidden_is_permanent_without_splitting() {
    let client = ScriptedClient::new(|_, _| Err(api_error(403)));
    let rig = rig(client.clone(), config());

    rig.accept(vec![track("m-1", "a", "one"), track("m-2", "b", "two")])
        .await;
    rig.idle().await;

    assert_eq!(client.requests().len(), 1);
    assert_eq!(rig.dead_letters().await.len(), 2);
    rig.stop().await;
}

#[tokio::test]
async fn refused_token_pauses_without_dead_letters() {
    let client = ScriptedClient::new(|_, index| {
        if index < 3 {
            Err(AirshipError::Unauthorized {
                base_url: "https://go.airship.eu".into(),
                body: "Unauthorized".into(),
            })
        } else {
            Ok(ok())
        }
    });
    let rig = rig(client.clone(), config());

    rig.accept(vec![track("m-1", "jill", "Signed Up")]).await;
    rig.idle().await;

    assert_eq!(client.requests().len(), 4);
    assert!(rig.dead_letters().await.is_empty());
    assert_eq!(rig.engine.handle().state(), DeliveryState::Running);
    rig.stop().await;
}

#[tokio::test]
async fn refused_token_is_reported_as_paused() {
    let client = ScriptedClient::new(|_, _| {
        Err(AirshipError::Unauthorized {
            base_url: "https://go.airship.eu".into(),
            body: String::new(),
        })
    });
    let rig = rig(client.clone(), config());

    rig.accept(vec![track("m-1", "jill", "Signed Up")]).await;
    let handle = rig.engine.handle();
    tokio::time::timeout(Duration::from_secs(10), async {
        while handle.state() != DeliveryState::PausedUnauthorized {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the engine pauses within 10 s");

    assert_eq!(rig.spool.counts().await.unwrap().pending, 1);
    rig.stop().await;
}

#[tokio::test]
async fn attempts_limit_keeps_last_error() {
    let client = ScriptedClient::new(|_, _| Err(api_error(503)));
    let mut config = config();
    config.retry.max_attempts = Some(3);
    let rig = rig(client.clone(), config);

    rig.accept(vec![track("m-1", "jill", "Signed Up")]).await;
    rig.idle().await;

    assert_eq!(client.requests().len(), 3);
    let dead = rig.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].failure.reason, DeadLetterReason::RetriesExhausted);
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].failure.status, Some(503));
    assert_eq!(dead[0].failure.operation_id.as_deref(), Some("op-503"));
    rig.stop().await;
}

#[tokio::test]
async fn age_limit_makes_dead_letters() {
    let client = ScriptedClient::new(|_, _| {
        Err(AirshipError::Connect {
            message: "connection refused".into(),
        })
    });
    let mut config = config();
    config.retry.max_age = Duration::from_millis(50);
    let rig = rig(client.clone(), config);

    rig.accept(vec![
        identify("m-1", "jill", json!({"vip": true})),
        track("m-2", "jill", "Signed Up"),
    ])
    .await;
    rig.idle().await;

    let dead = rig.dead_letters().await;
    assert_eq!(dead.len(), 2);
    assert!(dead
        .iter()
        .all(|letter| letter.failure.reason == DeadLetterReason::RetriesExhausted));
    assert!(
        dead[0].failure.summary.contains("connection refused"),
        "{}",
        dead[0].failure.summary
    );
    rig.stop().await;
}

#[tokio::test]
async fn message_invalid_at_delivery_is_a_dead_letter() {
    let client = ScriptedClient::accepting();
    let rig = rig(client.clone(), config());

    // Stored directly, as if the settings had changed since it was accepted.
    rig.spool
        .append(vec![NewMessage {
            message_id: Some("m-1".into()),
            named_user: "jill".into(),
            received_at: now(),
            raw: br#"{"type":"track","messageId":"m-1","userId":"jill"}"#.to_vec(),
        }])
        .await
        .unwrap();
    rig.engine.handle().wake();
    rig.idle().await;

    let dead = rig.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].failure.reason, DeadLetterReason::Invalid);
    assert!(client.requests().is_empty());
    rig.stop().await;
}

#[tokio::test]
async fn duplicate_is_acknowledged_and_delivered_once() {
    let client = ScriptedClient::accepting();
    let rig = rig(client.clone(), config());

    let first = rig.accept(vec![track("m-1", "jill", "Signed Up")]).await;
    let again = rig.accept(vec![track("m-1", "jill", "Signed Up")]).await;
    rig.idle().await;

    assert_eq!(first, [IntakeStatus::Queued]);
    assert_eq!(again, [IntakeStatus::Duplicate]);
    assert_eq!(client.requests().len(), 1);
    assert_eq!(rig.engine.handle().stats().duplicates, 1);
    rig.stop().await;
}

#[tokio::test]
async fn skipped_and_invalid_messages_are_not_spooled() {
    let client = ScriptedClient::accepting();
    let rig = rig(client.clone(), config());

    let statuses = rig
        .accept(vec![
            json!({"type": "page", "messageId": "m-1", "userId": "jill"}),
            json!({"type": "track", "messageId": "m-2", "userId": "jill"}),
        ])
        .await;

    assert_eq!(statuses, [IntakeStatus::Skipped, IntakeStatus::Invalid]);
    assert_eq!(rig.spool.counts().await.unwrap().pending, 0);
    rig.stop().await;
}

#[tokio::test]
async fn shutdown_leaves_retrying_messages_in_the_spool() {
    let client = ScriptedClient::new(|_, _| Err(api_error(503)));
    let mut config = config();
    config.retry.initial_backoff = Duration::from_secs(60);
    config.retry.max_backoff = Duration::from_secs(60);
    let rig = rig(client.clone(), config);

    rig.accept(vec![track("m-1", "jill", "Signed Up")]).await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while client.requests().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the first attempt happens within 10 s");
    tokio::time::timeout(Duration::from_secs(10), rig.engine.shutdown())
        .await
        .expect("shutdown does not wait for the backoff");

    let counts = rig.spool.counts().await.unwrap();
    assert_eq!((counts.pending, counts.dead_letters), (1, 0));
    let leased = rig.spool.lease(10).await.unwrap();
    assert_eq!(leased.len(), 1, "the released message can be leased again");
    assert_eq!(leased[0].attempts, 1);
    rig.spool.close().await;
}
