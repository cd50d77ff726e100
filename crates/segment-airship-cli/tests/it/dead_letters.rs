//! `segment-airship dead-letters list|replay` on a spool file written by the library.

use std::path::Path;

use chrono::Utc;
use segment_airship_delivery::{
    Appended, DeadLetterReason, Failure, NewMessage, Settlement, Spool, SqliteSpool,
    SqliteSpoolOptions,
};
use serde_json::json;

use crate::support::{command, json_lines, run, stderr};

/// Writes a spool with two dead letters: `m-1` rejected and `m-2` out of retries.
async fn spool_with_dead_letters(path: &Path) {
    let spool = SqliteSpool::open(path, SqliteSpoolOptions::default()).unwrap();
    let messages = ["m-1", "m-2"].map(|id| NewMessage {
        message_id: Some(id.into()),
        named_user: "jill".into(),
        received_at: Utc::now(),
        raw: json!({"type": "track", "messageId": id, "userId": "jill", "event": "Signed Up"})
            .to_string()
            .into_bytes(),
    });
    let appended = spool.append(messages.to_vec()).await.unwrap();
    spool.lease(10).await.unwrap();
    let failure = |reason| Failure {
        reason,
        summary: "airship returned status 400".into(),
        status: Some(400),
        error: Some("Could not parse request body.".into()),
        details: Some(json!({"path": "body[0].occurred"})),
        operation_id: Some("op-1".into()),
    };
    let settlements = appended
        .iter()
        .zip([
            DeadLetterReason::Rejected,
            DeadLetterReason::RetriesExhausted,
        ])
        .map(|(appended, reason)| {
            let Appended::Queued(key) = appended else {
                panic!("unexpected duplicate");
            };
            Settlement::DeadLetter {
                key: *key,
                failure: failure(reason),
                attempts: 2,
            }
        })
        .collect();
    spool.settle(settlements).await.unwrap();
    spool.close().await;
}

#[tokio::test]
async fn list_prints_one_line_per_dead_letter() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spool.db");
    spool_with_dead_letters(&path).await;

    let output = run(
        command(&["dead-letters", "list", "--spool", path.to_str().unwrap()]),
        "",
    );

    assert!(output.status.success(), "{}", stderr(&output));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    assert_eq!(first["message_id"], "m-1");
    assert_eq!(first["reason"], "rejected");
    assert_eq!(first["status"], 400);
    assert_eq!(first["error"], "Could not parse request body.");
    assert_eq!(first["details"], json!({"path": "body[0].occurred"}));
    assert_eq!(first["operation_id"], "op-1");
    assert_eq!(first["attempts"], 2);
    assert_eq!(first["message"]["event"], "Signed Up");
    assert!(first["id"].is_i64(), "{first}");
    assert!(stderr(&output).contains("2 dead letters"));
}

#[tokio::test]
async fn list_filters_by_reason() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spool.db");
    spool_with_dead_letters(&path).await;

    let output = run(
        command(&[
            "dead-letters",
            "list",
            "--spool",
            path.to_str().unwrap(),
            "--reason",
            "retries_exhausted",
        ]),
        "",
    );

    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["message_id"], "m-2");
}

#[tokio::test]
async fn replay_moves_the_selected_letter_back() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spool.db");
    spool_with_dead_letters(&path).await;
    let listed = json_lines(&run(
        command(&["dead-letters", "list", "--spool", path.to_str().unwrap()]),
        "",
    ));
    let id = listed[0]["id"].to_string();

    let output = run(
        command(&[
            "dead-letters",
            "replay",
            "--spool",
            path.to_str().unwrap(),
            "--id",
            &id,
        ]),
        "",
    );

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json_lines(&output), [json!({"replayed": 1})]);
    let spool = SqliteSpool::open(&path, SqliteSpoolOptions::default()).unwrap();
    let pending = spool.lease(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].message_id.as_deref(), Some("m-1"));
    assert_eq!(spool.counts().await.unwrap().dead_letters, 1);
    spool.close().await;
}

#[tokio::test]
async fn replay_of_unknown_id_fails() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spool.db");
    spool_with_dead_letters(&path).await;

    let output = run(
        command(&[
            "dead-letters",
            "replay",
            "--spool",
            path.to_str().unwrap(),
            "--id",
            "99",
        ]),
        "",
    );

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_lines(&output), [json!({"replayed": 0})]);
    assert!(
        stderr(&output).contains("1 of the 1 requested id(s) are not dead letters"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn replay_without_selection_is_a_usage_error() {
    let output = run(command(&["dead-letters", "replay", "--spool", "x.db"]), "");

    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--id"), "{}", stderr(&output));
}

#[test]
fn missing_spool_file_is_named() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("absent.db");

    let output = run(
        command(&["dead-letters", "list", "--spool", path.to_str().unwrap()]),
        "",
    );

    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("absent.db"), "{}", stderr(&output));
    assert!(!path.exists());
}
