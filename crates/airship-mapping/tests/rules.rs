//! Mapping rules, one behaviour per test, with exact expected values. NOW is 2026-05-02T12:00:00Z.

use airship_mapping::{map_message, Mapped, Settings};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn now() -> DateTime<Utc> {
    "2026-05-02T12:00:00Z".parse().unwrap()
}

fn map(message: Value) -> Mapped {
    map_message(message, &Settings::default(), now())
}

fn map_with(message: Value, settings: &Settings) -> Mapped {
    map_message(message, settings, now())
}

/// Returns the map line of a message as JSON, so assertions compare the exact output format.
fn line(message: Value) -> Value {
    serde_json::to_value(map(message)).unwrap()
}

fn requests(mapped: &Mapped) -> Value {
    serde_json::to_value(mapped.requests()).unwrap()
}

fn reason(mapped: &Mapped) -> Option<&'static str> {
    mapped.outcome.reason_code()
}

fn warning_reasons(mapped: &Mapped) -> Vec<(String, &'static str)> {
    mapped
        .warnings
        .iter()
        .map(|w| (w.key.clone(), w.reason.code()))
        .collect()
}

#[test]
fn numeric_user_id_becomes_decimal_string() {
    let mapped = map(json!({"type": "identify", "userId": 4242, "traits": {"vip": true}}));
    assert_eq!(
        requests(&mapped),
        json!([{"method": "POST", "path": "/api/named_users/tags",
                "body": {"audience": {"named_user_id": ["4242"]}, "add": {"segment-integration": ["vip"]}}}])
    );
}

#[test]
fn only_anonymous_id_is_skipped() {
    let mapped = map(json!({"type": "track", "anonymousId": "anon-1", "event": "Signed Up"}));
    assert_eq!(mapped.outcome.name(), "skipped");
    assert_eq!(reason(&mapped), Some("no_user_id"));
}

#[test]
fn empty_and_null_user_id_are_skipped() {
    for user_id in [json!(""), Value::Null] {
        let mapped = map(json!({"type": "track", "userId": user_id, "event": "E"}));
        assert_eq!(reason(&mapped), Some("no_user_id"), "{user_id}");
    }
}

#[test]
fn float_bool_and_object_user_ids_are_invalid() {
    for user_id in [json!(42.5), json!(true), json!({"id": 1})] {
        let mapped = map(json!({"type": "track", "userId": user_id, "event": "E"}));
        assert_eq!(reason(&mapped), Some("invalid_user_id"), "{user_id}");
    }
}

#[test]
fn padded_or_long_user_id_is_invalid() {
    let long = "u".repeat(129);
    for user_id in [" jill", "jill ", long.as_str()] {
        let mapped = map(json!({"type": "track", "userId": user_id, "event": "E"}));
        assert_eq!(reason(&mapped), Some("invalid_user_id"), "{user_id:?}");
    }
    let max = "u".repeat(128);
    let mapped = map(json!({"type": "track", "userId": max, "event": "E"}));
    assert_eq!(mapped.outcome.name(), "sent");
}

