//! Every kind of request the destination sends gets 200 with an operation id, and on the mock
//! the named user's profile shows the result.

use std::path::Path;

use airship_client::{AirshipClient, AirshipRequest, AirshipResponse};
use airship_mapping::{airship_time, map_message, Settings};
use serde_json::{json, Value};

use crate::target::Target;

async fn send_ok(target: &Target, request: &AirshipRequest) -> AirshipResponse {
    let response = target.client().send(request).await.unwrap_or_else(|error| {
        panic!(
            "POST {} failed: {error}\nbody: {}",
            request.path, request.body
        )
    });
    assert_eq!(response.status, 200, "{}", request.path);
    assert!(
        response.operation_id.is_some(),
        "{}: {}",
        request.path,
        response.body
    );
    response
}

fn event(target: &Target, name: &str) -> Value {
    json!({
        "occurred": airship_time(target.now),
        "user": {"named_user_id": target.named_user},
        "body": {
            "name": name,
            "value": 12.5,
            "interaction_type": "cdp",
            "properties": {"source": "contract-test", "items": [{"sku": "a-1", "quantity": 2}]}
        }
    })
}

#[tokio::test]
async fn custom_events_accepted() {
    let target = Target::start().await;
    let request = AirshipRequest::custom_events(vec![
        event(&target, "contract_test_viewed"),
        event(&target, "contract_test_purchased"),
    ]);

    send_ok(&target, &request).await;

    let Some(mock) = target.mock_only("custom_events_accepted profile check") else {
        return;
    };
    let user = mock.named_user(&target.named_user).unwrap();
    let names: Vec<&Value> = user
        .custom_events
        .iter()
        .map(|event| &event["body"]["name"])
        .collect();
    assert_eq!(
        names,
        [
            &json!("contract_test_viewed"),
            &json!("contract_test_purchased")
        ]
    );
}

#[tokio::test]
async fn tag_add_remove_and_set_accepted() {
    let target = Target::start().await;
    let group = target.tag_group.clone();
    let audience = json!({"named_user_id": [target.named_user]});
    let requests = [
        json!({"audience": audience, "add": {&group: ["contract_a", "contract_b"]}}),
        json!({"audience": audience, "add": {&group: ["contract_c"]}, "remove": {&group: ["contract_a"]}}),
    ];

    for body in requests {
        let response = send_ok(&target, &AirshipRequest::named_user_tags(body)).await;
        assert!(response.warnings.is_empty(), "{:?}", response.warnings);
    }

    if let Some(mock) = target.mock_only("tag_add_remove_and_set_accepted profile check") {
        let tags = &mock.named_user(&target.named_user).unwrap().tags[&group];
        assert_eq!(
            tags.iter().collect::<Vec<_>>(),
            ["contract_b", "contract_c"]
        );
    }

    let set = json!({"audience": audience, "set": {&group: ["contract_only"]}});
    send_ok(&target, &AirshipRequest::named_user_tags(set)).await;

    if let Some(mock) = target.mock_only("tag set profile check") {
        let tags = &mock.named_user(&target.named_user).unwrap().tags[&group];
        assert_eq!(tags.iter().collect::<Vec<_>>(), ["contract_only"]);
    }
}

#[tokio::test]
async fn attributes_set_and_remove_accepted() {
    let target = Target::start().await;
    let timestamp = airship_time(target.now);
    let set = json!({"attributes": [
        {"action": "set", "key": "first_name", "value": "Ada", "timestamp": timestamp},
        {"action": "set", "key": "age", "value": 36, "timestamp": timestamp},
        {"action": "set", "key": "birthdate", "value": "1990-07-14T00:00:00", "timestamp": timestamp},
        {"action": "set", "key": "loyalty_tier", "value": "gold", "timestamp": timestamp}
    ]});
    let remove = json!({"attributes": [
        {"action": "remove", "key": "loyalty_tier", "timestamp": timestamp}
    ]});

    for body in [set, remove] {
        let request = AirshipRequest::named_user_attributes(&target.named_user, body);
        let response = send_ok(&target, &request).await;
        assert!(response.warnings.is_empty(), "{:?}", response.warnings);
    }

    let Some(mock) = target.mock_only("attributes_set_and_remove_accepted profile check") else {
        return;
    };
    let attributes = mock.named_user(&target.named_user).unwrap().attributes;
    assert_eq!(
        serde_json::to_value(attributes).unwrap(),
        json!({"age": 36, "birthdate": "1990-07-14T00:00:00", "first_name": "Ada"})
    );
}

