//! Coalescing keeps Airship's final state: checked on the mock's named users.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use airship_mock::{NamedUser, RunningMock};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use segment_airship_delivery::EngineConfig;
use serde_json::{json, Map, Value};

use crate::support::{quick_config, start_mock, Pipeline};

#[tokio::test]
async fn vip_true_then_false_removes_vip() {
    let mock = start_mock().await;
    let pipeline = Pipeline::start(&mock.base_url(), quick_config());
    let vip = |id: &str, on: bool| json!({"type": "identify", "messageId": id, "userId": "jill", "traits": {"vip": on}});
    pipeline.accept(vec![vip("m-1", true)]).await;
    pipeline.settled().await;
    assert!(mock.named_user("jill").unwrap().tags["segment-integration"].contains("vip"));

    pipeline
        .accept(vec![vip("m-2", true), vip("m-3", false)])
        .await;
    pipeline.settled().await;

    let jill = mock.named_user("jill").unwrap();
    assert!(
        !jill
            .tags
            .get("segment-integration")
            .is_some_and(|tags| tags.contains("vip")),
        "{jill:?}"
    );
    let last = mock.requests().pop().unwrap();
    assert_eq!(
        last.body,
        json!({"audience": {"named_user_id": ["jill"]}, "remove": {"segment-integration": ["vip"]}})
    );
    pipeline.stop().await;
    mock.shutdown().await.unwrap();
}

/// One generated Segment call.
#[derive(Debug, Clone)]
enum Call {
    /// Boolean traits become tags; the others become attributes, `None` removing the attribute.
    Identify {
        user: usize,
        tags: Vec<(usize, bool)>,
        attributes: Vec<(usize, Option<usize>)>,
    },
    Track {
        user: usize,
        event: usize,
    },
}

const USERS: usize = 3;
const TAGS: [&str; 4] = ["vip", "beta", "churned", "newsletter"];
const ATTRIBUTES: [&str; 3] = ["first_name", "last_name", "city"];
const VALUES: [&str; 3] = ["Ada", "Grace", "Linus"];
const EVENTS: [&str; 3] = ["signed up", "order completed", "logged out"];

fn call() -> impl Strategy<Value = Call> {
    let identify = (
        0..USERS,
        prop::collection::vec((0..TAGS.len(), any::<bool>()), 0..4),
        prop::collection::vec(
            (0..ATTRIBUTES.len(), prop::option::of(0..VALUES.len())),
            0..3,
        ),
    )
        .prop_filter("identify needs a trait", |(_, tags, attributes)| {
            !tags.is_empty() || !attributes.is_empty()
        })
        .prop_map(|(user, tags, attributes)| Call::Identify {
            user,
            tags,
            attributes,
        });
    let track = (0..USERS, 0..EVENTS.len()).prop_map(|(user, event)| Call::Track { user, event });
    prop_oneof![identify, track]
}

fn user_id(case: usize, user: usize) -> String {
    format!("case-{case}-user-{user}")
}

/// Turns the calls of one case into Segment messages with ids unique to the case.
fn messages(case: usize, calls: &[Call], time: DateTime<Utc>) -> Vec<Value> {
    let timestamp = time.to_rfc3339();
    calls
        .iter()
        .enumerate()
        .map(|(index, call)| {
            let message_id = format!("case-{case}-m-{index}");
            match call {
                Call::Identify {
                    user,
                    tags,
                    attributes,
                } => {
                    let mut traits = Map::new();
                    for (tag, on) in tags {
                        traits.insert(TAGS[*tag].into(), Value::Bool(*on));
                    }
                    for (key, value) in attributes {
                        let value = value.map_or(Value::Null, |value| json!(VALUES[value]));
                        traits.insert(ATTRIBUTES[*key].into(), value);
                    }
                    json!({"type": "identify", "messageId": message_id, "userId": user_id(case, *user),
                           "traits": traits, "timestamp": timestamp})
                }
                Call::Track { user, event } => {
                    json!({"type": "track", "messageId": message_id, "userId": user_id(case, *user),
                           "event": EVENTS[*event], "timestamp": timestamp})
                }
            }
        })
        .collect()
}

/// The parts of a named user that requests change: tags (empty groups dropped), attributes and
/// custom events.
type State = (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, Value>,
    Vec<Value>,
);

fn state(user: Option<NamedUser>) -> State {
    let Some(user) = user else {
        return State::default();
    };
    let tags = user
        .tags
        .into_iter()
        .filter(|(_, tags)| !tags.is_empty())
        .collect();
    (tags, user.attributes, user.custom_events)
}

/// Delivers `calls` one message per flush to `one_by_one` and in one flush to `coalesced`, then
/// compares every user's state on the two mocks.
async fn check_case(
    one_by_one: &RunningMock,
    coalesced: &RunningMock,
    case: usize,
    calls: Vec<Call>,
) -> Result<(), TestCaseError> {
    let messages = messages(case, &calls, Utc::now() - chrono::Duration::hours(1));

    let single = Pipeline::start(
        &one_by_one.base_url(),
        EngineConfig {
            flush_size: 1,
            ..quick_config()
        },
    );
    single.accept(messages.clone()).await;
    single.settled().await;
    let dead = single.dead_letters().await;
    single.stop().await;
    prop_assert!(dead.is_empty(), "one by one: {dead:?}");

    let merged = Pipeline::start(&coalesced.base_url(), quick_config());
    merged.accept(messages).await;
    merged.settled().await;
    let dead = merged.dead_letters().await;
    merged.stop().await;
    prop_assert!(dead.is_empty(), "coalesced: {dead:?}");

    for user in 0..USERS {
        let id = user_id(case, user);
        prop_assert_eq!(
            state(coalesced.named_user(&id)),
            state(one_by_one.named_user(&id)),
            "user {}",
            id
        );
    }
    Ok(())
}

/// Property: for any sequence of identify and track calls, delivering them coalesced in one
/// flush leaves every named user with the same tags, attributes and custom events as delivering
/// them one message at a time.
#[test]
fn coalesced_delivery_matches_one_by_one() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (one_by_one, coalesced) =
        runtime.block_on(async { (start_mock().await, start_mock().await) });
    let next_case = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });

    let result = runner.run(&prop::collection::vec(call(), 1..30), |calls| {
        let case = next_case.fetch_add(1, Ordering::Relaxed);
        runtime.block_on(check_case(&one_by_one, &coalesced, case, calls))
    });

    runtime.block_on(async {
        one_by_one.shutdown().await.unwrap();
        coalesced.shutdown().await.unwrap();
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