#[test]
fn properties_limit_is_twenty() {
    let properties = |count: usize| -> Value {
        (0..count)
            .map(|i| (format!("p{i}"), json!(i)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let over =
        map(json!({"type": "track", "userId": "u", "event": "E", "properties": properties(21)}));
    assert_eq!(over.outcome.name(), "skipped");
    assert_eq!(reason(&over), Some("too_many_properties"));
    let at =
        map(json!({"type": "track", "userId": "u", "event": "E", "properties": properties(20)}));
    assert_eq!(at.outcome.name(), "sent");
}

#[test]
fn revenue_string_becomes_value() {
    let mapped = map(
        json!({"type": "track", "userId": "u", "event": "Order Completed",
                            "timestamp": "2026-05-01T10:00:00Z",
                            "properties": {"revenue": "12.50"}}),
    );
    assert_eq!(
        requests(&mapped),
        json!([{"method": "POST", "path": "/api/custom-events", "body": [{
            "occurred": "2026-05-01T10:00:00",
            "user": {"named_user_id": "u"},
            "body": {"name": "order completed", "value": 12.5, "properties": {"revenue": "12.50"}}
        }]}])
    );
}

#[test]
fn revenue_is_rounded_to_six_decimals() {
    let mapped = map(
        json!({"type": "track", "userId": "u", "event": "E", "properties": {"revenue": 1.23456789}}),
    );
    assert_eq!(
        requests(&mapped)[0]["body"][0]["body"]["value"],
        json!(1.234568)
    );
}

#[test]
fn integer_revenue_keeps_its_digits() {
    let mapped =
        map(json!({"type": "track", "userId": "u", "event": "E", "properties": {"revenue": 200}}));
    let text = serde_json::to_string(&requests(&mapped)).unwrap();
    assert!(text.contains(r#""value":200,"#), "{text}");
}

#[test]
fn bad_revenue_leaves_value_out_with_warning() {
    let text = map(
        json!({"type": "track", "userId": "u", "event": "E", "properties": {"revenue": "a lot"}}),
    );
    assert_eq!(requests(&text)[0]["body"][0]["body"].get("value"), None);
    assert_eq!(
        warning_reasons(&text),
        vec![("revenue".to_owned(), "revenue_not_a_number")]
    );
    let huge = map(
        json!({"type": "track", "userId": "u", "event": "E", "properties": {"revenue": 3000000000_i64}}),
    );
    assert_eq!(requests(&huge)[0]["body"][0]["body"].get("value"), None);
    assert_eq!(
        warning_reasons(&huge),
        vec![("revenue".to_owned(), "revenue_out_of_range")]
    );
}

#[test]
fn track_older_than_ninety_days_is_too_old() {
    let mapped = map(
        json!({"type": "track", "userId": "u", "event": "E", "timestamp": "2026-01-31T12:00:00Z"}),
    );
    assert_eq!(mapped.outcome.name(), "invalid");
    assert_eq!(reason(&mapped), Some("too_old"));
    let ninety = map(
        json!({"type": "track", "userId": "u", "event": "E", "timestamp": "2026-02-01T12:00:00Z"}),
    );
    assert_eq!(ninety.outcome.name(), "sent");
}

#[test]
fn track_in_future_is_invalid_beyond_five_minutes() {
    let far = map(
        json!({"type": "track", "userId": "u", "event": "E", "timestamp": "2026-05-02T12:05:01Z"}),
    );
    assert_eq!(reason(&far), Some("in_future"));
    let near = map(
        json!({"type": "track", "userId": "u", "event": "E", "timestamp": "2026-05-02T12:04:00Z"}),
    );
    assert_eq!(
        requests(&near)[0]["body"][0]["occurred"],
        json!("2026-05-02T12:00:00")
    );
}

#[test]
fn page_is_unsupported() {
    assert_eq!(
        line(json!({"type": "page", "messageId": "m-2", "userId": "u", "name": "Home"})),
        json!({"message_id": "m-2", "type": "page", "outcome": "skipped", "reason": "unsupported_type",
               "message": "Airship has no equivalent of `page` calls"})
    );
}

#[test]
fn null_email_removes_the_attribute() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "timestamp": "2026-05-02T11:00:00Z",
                            "traits": {"email": null}}),
    );
    assert_eq!(
        requests(&mapped),
        json!([{"method": "POST", "path": "/api/named_users/u/attributes", "body": {"attributes": [
            {"action": "remove", "key": "email", "timestamp": "2026-05-02T11:00:00"}
        ]}}])
    );
}

#[test]
fn big_integer_property_keeps_its_digits() {
    let raw = r#"{"type":"track","userId":"u","event":"Order","properties":{"order_id":1610521604143693812}}"#;
    let mapped = map(serde_json::from_str(raw).unwrap());
    let text = serde_json::to_string(&mapped).unwrap();
    assert!(text.contains(r#""order_id":1610521604143693812"#), "{text}");
}

#[test]
fn user_id_is_percent_encoded_in_path() {
    let mapped =
        map(json!({"type": "identify", "userId": "acct/42 #ü", "traits": {"email": "a@b.c"}}));
    assert_eq!(
        mapped.requests()[0].path,
        "/api/named_users/acct%2F42%20%23%C3%BC/attributes"
    );
}

#[test]
fn event_name_is_lower_cased_with_unicode_rules() {
    let mapped = map(json!({"type": "track", "userId": "u", "event": "İstanbul Trip Booked!"}));
    assert_eq!(
        requests(&mapped)[0]["body"][0]["body"]["name"],
        json!("i\u{307}stanbul trip booked!")
    );
}

#[test]
fn blank_event_is_invalid() {
    for event in [json!("   "), json!(""), Value::Null, json!(5)] {
        let mapped = map(json!({"type": "track", "userId": "u", "event": event}));
        assert_eq!(reason(&mapped), Some("missing_event"), "{event}");
    }
}

#[test]
fn long_property_string_is_left_out() {
    let long = "x".repeat(256);
    let mapped = map(
        json!({"type": "track", "userId": "u", "event": "E", "properties": {"note": long, "ok": "y"}}),
    );
    assert_eq!(
        requests(&mapped)[0]["body"][0]["body"]["properties"],
        json!({"ok": "y"})
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![("note".to_owned(), "property_too_long")]
    );
}

#[test]
fn integrations_can_disable_airship() {
    let cases = [
        (json!({"Airship": false}), Some("disabled_by_integrations")),
        (json!({"airship": false}), Some("disabled_by_integrations")),
        (json!({"All": false}), Some("disabled_by_integrations")),
        (json!({"All": false, "Airship": true}), None),
        (json!({"All": true}), None),
    ];
    for (integrations, expected) in cases {
        let mapped = map(
            json!({"type": "track", "userId": "u", "event": "E", "integrations": integrations}),
        );
        assert_eq!(reason(&mapped), expected, "{integrations}");
    }
}

#[test]
fn unknown_or_missing_type_is_invalid() {
    assert_eq!(
        reason(&map(json!({"type": "purchase", "userId": "u"}))),
        Some("invalid_type")
    );
    assert_eq!(reason(&map(json!({"userId": "u"}))), Some("invalid_type"));
}

#[test]
fn identify_without_traits_is_skipped() {
    assert_eq!(
        reason(&map(json!({"type": "identify", "userId": "u"}))),
        Some("no_traits")
    );
    assert_eq!(
        reason(&map(
            json!({"type": "identify", "userId": "u", "traits": {}})
        )),
        Some("no_traits")
    );
}

#[test]
fn context_traits_are_used_when_traits_are_empty() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "traits": {}, "context": {"traits": {"beta": true}}}),
    );
    assert_eq!(
        requests(&mapped)[0]["body"]["add"],
        json!({"segment-integration": ["beta"]})
    );
}