#[tokio::test]
async fn paths_with_trailing_slash_accepted() {
    let target = Target::start().await;
    let mut requests = [
        AirshipRequest::custom_events(vec![event(&target, "contract_test_slash")]),
        AirshipRequest::named_user_tags(json!({
            "audience": {"named_user_id": [target.named_user]},
            "add": {&target.tag_group: ["contract_slash"]}
        })),
        AirshipRequest::named_user_attributes(
            &target.named_user,
            json!({"attributes": [{"action": "set", "key": "city", "value": "Oslo"}]}),
        ),
    ];

    for request in &mut requests {
        request.path.push('/');
        send_ok(&target, request).await;
    }
}

#[tokio::test]
async fn named_user_id_percent_encoded_in_path() {
    let target = Target::start().await;
    let id = format!("{}/ü #1", target.named_user);
    let request = AirshipRequest::named_user_attributes(
        &id,
        json!({"attributes": [{"action": "set", "key": "city", "value": "Oslo"}]}),
    );

    send_ok(&target, &request).await;

    if let Some(mock) = target.mock_only("named_user_id_percent_encoded_in_path profile check") {
        assert!(mock.named_user(&id).is_some());
    }
}

#[tokio::test]
async fn unknown_tag_group_reported_as_warning() {
    let target = Target::start().await;
    let missing = "contract-test-missing-group";
    let request = AirshipRequest::named_user_tags(json!({
        "audience": {"named_user_id": [target.named_user]},
        "add": {&target.tag_group: ["contract_warned"], missing: ["x"]}
    }));

    let response = send_ok(&target, &request).await;

    assert_eq!(response.warnings, [missing]);
}

#[tokio::test]
async fn unknown_attribute_reported_as_warning() {
    let target = Target::start().await;
    let request = AirshipRequest::named_user_attributes(
        &target.named_user,
        json!({"attributes": [
            {"action": "set", "key": "city", "value": "Oslo"},
            {"action": "set", "key": "contract_test_undefined", "value": "x"}
        ]}),
    );

    let response = send_ok(&target, &request).await;

    assert_eq!(response.warnings, ["contract_test_undefined"]);
}

/// Maps every fixture with the target's clock and sends each request.
///
/// On a real project every `userId` is first replaced by the contract named user, so the suite
/// writes to one profile only. Warnings are printed there instead of failing the test, because
/// they depend on what the project defines.
#[tokio::test]
async fn every_fixture_request_accepted() {
    let target = Target::start().await;
    let client = target.client();
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/events");
    let mut paths: Vec<_> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", directory.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    paths.sort();

    let mut sent = 0;
    let mut failures = Vec::new();
    for path in &paths {
        let Ok(mut raw) = serde_json::from_str::<Value>(&std::fs::read_to_string(path).unwrap())
        else {
            continue;
        };
        if !target.is_mock() && raw.get("userId").is_some_and(Value::is_string) {
            raw["userId"] = json!(target.named_user);
        }
        let mapped = map_message(raw, &Settings::default(), target.now);
        for request in mapped.requests() {
            sent += 1;
            match client.send(request).await {
                Ok(response) if response.warnings.is_empty() => {}
                Ok(response) if !target.is_mock() => {
                    eprintln!("{}: warnings {:?}", path.display(), response.warnings);
                }
                Ok(response) => failures.push(format!(
                    "{}: POST {} warned {:?}",
                    path.display(),
                    request.path,
                    response.warnings
                )),
                Err(error) => failures.push(format!(
                    "{}: POST {} failed: {error}\nbody: {}",
                    path.display(),
                    request.path,
                    request.body
                )),
            }
        }
    }

    assert!(sent > 0, "no fixture mapped to a request");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
