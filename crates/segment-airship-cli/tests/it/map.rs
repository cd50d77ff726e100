//! `segment-airship map`: NDJSON, arrays, batch objects, standard input, errors and exit codes.

use serde_json::json;

use crate::support::{command, input_file, json_lines, run, stderr};

const NOW: &str = "2026-05-02T12:00:00Z";

const PAGE: &str = r#"{"type":"page","messageId":"m-1","userId":"jill","name":"Home"}"#;
const IDENTIFY: &str = r#"{"type":"identify","messageId":"m-2","userId":"jill","traits":{"new_customer":true,"order_completed_last_60days":false}}"#;

const PAGE_LINE: &str = r#"{"message_id":"m-1","type":"page","outcome":"skipped","reason":"unsupported_type","message":"Airship has no equivalent of `page` calls"}"#;
const IDENTIFY_LINE: &str = r#"{"message_id":"m-2","type":"identify","outcome":"sent","requests":[{"method":"POST","path":"/api/named_users/tags","body":{"audience":{"named_user_id":["jill"]},"add":{"segment-integration":["new_customer"]},"remove":{"segment-integration":["order_completed_last_60days"]}}}]}"#;

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn ndjson_file_prints_one_line_per_message() {
    let file = input_file(
        "events.ndjson",
        &format!("{PAGE}\n\n{{oops}}\n{IDENTIFY}\n"),
    );

    let output = run(command(&["map", "--now", NOW, file.to_str().unwrap()]), "");

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let malformed = format!(
        r#"{{"message_id":null,"type":null,"outcome":"invalid","reason":"malformed_json","field":"message","message":"line 3 of {} is not valid JSON: key must be a string at column 2"}}"#,
        file.display()
    );
    assert_eq!(
        stdout(&output),
        format!("{PAGE_LINE}\n{malformed}\n{IDENTIFY_LINE}\n")
    );
}

#[test]
fn standard_input_is_read_without_files() {
    let output = run(command(&["map", "--now", NOW]), &format!("{PAGE}\n"));

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{PAGE_LINE}\n"));
}

#[test]
fn dash_reads_standard_input_between_files() {
    let file = input_file("identify.ndjson", IDENTIFY);

    let output = run(
        command(&["map", "--now", NOW, "-", file.to_str().unwrap()]),
        PAGE,
    );

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{PAGE_LINE}\n{IDENTIFY_LINE}\n"));
}

#[test]
fn malformed_standard_input_line_is_named() {
    let output = run(command(&["map", "--now", NOW]), "{\"type\":\n");

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        json_lines(&output)[0]["message"],
        "line 1 of standard input is not valid JSON: EOF while parsing a value at column 8"
    );
}

#[test]
fn json_array_file_is_split() {
    let file = input_file("events.json", &format!("[\n  {PAGE},\n  {IDENTIFY}\n]\n"));

    let output = run(command(&["map", "--now", NOW, file.to_str().unwrap()]), "");

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{PAGE_LINE}\n{IDENTIFY_LINE}\n"));
}

#[test]
fn batch_object_applies_envelope() {
    let batch = format!(r#"{{"integrations":{{"All":false}},"batch":[{IDENTIFY},{PAGE}]}}"#);
    let file = input_file("batch.json", &batch);

    let output = run(command(&["map", "--now", NOW, file.to_str().unwrap()]), "");

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["message_id"], "m-2");
    assert_eq!(lines[0]["reason"], "disabled_by_integrations");
    assert_eq!(lines[1]["reason"], "disabled_by_integrations");
}

#[test]
fn now_is_the_event_time_of_undated_track() {
    let track = r#"{"type":"track","messageId":"m-3","userId":"jill","event":"Signed Up"}"#;

    let output = run(
        command(&["map", "--now", "2026-05-02T14:00:00+02:00"]),
        track,
    );

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        json_lines(&output)[0]["requests"][0]["body"][0]["occurred"],
        "2026-05-02T12:00:00"
    );
}

#[test]
fn invalid_now_names_flag_and_form() {
    let output = run(command(&["map", "--now", "yesterday"]), "");

    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("--now"), "{message}");
    assert!(message.contains("RFC 3339"), "{message}");
    assert!(output.stdout.is_empty());
}

#[test]
fn gzip_file_names_the_batch_dry_run() {
    let file = input_file("events.ndjson.gz", "");
    // The gzip header's magic bytes are enough for the check.
    std::fs::write(&file, [0x1f, 0x8b, 0x08, 0x00]).unwrap();

    let output = run(command(&["map", "--now", NOW, file.to_str().unwrap()]), "");

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is gzip-compressed, which this command does not read; use `segment-airship-batch --dry-run`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_file_fails_after_mapping_the_others() {
    let file = input_file("page.ndjson", PAGE);

    let output = run(
        command(&[
            "map",
            "--now",
            NOW,
            "/nonexistent/events.ndjson",
            file.to_str().unwrap(),
        ]),
        "",
    );

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), format!("{PAGE_LINE}\n"));
    assert!(
        stderr(&output).contains("failed to read /nonexistent/events.ndjson"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_file_sets_tag_group() {
    let config = input_file("airship.toml", "[mapping]\ntag_group = \"crm\"\n");

    let output = run(
        command(&["map", "--now", NOW, "--config", config.to_str().unwrap()]),
        IDENTIFY,
    );

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        json_lines(&output)[0]["requests"][0]["body"]["add"],
        json!({"crm": ["new_customer"]})
    );
}

#[test]
fn config_file_with_token_is_rejected() {
    let config = input_file("airship.toml", "[airship]\naccess_token = \"tok-secret\"\n");

    let output = run(
        command(&["map", "--config", config.to_str().unwrap()]),
        IDENTIFY,
    );

    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("AIRSHIP_ACCESS_TOKEN"), "{message}");
    assert!(!message.contains("tok-secret"), "{message}");
    assert!(output.stdout.is_empty());
}