#[test]
fn string_booleans_stay_text_unless_configured() {
    let message = json!({"type": "identify", "userId": "u", "traits": {"vip": "true"}});
    let default = map(message.clone());
    assert_eq!(
        warning_reasons(&default),
        vec![("vip".to_owned(), "not_a_known_attribute")]
    );
    let settings = Settings {
        string_booleans_as_tags: true,
        ..Settings::default()
    };
    let mapped = map_with(message, &settings);
    assert_eq!(
        requests(&mapped)[0]["body"]["add"],
        json!({"segment-integration": ["vip"]})
    );
}

#[test]
fn more_than_hundred_tags_split_into_requests() {
    let traits: serde_json::Map<String, Value> =
        (0..150).map(|i| (format!("t{i}"), json!(true))).collect();
    let mapped = map(json!({"type": "identify", "userId": "u", "traits": traits}));
    let sizes: Vec<usize> = mapped
        .requests()
        .iter()
        .map(|r| {
            r.body["add"]["segment-integration"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, vec![100, 50]);
}

#[test]
fn reserved_traits_are_renamed() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "timestamp": "2026-05-02T12:00:00Z", "traits": {
            "firstName": "Ada", "name": "Ada Lovelace", "phone": "+1 (555) 010-0100", "birthday": "1990-07-14",
            "createdAt": 1777723200, "company": {"name": "Initech", "industry": "Tech"},
            "address": {"city": "Paris", "state": "IDF", "country": "FR", "postalCode": "75001", "street": "1 rue"}
        }}),
    );
    let ts = "2026-05-02T12:00:00";
    assert_eq!(
        requests(&mapped)[0]["body"],
        json!({"attributes": [
            {"action": "set", "key": "first_name", "value": "Ada", "timestamp": ts},
            {"action": "set", "key": "full_name", "value": "Ada Lovelace", "timestamp": ts},
            {"action": "set", "key": "mobile_phone", "value": 15550100100_i64, "timestamp": ts},
            {"action": "set", "key": "birthdate", "value": "1990-07-14T00:00:00", "timestamp": ts},
            {"action": "set", "key": "account_creation", "value": "2026-05-02T12:00:00", "timestamp": ts},
            {"action": "set", "key": "company", "value": "Initech", "timestamp": ts},
            {"action": "set", "key": "city", "value": "Paris", "timestamp": ts},
            {"action": "set", "key": "region", "value": "IDF", "timestamp": ts},
            {"action": "set", "key": "country", "value": "FR", "timestamp": ts},
            {"action": "set", "key": "zipcode", "value": 75001, "timestamp": ts},
        ]})
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![
            ("company.industry".to_owned(), "not_a_known_attribute"),
            ("address.street".to_owned(), "not_a_known_attribute"),
        ]
    );
}

