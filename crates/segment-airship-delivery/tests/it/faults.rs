//! Rate limits, outages and rejected events, injected with the mock's faults.

use std::time::{Duration, Instant};

use chrono::Utc;
use segment_airship_delivery::{DeadLetterReason, NewMessage, RetryPolicy, Spool};
use serde_json::{json, Value};

use crate::support::{quick_config, start_mock, Pipeline};

fn track(id: &str, user: &str, event: &str) -> Value {
    json!({"type": "track", "messageId": id, "userId": user, "event": event})
}

#[tokio::test]
async fn rate_limit_is_waited_out_and_delivered_once() {
    let mock = start_mock().await;
    mock.mock().fail_requests(429, Some(1), Some(1)).unwrap();
    let pipeline = Pipeline::start(&mock.base_url(), quick_config());
    let started = Instant::now();

    pipeline
        .accept(vec![track("m-1", "jill", "Signed Up")])
        .await;
    pipeline.settled().await;

    let statuses: Vec<Option<u16>> = mock.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(200)]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "delivered after {:?}, before Retry-After: 1 ran out",
        started.elapsed()
    );
    let jill = mock.named_user("jill").unwrap();
    assert_eq!(jill.custom_events.len(), 1);
    assert!(pipeline.dead_letters().await.is_empty());
    pipeline.stop().await;
    mock.shutdown().await.unwrap();
}

#[tokio::test]
async fn server_errors_are_retried_until_airship_recovers() {
    let mock = start_mock().await;
    mock.mock().fail_requests(503, Some(5), None).unwrap();
    let pipeline = Pipeline::start(&mock.base_url(), quick_config());

    pipeline
        .accept(vec![
            json!({"type": "identify", "messageId": "m-1", "userId": "jill", "traits": {"vip": true, "first_name": "Jill"}}),
            track("m-2", "jill", "Signed Up"),
        ])
        .await;
    pipeline.settled().await;

    let failed = mock
        .requests()
        .iter()
        .filter(|request| request.status == Some(503))
        .count();
    assert_eq!(failed, 5);
    let jill = mock.named_user("jill").unwrap();
    assert!(jill.tags["segment-integration"].contains("vip"));
    assert_eq!(jill.attributes["first_name"], "Jill");
    assert_eq!(jill.custom_events.len(), 1);
    assert!(pipeline.dead_letters().await.is_empty());
    pipeline.stop().await;
    mock.shutdown().await.unwrap();
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let mock = start_mock().await;
    mock.mock().drop_connections(2).unwrap();
    let pipeline = Pipeline::start(&mock.base_url(), quick_config());

    pipeline
        .accept(vec![track("m-1", "jill", "Signed Up")])
        .await;
    pipeline.settled().await;

    assert_eq!(mock.named_user("jill").unwrap().custom_events.len(), 1);
    assert!(pipeline.dead_letters().await.is_empty());
    pipeline.stop().await;
    mock.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_event_among_100_dead_lettered() {
    let mock = start_mock().await;
    let pipeline = Pipeline::start(&mock.base_url(), quick_config());
    // The bad message waited in a spool past Airship's 90-day window: it maps with the time it
    // was received, so its event is older than Airship accepts. Stopping the engine's worker is
    // not possible from here, so all 100 go in through one append and one flush.
    let mut messages: Vec<NewMessage> = (0..100)
        .map(|index| NewMessage {
            message_id: Some(format!("m-{index}")),
            named_user: "jill".into(),
            received_at: Utc::now(),
            raw: track(&format!("m-{index}"), "jill", &format!("event {index}"))
                .to_string()
                .into_bytes(),
        })
        .collect();
    messages[37].received_at = Utc::now() - chrono::Duration::days(100);

    pipeline.spool.append(messages).await.unwrap();
    pipeline.engine.handle().wake();
    pipeline.settled().await;

    let delivered: Vec<String> = mock
        .named_user("jill")
        .unwrap()
        .custom_events
        .iter()
        .map(|event| event["body"]["name"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (0..100)
        .filter(|index| *index != 37)
        .map(|index| format!("event {index}"))
        .collect();
    assert_eq!(delivered, expected);
    let first = &mock.requests()[0];
    assert_eq!(first.body.as_array().unwrap().len(), 100);
    assert_eq!(first.status, Some(400));

    let dead = pipeline.dead_letters().await;
    assert_eq!(dead.len(), 1);
    let letter = &dead[0];
    assert_eq!(letter.message_id.as_deref(), Some("m-37"));
    assert_eq!(letter.failure.reason, DeadLetterReason::Rejected);
    assert_eq!(letter.failure.status, Some(400));
    assert!(letter.failure.error.is_some(), "{letter:?}");
    assert!(letter.failure.details.is_some(), "{letter:?}");
    assert!(letter.failure.operation_id.is_some(), "{letter:?}");
    assert_eq!(letter.message["event"], "event 37");
    pipeline.stop().await;
    mock.shutdown().await.unwrap();
}

#[tokio::test]
async fn refused_connections_past_max_age() {
    // A port that was free a moment ago: connections to it are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut config = quick_config();
    config.retry = RetryPolicy {
        max_age: Duration::from_millis(500),
        ..config.retry
    };
    let pipeline = Pipeline::start(&base_url, config);
    let messages: Vec<Value> = (0..20)
        .map(|index| {
            track(
                &format!("m-{index}"),
                &format!("user-{}", index % 3),
                "Signed Up",
            )
        })
        .collect();

    pipeline.accept(messages).await;
    pipeline.settled().await;

    let dead = pipeline.dead_letters().await;
    assert_eq!(dead.len(), 20, "every accepted message is a dead letter");
    for letter in &dead {
        assert_eq!(letter.failure.reason, DeadLetterReason::RetriesExhausted);
        assert_eq!(letter.failure.status, None);
        assert!(letter.attempts >= 1);
        assert!(
            letter.failure.summary.contains("could not reach airship"),
            "{}",
            letter.failure.summary
        );
    }
    let stats = pipeline.engine.handle().stats();
    assert_eq!((stats.queued, stats.dead_lettered), (20, 20));
    pipeline.stop().await;
}

#[tokio::test]
async fn server_errors_past_max_age() {
    let mock = start_mock().await;
    mock.mock().fail_requests(503, None, None).unwrap();
    let mut config = quick_config();
    config.retry.max_age = Duration::from_millis(500);
    let pipeline = Pipeline::start(&mock.base_url(), config);

    pipeline
        .accept(vec![
            track("m-1", "jill", "Signed Up"),
            json!({"type": "identify", "messageId": "m-2", "userId": "jack", "traits": {"vip": true}}),
        ])
        .await;
    pipeline.settled().await;

    let dead = pipeline.dead_letters().await;
    let mut ids: Vec<&str> = dead
        .iter()
        .map(|letter| letter.message_id.as_deref().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["m-1", "m-2"]);
    assert!(dead.iter().all(|letter| letter.failure.status == Some(503)));
    pipeline.stop().await;
    mock.shutdown().await.unwrap();
}
