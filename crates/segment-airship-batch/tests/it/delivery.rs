//! Delivery to the mock: every format, bad lines, dead letters and changed inputs.

use crate::support::{
    command, delivered_seqs, event_users, gzip, mock, ndjson, read_json, run, track, write,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_delivered_once() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let array = format!("[{},\n{}]", track(100), track(101));
    let pretty_batch = format!(
        "{{\n  \"batch\": [\n    {},\n    {{\"type\":\"track\",\"event\":\"Replay Test\",\"properties\":{{\"seq\":201}}}}\n  ],\n  \"userId\": \"from-envelope\"\n}}\n",
        track(200)
    );
    let batch_lines = format!(
        "{{\"batch\":[{},{}]}}\n{{\"batch\":[{}]}}\n",
        track(300),
        track(301),
        track(302)
    );
    let lines = ndjson(3);
    let inputs = [
        write(dir.path(), "lines.ndjson", &lines),
        write(dir.path(), "array.json", &array),
        write(dir.path(), "batch.json", &pretty_batch),
        write(dir.path(), "batches.ndjson", &batch_lines),
        write(
            dir.path(),
            "lines.ndjson.gz",
            gzip(ndjson(3).replace("\"m-", "\"gz-m-").as_bytes()),
        ),
        write(
            dir.path(),
            "array.gz",
            gzip(array.replace("\"m-", "\"gz-m-").as_bytes()),
        ),
        write(
            dir.path(),
            "batch.gz",
            gzip(pretty_batch.replace("\"m-", "\"gz-m-").as_bytes()),
        ),
    ];

    let output = run(command(&mock, &dir.path().join("state"))
        .args(["--dedup-window", "0"])
        .args(&inputs))
    .await;

    assert_eq!(output.status.code(), Some(0));
    let seen = delivered_seqs(&mock);
    let expected_twice = [0, 1, 2, 100, 101, 200, 201];
    for seq in expected_twice {
        assert_eq!(seen.get(&seq), Some(&2), "seq {seq}: {seen:?}");
    }
    for seq in [300, 301, 302] {
        assert_eq!(seen.get(&seq), Some(&1), "seq {seq}: {seen:?}");
    }
    assert_eq!(seen.len(), expected_twice.len() + 3, "{seen:?}");
    let users = event_users(&mock);
    assert_eq!(
        users.iter().filter(|user| *user == "from-envelope").count(),
        2,
        "the envelope's userId fills the message without one, once per batch file: {users:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_line_reported_and_run_continues() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (0..50).map(track).collect();
    lines.insert(25, "{\"type\":\"track\",".to_owned());
    let input = write(dir.path(), "events.ndjson", lines.join("\n") + "\n");
    let report = dir.path().join("report.json");

    let output = run(command(&mock, &dir.path().join("state"))
        .arg("--report")
        .arg(&report)
        .arg(&input))
    .await;

    assert_eq!(output.status.code(), Some(0));
    assert_eq!(delivered_seqs(&mock).len(), 50);
    let report = read_json(&report);
    assert_eq!(report["status"], "complete");
    assert_eq!(report["counts"]["delivered"], 50);
    assert_eq!(report["counts"]["invalid"]["malformed_json"], 1);
    assert_eq!(report["invalid"][0]["line"], 26);
    assert_eq!(report["invalid"][0]["input"], input.display().to_string());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("events.ndjson:26"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_requests_become_dead_letters() {
    let mock = mock().await;
    mock.mock().fail_requests(400, None, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "events.ndjson", ndjson(4));
    let report = dir.path().join("report.json");

    let output = run(command(&mock, &dir.path().join("state"))
        .arg("--report")
        .arg(&report)
        .arg(&input))
    .await;

    assert_eq!(output.status.code(), Some(3));
    let report = read_json(&report);
    assert_eq!(report["counts"]["dead_letter"]["rejected"], 4);
    let lines: Vec<u64> = report["dead_letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|letter| letter["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 2, 3, 4]);
    assert_eq!(report["dead_letters"][0]["status"], 400);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Dead letters:"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_input_needs_restart() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let input = write(dir.path(), "events.ndjson", ndjson(3));
    let first = run(command(&mock, &state).arg(&input)).await;
    assert_eq!(first.status.code(), Some(0));

    let again = run(command(&mock, &state).arg(&input)).await;
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        delivered_seqs(&mock).values().sum::<u64>(),
        3,
        "a finished input is not sent again"
    );

    write(
        dir.path(),
        "events.ndjson",
        ndjson(3).replace("Replay Test", "Replay Tost"),
    );
    let changed = run(command(&mock, &state).arg(&input)).await;
    assert_eq!(changed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&changed.stderr);
    assert!(stderr.contains("--restart"), "{stderr}");

    let restarted = run(command(&mock, &state).arg("--restart").arg(&input)).await;
    assert_eq!(restarted.status.code(), Some(0));
    assert_eq!(delivered_seqs(&mock).values().sum::<u64>(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_gzip_checkpoints_what_was_read() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let packed = gzip(ndjson(3_000).as_bytes());
    let input = write(dir.path(), "cut.ndjson.gz", &packed[..packed.len() / 2]);

    let output = run(command(&mock, &state).arg(&input)).await;

    assert_eq!(output.status.code(), Some(1));
    let checkpoint = read_json(&state.join("checkpoint.json"));
    let entry = checkpoint["inputs"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!(entry["complete"], false);
    assert!(
        entry["error"].as_str().unwrap().contains("truncated"),
        "{entry}"
    );
    let messages = entry["messages"].as_u64().unwrap();
    assert!(messages > 0, "{messages}");
    assert!(messages < 3_000, "{messages}");
    let seen = delivered_seqs(&mock);
    assert_eq!(seen.len() as u64, messages);
    assert_eq!(seen.keys().copied().max(), Some(messages - 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_and_concurrency_limits_still_deliver() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "events.ndjson", ndjson(30));

    let output = run(command(&mock, &dir.path().join("state"))
        .args(["--rate", "200", "--concurrency", "1", "--flush-size", "5"])
        .arg(&input))
    .await;

    assert_eq!(output.status.code(), Some(0));
    assert_eq!(delivered_seqs(&mock).len(), 30);
}