#[test]
fn explicit_airship_key_wins_over_renamed_trait() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "timestamp": "2026-05-02T12:00:00Z",
                            "traits": {"name": "Renamed", "full_name": "Explicit"}}),
    );
    assert_eq!(
        requests(&mapped)[0]["body"]["attributes"],
        json!([{"action": "set", "key": "full_name", "value": "Explicit", "timestamp": "2026-05-02T12:00:00"}])
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![("name".to_owned(), "overridden")]
    );
}

#[test]
fn phone_with_extension_is_left_out() {
    for phone in ["555-0100 ext. 12", "n/a"] {
        let mapped = map(
            json!({"type": "identify", "userId": "u", "traits": {"phone": phone, "vip": true}}),
        );
        assert_eq!(
            warning_reasons(&mapped),
            vec![("phone".to_owned(), "not_a_phone_number")],
            "{phone}"
        );
    }
}

#[test]
fn text_over_255_characters_is_left_out() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "traits": {"title": "é".repeat(256), "vip": true}}),
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![("title".to_owned(), "text_too_long")]
    );
    let fits =
        map(json!({"type": "identify", "userId": "u", "traits": {"title": "é".repeat(255)}}));
    assert_eq!(fits.requests().len(), 1);
}

#[test]
fn number_attribute_from_string_keeps_digits() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "traits": {"age": "42", "latitude": "48.8566"}}),
    );
    let text = serde_json::to_string(&requests(&mapped)).unwrap();
    assert!(text.contains(r#""key":"age","value":42,"#), "{text}");
    assert!(
        text.contains(r#""key":"latitude","value":48.8566,"#),
        "{text}"
    );
}

#[test]
fn text_attribute_keeps_date_like_strings() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "traits": {"title": "Store 2", "username": 2026}}),
    );
    let attributes = &requests(&mapped)[0]["body"]["attributes"];
    assert_eq!(attributes[0]["value"], json!("Store 2"));
    assert_eq!(attributes[1]["value"], json!("2026"));
}

#[test]
fn bad_date_is_left_out() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "traits": {"birthday": "last spring", "vip": true}}),
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![("birthday".to_owned(), "not_a_date")]
    );
}

#[test]
fn json_attribute_uses_instance_key() {
    let mut settings = Settings::default();
    settings
        .attributes
        .insert("preferences".into(), airship_mapping::AttributeType::Json);
    let mapped = map_with(
        json!({"type": "identify", "userId": "u", "timestamp": "2026-05-02T12:00:00Z",
               "traits": {"preferences": {"color": "red"}}}),
        &settings,
    );
    assert_eq!(
        requests(&mapped)[0]["body"]["attributes"][0],
        json!({"action": "set", "key": "preferences#default", "value": {"color": "red"}, "timestamp": "2026-05-02T12:00:00"})
    );
}

#[test]
fn reserved_ua_keys_are_never_sent() {
    let settings = Settings {
        send_unknown_attributes: true,
        ..Settings::default()
    };
    let mapped = map_with(
        json!({"type": "identify", "userId": "u", "traits": {"ua_country": "FR", "plan": "pro"}}),
        &settings,
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![("ua_country".to_owned(), "reserved_key")]
    );
    assert_eq!(
        requests(&mapped)[0]["body"]["attributes"][0]["key"],
        json!("plan")
    );
}

#[test]
fn invalid_timestamp_names_the_field() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "traits": {"vip": true}, "originalTimestamp": "soon"}),
    );
    let line = serde_json::to_value(&mapped).unwrap();
    assert_eq!(line["reason"], json!("invalid_timestamp"));
    assert_eq!(line["field"], json!("originalTimestamp"));
}

