//! `--dry-run`: the `map` command's output for every input format.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{gzip, ndjson, stdout_lines, write, BINARY};

const NOW: &str = "2026-05-02T12:00:00Z";

fn dry_run(args: &[&Path]) -> Output {
    let output = Command::new(BINARY)
        .args(["--dry-run", "--no-progress", "--now", NOW])
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    eprintln!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    output
}

/// Builds the `segment-airship` binary of the CLI crate with the same profile and returns its
/// path. The build runs every time (a no-op when fresh) because a binary left from an older
/// build could map with older rules than this crate's.
fn map_binary() -> PathBuf {
    let dir = Path::new(BINARY).parent().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    build.args([
        "build",
        "-p",
        "segment-airship-cli",
        "--bin",
        "segment-airship",
    ]);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().unwrap();
    assert!(
        status.success(),
        "building segment-airship failed: {status}"
    );
    dir.join(format!("segment-airship{}", std::env::consts::EXE_SUFFIX))
}

const FORMATS: [(&str, &str); 6] = [
    (
        "lines.ndjson",
        concat!(
            r#"{"type":"identify","userId":"jill","messageId":"m-1","traits":{"new_customer":true,"plan":"gold"}}"#,
            "\n\n  \r\n",
            r#"{"type":"track","userId":"jill","event":"Order Completed","properties":{"revenue":12.5},"timestamp":"2026-05-01T10:00:00Z"}"#,
            "\r\n{oops}\n",
            r#"{"type":"page","userId":"x"}"#,
            "\n",
            r#"{"type":"track","userId":"jill","event":"#,
            "\n",
        ),
    ),
    (
        "array.json",
        "\n [{\"type\":\"identify\",\"userId\":\"a\",\"traits\":{\"x\":true}},\n  {\"type\":\"page\"},\n  7,\n  {\"type\":\"track\",\"userId\":\"b\",\"event\":\"E\"}]\n",
    ),
    (
        "batch-pretty.json",
        "{\n  \"context\": {\"ip\": \"1.2.3.4\"},\n  \"batch\": [\n    {\"type\":\"identify\",\"userId\":\"a\",\"traits\":{\"x\":true}},\n    {\"type\":\"track\",\"event\":\"E\"}\n  ],\n  \"userId\": \"from-envelope\",\n  \"integrations\": {\"All\": false, \"Airship\": true}\n}\n",
    ),
    (
        "batch-line.json",
        "{\"batch\":[{\"type\":\"identify\",\"userId\":\"a\",\"traits\":{\"x\":false}},{\"type\":\"alias\"}],\"writeKey\":\"wk\"}\n",
    ),
    (
        "message-pretty.json",
        "{\n  \"type\": \"track\",\n  \"userId\": \"jill\",\n  \"event\": \"Signed Up\"\n}\n",
    ),
    ("empty.ndjson", "\n\n"),
];

#[test]
fn dry_run_matches_map_command() {
    let dir = tempfile::tempdir().unwrap();
    let map = map_binary();

    for (name, content) in FORMATS {
        let path = write(dir.path(), name, content);
        let expected = Command::new(&map)
            .args(["map", "--now", NOW])
            .arg(&path)
            .output()
            .unwrap();
        assert!(expected.status.success(), "map failed on {name}");

        let output = dry_run(&[&path]);

        assert!(output.status.success(), "dry run failed on {name}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&expected.stdout),
            "{name}"
        );
    }
}

#[test]
fn gzip_detected_from_content() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in FORMATS {
        let plain = write(dir.path(), &format!("plain-{name}"), content);
        // Same name length, so the positions in messages match; no `.gz` extension.
        let packed = write(
            dir.path(),
            &format!("gzipd-{name}"),
            gzip(content.as_bytes()),
        );

        let expected = dry_run(&[&plain]);
        let output = dry_run(&[&packed]);

        assert!(output.status.success(), "{name}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).replace("gzipd-", "plain-"),
            String::from_utf8_lossy(&expected.stdout),
            "{name}"
        );
    }
}

#[test]
fn truncated_gzip_reports_and_keeps_earlier_messages() {
    let dir = tempfile::tempdir().unwrap();
    let packed = gzip(ndjson(2_000).as_bytes());
    let path = write(dir.path(), "cut.ndjson.gz", &packed[..packed.len() * 2 / 3]);

    let output = dry_run(&[&path]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("cut.ndjson.gz is truncated"), "{stderr}");
    let lines = stdout_lines(&output);
    assert!(lines.len() > 100, "{} lines", lines.len());
    assert!(lines.len() < 2_000, "{} lines", lines.len());
    assert!(lines
        .iter()
        .all(|line| line.contains(r#""outcome":"sent""#)));
}

#[test]
fn bad_line_in_middle_is_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut content = ndjson(10);
    content.insert_str(content.find("\n").unwrap() * 4 + 4, "{\"type\": tra\n");
    let path = write(dir.path(), "bad.ndjson", &content);

    let output = dry_run(&[&path]);

    assert!(output.status.success());
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 11);
    assert!(
        lines[4].contains("line 5 of "),
        "the bad line is line 5: {}",
        lines[4]
    );
    assert!(
        lines[4].contains(r#""reason":"malformed_json""#),
        "{}",
        lines[4]
    );
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.contains(r#""outcome":"sent""#))
            .count(),
        10
    );
}

#[test]
fn stdin_accepts_gzip() {
    let content = ndjson(5);
    let mut child = Command::new(BINARY)
        .args(["--dry-run", "--no-progress", "--now", NOW, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, &gzip(content.as_bytes())).unwrap();
    drop(stdin);

    let output = child.wait_with_output().unwrap();

    assert!(output.status.success());
    assert_eq!(stdout_lines(&output).len(), 5);
}

#[test]
fn folder_read_in_sorted_order() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(inputs.join("day-2")).unwrap();
    write(
        &inputs,
        "day-1.ndjson",
        r#"{"type":"page","messageId":"first"}"#,
    );
    write(
        &inputs.join("day-2"),
        "a.json",
        r#"[{"type":"page","messageId":"second"}]"#,
    );
    write(
        &inputs,
        "day-3.ndjson.gz",
        gzip(br#"{"type":"page","messageId":"third"}"#),
    );
    write(&inputs, ".partial", "not json");

    let output = dry_run(&[&inputs]);

    assert!(output.status.success());
    let ids: Vec<String> = stdout_lines(&output)
        .iter()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["message_id"].to_string()
        })
        .collect();
    assert_eq!(ids, [r#""first""#, r#""second""#, r#""third""#]);
}
