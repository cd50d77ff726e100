//! Coalescing of units into requests.

use airship_mapping::{map_message, Settings};
use serde_json::json;

use super::*;

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-05-02T12:00:00Z".parse().unwrap()
}

/// Maps each message and returns its units, numbered by position.
fn units_of(messages: &[Value]) -> Vec<Unit> {
    messages
        .iter()
        .enumerate()
        .flat_map(|(index, message)| {
            map_message(message.clone(), &Settings::default(), now())
                .requests()
                .iter()
                .cloned()
                .map(move |request| Unit::from_request(index, request))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn identify(user: &str, traits: Value) -> Value {
    json!({"type": "identify", "userId": user, "traits": traits, "timestamp": "2026-05-02T11:00:00Z"})
}

fn track(user: &str, event: &str) -> Value {
    json!({"type": "track", "userId": user, "event": event, "timestamp": "2026-05-02T11:00:00Z"})
}

fn requests(planned: &[Planned]) -> Vec<&AirshipRequest> {
    planned.iter().map(|planned| &planned.request).collect()
}

fn messages_of(planned: &Planned) -> Vec<usize> {
    planned.units.iter().map(|unit| unit.message).collect()
}

#[test]
fn single_message_plans_its_mapped_requests() {
    let message = identify(
        "jill",
        json!({"new_customer": true, "late": false, "first_name": "Jill"}),
    );
    let mapped = map_message(message.clone(), &Settings::default(), now());

    let planned: Vec<Planned> = by_phase(units_of(&[message]))
        .into_values()
        .flat_map(plan)
        .collect();

    assert_eq!(
        requests(&planned),
        mapped.requests().iter().collect::<Vec<_>>()
    );
}

#[test]
fn later_remove_cancels_earlier_add() {
    let units = units_of(&[
        identify("jill", json!({"vip": true})),
        identify("jill", json!({"vip": false})),
    ]);

    let planned = plan(units);

    assert_eq!(planned.len(), 1);
    assert_eq!(
        planned[0].request.body,
        json!({"audience": {"named_user_id": ["jill"]}, "remove": {"segment-integration": ["vip"]}})
    );
    assert_eq!(messages_of(&planned[0]), [0, 1]);
}

#[test]
fn identical_tag_changes_share_a_request() {
    let units = units_of(&[
        identify("a", json!({"vip": true})),
        identify("b", json!({"vip": true})),
        identify("c", json!({"vip": false})),
    ]);

    let planned = plan(units);

    assert_eq!(
        requests(&planned)
            .iter()
            .map(|request| request.body.clone())
            .collect::<Vec<_>>(),
        [
            json!({"audience": {"named_user_id": ["a", "b"]}, "add": {"segment-integration": ["vip"]}}),
            json!({"audience": {"named_user_id": ["c"]}, "remove": {"segment-integration": ["vip"]}}),
        ]
    );
    assert_eq!(messages_of(&planned[0]), [0, 1]);
    assert_eq!(messages_of(&planned[1]), [2]);
}

#[test]
fn tag_requests_hold_at_most_1000_users() {
    let messages: Vec<Value> = (0..2_500)
        .map(|index| identify(&format!("user-{index}"), json!({"vip": true})))
        .collect();

    let planned = plan(units_of(&messages));

    let sizes: Vec<usize> = planned
        .iter()
        .map(|planned| {
            planned.request.body["audience"]["named_user_id"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, [1_000, 1_000, 500]);
    assert_eq!(planned[2].units.len(), 500);
    assert_eq!(planned[2].units[0].message, 2_000);
}

#[test]
fn group_arrays_hold_at_most_100_tags() {
    let add: Map<String, Value> = (0..150)
        .map(|index| (format!("on-{index}"), Value::Bool(true)))
        .collect();
    let remove: Map<String, Value> = (0..30)
        .map(|index| (format!("off-{index}"), Value::Bool(false)))
        .collect();

    let planned = plan(units_of(&[
        identify("jill", Value::Object(add)),
        identify("jill", Value::Object(remove)),
    ]));

    assert_eq!(planned.len(), 2);
    let count = |planned: &Planned, action: &str| {
        planned.request.body[action]["segment-integration"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(count(&planned[0], "add"), 100);
    assert_eq!(count(&planned[0], "remove"), 30);
    assert_eq!(count(&planned[1], "add"), 50);
    assert_eq!(count(&planned[1], "remove"), 0);
    // The mapping itself splits the first message into two tag requests, so it has two units.
    assert_eq!(messages_of(&planned[1]), [0, 0, 1]);
}

#[test]
fn later_attribute_operation_wins() {
    let units = units_of(&[
        identify("jill", json!({"first_name": "Jill", "last_name": "Doe"})),
        identify("jill", json!({"first_name": "Jillian"})),
        identify("jack", json!({"first_name": "Jack"})),
        identify("jill", json!({"last_name": null})),
    ]);

    let planned = plan(units);

    assert_eq!(planned.len(), 2);
    assert_eq!(planned[0].request.path, "/api/named_users/jill/attributes");
    let operations: Vec<(String, String)> = planned[0].request.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|operation| {
            (
                operation["key"].as_str().unwrap().to_owned(),
                operation["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        operations,
        [
            ("first_name".to_owned(), "set".to_owned()),
            ("last_name".to_owned(), "remove".to_owned())
        ]
    );
    assert_eq!(planned[0].request.body["attributes"][0]["value"], "Jillian");
    assert_eq!(messages_of(&planned[0]), [0, 1, 3]);
    assert_eq!(planned[1].request.path, "/api/named_users/jack/attributes");
}

#[test]
fn events_keep_order_in_arrays_of_100() {
    let messages: Vec<Value> = (0..250)
        .map(|index| track(&format!("user-{}", index % 7), &format!("event {index}")))
        .collect();

    let planned = plan(units_of(&messages));

    let sizes: Vec<usize> = planned
        .iter()
        .map(|planned| planned.request.body.as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    let names: Vec<String> = planned
        .iter()
        .flat_map(|planned| planned.request.body.as_array().unwrap().clone())
        .map(|event| event["body"]["name"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (0..250).map(|index| format!("event {index}")).collect();
    assert_eq!(names, expected);
}

#[test]
fn phases_order_tags_attributes_events() {
    let units = units_of(&[
        track("jill", "first"),
        identify("jill", json!({"vip": true, "first_name": "Jill"})),
    ]);

    let phases: Vec<Phase> = by_phase(units).into_keys().collect();

    assert_eq!(phases, [Phase::Tags, Phase::Attributes, Phase::Events]);
}

#[test]
fn unknown_shapes_are_sent_alone_and_unchanged() {
    let set_tags = AirshipRequest::named_user_tags(
        json!({"audience": {"named_user_id": ["jill"]}, "set": {"crm": ["a"]}}),
    );
    let two_events = AirshipRequest::custom_events(vec![json!({"n": 1}), json!({"n": 2})]);
    let units = vec![
        Unit::from_request(0, set_tags.clone()),
        Unit::from_request(1, two_events.clone()),
    ];

    let planned: Vec<Planned> = by_phase(units).into_values().flat_map(plan).collect();

    assert_eq!(requests(&planned), [&set_tags, &two_events]);
}

#[test]
fn halves_split_in_order() {
    let units = units_of(&[track("a", "1"), track("b", "2"), track("c", "3")]);

    let (first, second) = halves(units).unwrap();

    assert_eq!(
        first.iter().map(|unit| unit.message).collect::<Vec<_>>(),
        [0]
    );
    assert_eq!(
        second.iter().map(|unit| unit.message).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(halves(units_of(&[track("a", "1")])).is_err());
}