#[test]
fn docs_identify_example() {
    let mapped = map(json!({"type": "identify", "userId": "jill",
                            "traits": {"new_customer": true, "order_completed_last_60days": false}}));
    assert_eq!(
        requests(&mapped),
        json!([{"method": "POST", "path": "/api/named_users/tags", "body": {
            "audience": {"named_user_id": ["jill"]},
            "add": {"segment-integration": ["new_customer"]},
            "remove": {"segment-integration": ["order_completed_last_60days"]}
        }}])
    );
}

#[test]
fn docs_track_example() {
    let mapped = map(
        json!({"type": "track", "userId": "jill", "event": "Product Clicked", "timestamp": "2026-05-02T11:59:00Z",
        "properties": {"name": "Air Jordans", "brand": "Nike ", "price": 200, "quantity": 1, "variant": "Red"}}),
    );
    assert_eq!(
        requests(&mapped),
        json!([{"method": "POST", "path": "/api/custom-events", "body": [{
            "occurred": "2026-05-02T11:59:00",
            "user": {"named_user_id": "jill"},
            "body": {"name": "product clicked", "properties":
                {"name": "Air Jordans", "brand": "Nike ", "price": 200, "quantity": 1, "variant": "Red"}}
        }]}])
    );
}

#[test]
fn docs_group_example() {
    let mapped = map(
        json!({"type": "group", "userId": "jill", "groupId": "1234", "timestamp": "2026-05-02T12:00:00Z",
        "traits": {"name": "Initech", "industry": "Technology", "employees": 329, "plan": "enterprise", "totalBilled": 830}}),
    );
    let ts = "2026-05-02T12:00:00";
    assert_eq!(
        requests(&mapped),
        json!([{"method": "POST", "path": "/api/named_users/jill/attributes", "body": {"attributes": [
            {"action": "set", "key": "airship_segment_group_1234", "value": "true", "timestamp": ts},
            {"action": "set", "key": "company", "value": "Initech", "timestamp": ts},
        ]}}])
    );
    let warned: Vec<String> = mapped.warnings.iter().map(|w| w.key.clone()).collect();
    assert_eq!(warned, vec!["industry", "employees", "plan", "totalBilled"]);
    assert!(mapped
        .warnings
        .iter()
        .all(|w| w.reason.code() == "not_a_known_attribute"));
}

#[test]
fn group_boolean_traits_go_to_group_tag_group() {
    let mapped =
        map(json!({"type": "group", "userId": "u", "groupId": 77, "traits": {"enterprise": true}}));
    assert_eq!(
        requests(&mapped)[0]["body"],
        json!({"audience": {"named_user_id": ["u"]}, "add": {"segment-integration-group": ["enterprise"]}})
    );
    assert_eq!(
        requests(&mapped)[1]["body"]["attributes"][0]["key"],
        json!("airship_segment_group_77")
    );
}

#[test]
fn group_without_group_id_is_invalid() {
    for group_id in [Value::Null, json!(""), json!(1.5), json!([1])] {
        let mapped = map(json!({"type": "group", "userId": "u", "groupId": group_id}));
        assert_eq!(reason(&mapped), Some("missing_group_id"), "{group_id}");
    }
    let missing = map(json!({"type": "group", "userId": "u"}));
    assert_eq!(reason(&missing), Some("missing_group_id"));
}

#[test]
fn group_attribute_key_over_64_characters_is_left_out() {
    let mapped = map(
        json!({"type": "group", "userId": "u", "groupId": "g".repeat(43), "traits": {"vip": true}}),
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![("groupId".to_owned(), "key_too_long")]
    );
    assert_eq!(mapped.requests().len(), 1);
    let fits = map(json!({"type": "group", "userId": "u", "groupId": "g".repeat(42)}));
    assert_eq!(fits.requests().len(), 1);
}

#[test]
fn revenue_with_leading_zeros_is_a_number() {
    let mapped = map(
        json!({"type": "track", "userId": "u", "event": "E", "properties": {"revenue": "0012"}}),
    );
    assert_eq!(requests(&mapped)[0]["body"][0]["body"]["value"], json!(12));
    assert_eq!(mapped.warnings, vec![]);
}

#[test]
fn too_old_names_the_time_field_used() {
    let mapped = map(
        json!({"type": "track", "userId": "u", "event": "E", "originalTimestamp": "2026-01-01T00:00:00Z"}),
    );
    let line = serde_json::to_value(&mapped).unwrap();
    assert_eq!(line["reason"], json!("too_old"));
    assert_eq!(line["field"], json!("originalTimestamp"));
}

#[test]
fn json_attribute_key_limit_counts_instance() {
    let mut settings = Settings::default();
    let key = "k".repeat(56);
    settings
        .attributes
        .insert(key.clone(), airship_mapping::AttributeType::Json);
    // 56 + "#default" = 64 characters: sent.
    let fits = map_with(
        json!({"type": "identify", "userId": "u", "traits": {key.clone(): {"x": 1}}}),
        &settings,
    );
    assert_eq!(
        requests(&fits)[0]["body"]["attributes"][0]["key"],
        json!(format!("{key}#default"))
    );
    let longer = "k".repeat(57);
    settings
        .attributes
        .insert(longer.clone(), airship_mapping::AttributeType::Json);
    let over = map_with(
        json!({"type": "identify", "userId": "u", "traits": {longer.clone(): {"x": 1}, "vip": true}}),
        &settings,
    );
    assert_eq!(warning_reasons(&over), vec![(longer, "key_too_long")]);
}

#[test]
fn dot_segment_user_ids_are_invalid() {
    for user_id in [".", ".."] {
        let mapped =
            map(json!({"type": "identify", "userId": user_id, "traits": {"email": "a@b.c"}}));
        assert_eq!(reason(&mapped), Some("invalid_user_id"), "{user_id}");
    }
    let dots_inside =
        map(json!({"type": "identify", "userId": "a..b", "traits": {"email": "a@b.c"}}));
    assert_eq!(
        dots_inside.requests()[0].path,
        "/api/named_users/a..b/attributes"
    );
}

#[test]
fn zip_code_with_leading_zero_is_left_out() {
    let mapped = map(
        json!({"type": "identify", "userId": "u", "traits": {"address": {"postalCode": "02134"}, "age": "0", "vip": true}}),
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![("address.postalCode".to_owned(), "not_a_number")]
    );
    assert_eq!(
        requests(&mapped)[1]["body"]["attributes"][0]["value"],
        json!(0)
    );
}

#[test]
fn time_without_offset_says_so() {
    let mapped = map(
        json!({"type": "track", "userId": "u", "event": "E", "timestamp": "2026-05-02T11:00:00"}),
    );
    let line = serde_json::to_value(&mapped).unwrap();
    assert_eq!(
        line["message"],
        json!("timestamp \"2026-05-02T11:00:00\" has no time-zone offset, so its instant is unknown; add `Z` for UTC or an offset such as +02:00")
    );
}

#[test]
fn user_id_with_line_break_is_invalid() {
    for user_id in ["jill\nsmith", "jill\r\nsmith", "jill\u{2028}smith"] {
        let mapped = map(json!({"type": "identify", "userId": user_id, "traits": {"vip": true}}));
        assert_eq!(reason(&mapped), Some("invalid_user_id"), "{user_id:?}");
    }
}

#[test]
fn group_id_with_hash_leaves_attribute_out() {
    let mapped = map(
        json!({"type": "group", "userId": "jill", "groupId": "acme#eu", "traits": {"vip": true}}),
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![("groupId".to_owned(), "invalid_key")]
    );
    assert_eq!(mapped.requests().len(), 1);
    assert_eq!(mapped.requests()[0].path, "/api/named_users/tags");
}

#[test]
fn json_attribute_with_null_is_left_out() {
    let mut settings = Settings::default();
    settings
        .attributes
        .insert("preferences".into(), airship_mapping::AttributeType::Json);
    let mapped = map_with(
        json!({"type": "identify", "userId": "u", "traits": {"preferences": {"color": null, "size": [1, null]}, "vip": true}}),
        &settings,
    );
    assert_eq!(
        warning_reasons(&mapped),
        vec![("preferences".to_owned(), "unsupported_value")]
    );
    assert_eq!(mapped.requests().len(), 1);
}

#[test]
fn ninety_days_checked_on_whole_seconds() {
    // 0.2 s under 90 days old, but sent as 12:00:00, which is 0.3 s over 90 days old.
    let now: DateTime<Utc> = "2026-05-02T12:00:00.300Z".parse().unwrap();
    let message = json!({"type": "track", "userId": "u", "event": "E", "timestamp": "2026-02-01T12:00:00.500Z"});
    let mapped = map_message(message, &Settings::default(), now);
    assert_eq!(reason(&mapped), Some("too_old"));
}
