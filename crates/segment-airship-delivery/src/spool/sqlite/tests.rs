//! The SQLite spool: commit, lease, settle, dead letters, deduplication and restarts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use crate::spool::{DeadLetterReason, Failure};

fn message(id: Option<&str>, user: &str) -> NewMessage {
    NewMessage {
        message_id: id.map(str::to_owned),
        named_user: user.to_owned(),
        received_at: "2026-05-02T12:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        raw: json!({"type": "track", "userId": user, "messageId": id})
            .to_string()
            .into_bytes(),
    }
}

fn memory() -> SqliteSpool {
    SqliteSpool::in_memory(SqliteSpoolOptions::default()).unwrap()
}

fn rejected() -> Failure {
    Failure {
        reason: DeadLetterReason::Rejected,
        summary: "airship returned status 400".into(),
        status: Some(400),
        error: Some("Could not parse request body.".into()),
        details: Some(json!({"error": "bad", "path": "body[0].occurred"})),
        operation_id: Some("op-1".into()),
    }
}

fn keys(appended: &[Appended]) -> Vec<SpoolKey> {
    appended
        .iter()
        .map(|appended| match appended {
            Appended::Queued(key) => *key,
            Appended::Duplicate => panic!("unexpected duplicate"),
        })
        .collect()
}

#[tokio::test]
async fn appended_messages_are_leased_in_order_once() {
    let spool = memory();
    let appended = spool
        .append(vec![
            message(Some("a"), "u1"),
            message(Some("b"), "u2"),
            message(None, "u1"),
        ])
        .await
        .unwrap();

    let first = spool.lease(2).await.unwrap();
    let second = spool.lease(10).await.unwrap();
    let third = spool.lease(10).await.unwrap();

    let leased: Vec<SpoolKey> = first.iter().chain(&second).map(|m| m.key).collect();
    assert_eq!(leased, keys(&appended));
    assert_eq!(first[0].message_id.as_deref(), Some("a"));
    assert_eq!(first[0].named_user, "u1");
    assert_eq!(first[0].raw, message(Some("a"), "u1").raw);
    assert!(third.is_empty());
}

#[tokio::test]
async fn duplicate_message_id_is_not_stored() {
    let spool = memory();

    let first = spool.append(vec![message(Some("a"), "u1")]).await.unwrap();
    let again = spool
        .append(vec![
            message(Some("a"), "u1"),
            message(Some("b"), "u1"),
            message(Some("b"), "u1"),
        ])
        .await
        .unwrap();

    assert!(matches!(first[0], Appended::Queued(_)));
    assert_eq!(again[0], Appended::Duplicate);
    assert!(matches!(again[1], Appended::Queued(_)));
    assert_eq!(again[2], Appended::Duplicate);
    assert_eq!(spool.counts().await.unwrap().pending, 2);
}

#[tokio::test]
async fn messages_without_id_are_never_duplicates() {
    let spool = memory();

    let appended = spool
        .append(vec![message(None, "u1"), message(None, "u1")])
        .await
        .unwrap();

    assert_eq!(keys(&appended).len(), 2);
}

#[tokio::test]
async fn zero_window_turns_deduplication_off() {
    let spool = SqliteSpool::in_memory(SqliteSpoolOptions {
        dedup_window: Duration::ZERO,
        ..SqliteSpoolOptions::default()
    })
    .unwrap();

    let appended = spool
        .append(vec![message(Some("a"), "u1"), message(Some("a"), "u1")])
        .await
        .unwrap();

    assert_eq!(keys(&appended).len(), 2);
    assert_eq!(spool.counts().await.unwrap().dedup_entries, 0);
}

#[tokio::test]
async fn expired_id_is_accepted_again() {
    let spool = SqliteSpool::in_memory(SqliteSpoolOptions {
        dedup_window: Duration::from_millis(30),
        ..SqliteSpoolOptions::default()
    })
    .unwrap();
    spool.append(vec![message(Some("a"), "u1")]).await.unwrap();

    tokio::time::sleep(Duration::from_millis(60)).await;
    let again = spool.append(vec![message(Some("a"), "u1")]).await.unwrap();

    assert!(matches!(again[0], Appended::Queued(_)));
}

#[tokio::test]
async fn settle_removes_and_buries_messages() {
    let spool = memory();
    let appended = keys(
        &spool
            .append(vec![message(Some("a"), "u1"), message(Some("b"), "u2")])
            .await
            .unwrap(),
    );
    spool.lease(10).await.unwrap();

    spool
        .settle(vec![
            Settlement::Delivered(appended[0]),
            Settlement::DeadLetter {
                key: appended[1],
                failure: rejected(),
                attempts: 1,
            },
        ])
        .await
        .unwrap();

    let counts = spool.counts().await.unwrap();
    assert_eq!(counts.pending, 0);
    assert_eq!(counts.dead_letters, 1);
    let dead = spool
        .dead_letters(DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id.as_deref(), Some("b"));
    assert_eq!(dead[0].named_user, "u2");
    assert_eq!(dead[0].attempts, 1);
    assert_eq!(dead[0].failure, rejected());
    assert_eq!(
        dead[0].message,
        json!({"type": "track", "userId": "u2", "messageId": "b"})
    );
}

#[tokio::test]
async fn released_message_is_leased_again() {
    let spool = memory();
    let appended = keys(
        &spool
            .append(vec![message(Some("a"), "u1"), message(Some("b"), "u1")])
            .await
            .unwrap(),
    );
    spool.lease(10).await.unwrap();

    spool
        .settle(vec![Settlement::Released(appended[0])])
        .await
        .unwrap();
    let again = spool.lease(10).await.unwrap();

    assert_eq!(
        again.iter().map(|m| m.key).collect::<Vec<_>>(),
        [appended[0]]
    );
}

#[tokio::test]
async fn failures_are_counted_on_the_message() {
    let spool = memory();
    let appended = keys(&spool.append(vec![message(Some("a"), "u1")]).await.unwrap());
    spool.lease(10).await.unwrap();

    spool
        .record_failures(appended.clone(), "status 503".into())
        .await
        .unwrap();
    spool
        .record_failures(appended.clone(), "status 503".into())
        .await
        .unwrap();
    spool
        .settle(vec![Settlement::Released(appended[0])])
        .await
        .unwrap();

    assert_eq!(spool.lease(10).await.unwrap()[0].attempts, 2);
}

#[tokio::test]
async fn replay_moves_dead_letters_back_to_pending() {
    let spool = memory();
    let appended = keys(
        &spool
            .append(vec![
                message(Some("a"), "u1"),
                message(Some("b"), "u1"),
                message(Some("c"), "u1"),
            ])
            .await
            .unwrap(),
    );
    spool.lease(10).await.unwrap();
    let dead = |key| Settlement::DeadLetter {
        key,
        failure: rejected(),
        attempts: 4,
    };
    spool
        .settle(appended.iter().copied().map(dead).collect())
        .await
        .unwrap();
    let ids: Vec<i64> = spool
        .dead_letters(DeadLetterFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|dead| dead.id)
        .collect();

    let replayed = spool
        .replay(DeadLetterFilter {
            ids: vec![ids[0], ids[2]],
            ..DeadLetterFilter::default()
        })
        .await
        .unwrap();

    assert_eq!(replayed, 2);
    let leased = spool.lease(10).await.unwrap();
    let ids_leased: Vec<Option<&str>> = leased.iter().map(|m| m.message_id.as_deref()).collect();
    assert_eq!(ids_leased, [Some("a"), Some("c")]);
    assert!(leased.iter().all(|m| m.attempts == 0));
    let left = spool
        .dead_letters(DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].message_id.as_deref(), Some("b"));
}

#[tokio::test]
async fn dead_letter_filter_limits_and_selects_reason() {
    let spool = memory();
    let appended = keys(
        &spool
            .append(vec![
                message(Some("a"), "u1"),
                message(Some("b"), "u1"),
                message(Some("c"), "u1"),
            ])
            .await
            .unwrap(),
    );
    spool.lease(10).await.unwrap();
    let mut exhausted = rejected();
    exhausted.reason = DeadLetterReason::RetriesExhausted;
    spool
        .settle(vec![
            Settlement::DeadLetter {
                key: appended[0],
                failure: rejected(),
                attempts: 1,
            },
            Settlement::DeadLetter {
                key: appended[1],
                failure: exhausted,
                attempts: 9,
            },
            Settlement::DeadLetter {
                key: appended[2],
                failure: rejected(),
                attempts: 1,
            },
        ])
        .await
        .unwrap();

    let limited = spool
        .dead_letters(DeadLetterFilter {
            limit: Some(2),
            ..DeadLetterFilter::default()
        })
        .await
        .unwrap();
    let by_reason = spool
        .dead_letters(DeadLetterFilter {
            reason: Some(DeadLetterReason::RetriesExhausted),
            ..DeadLetterFilter::default()
        })
        .await
        .unwrap();

    let ids = |letters: &[DeadLetter]| -> Vec<String> {
        letters
            .iter()
            .map(|letter| letter.message_id.clone().unwrap())
            .collect()
    };
    assert_eq!(ids(&limited), ["a", "b"]);
    assert_eq!(ids(&by_reason), ["b"]);
}

#[tokio::test]
async fn file_spool_keeps_messages_and_ids_across_restarts() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("nested/spool.db");

    let spool = SqliteSpool::open(&path, SqliteSpoolOptions::default()).unwrap();
    spool
        .append(vec![message(Some("a"), "u1"), message(Some("b"), "u2")])
        .await
        .unwrap();
    // Leased but never settled, as when the process is killed mid-delivery.
    spool.lease(1).await.unwrap();
    spool.close().await;

    let reopened = SqliteSpool::open(&path, SqliteSpoolOptions::default()).unwrap();
    let duplicate = reopened
        .append(vec![message(Some("a"), "u1")])
        .await
        .unwrap();
    let leased = reopened.lease(10).await.unwrap();

    assert_eq!(duplicate, [Appended::Duplicate]);
    let ids: Vec<Option<&str>> = leased.iter().map(|m| m.message_id.as_deref()).collect();
    assert_eq!(ids, [Some("a"), Some("b")]);
    reopened.close().await;
}

#[tokio::test]
async fn second_delivering_process_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spool.db");
    let spool = SqliteSpool::open(&path, SqliteSpoolOptions::default()).unwrap();

    let error = SqliteSpool::open(&path, SqliteSpoolOptions::default()).unwrap_err();

    assert!(matches!(error, SpoolError::InUse { .. }), "{error:?}");
    assert!(error.to_string().contains("--spool"), "{error}");
    spool.close().await;
    SqliteSpool::open(&path, SqliteSpoolOptions::default())
        .unwrap()
        .close()
        .await;
}

#[tokio::test]
async fn admin_spool_reads_but_cannot_lease() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("spool.db");
    let service = SqliteSpool::open(&path, SqliteSpoolOptions::default()).unwrap();
    service
        .append(vec![message(Some("a"), "u1")])
        .await
        .unwrap();

    let admin = SqliteSpool::open_for_admin(&path, SqliteSpoolOptions::default()).unwrap();

    assert_eq!(admin.counts().await.unwrap().pending, 1);
    assert!(matches!(
        admin.lease(1).await.unwrap_err(),
        SpoolError::NotForDelivery { .. }
    ));
    admin.close().await;
    service.close().await;
}

#[tokio::test]
async fn admin_open_of_a_missing_file_names_it() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("missing.db");

    let error = SqliteSpool::open_for_admin(&path, SqliteSpoolOptions::default()).unwrap_err();

    assert!(format!("{:?}", error).contains("missing.db"), "{error:?}");
    assert!(!path.exists());
}

#[tokio::test]
async fn closed_spool_reports_closed() {
    let spool = memory();

    spool.close().await;

    assert!(matches!(
        spool.counts().await.unwrap_err(),
        SpoolError::Closed
    ));
}

#[test]
fn pruning_deletes_only_expired_ids() {
    let conn = Connection::open_in_memory().unwrap();
    store::migrate(&conn).unwrap().unwrap();
    let window = Duration::from_secs(60);
    let then: DateTime<Utc> = "2026-05-02T12:00:00Z".parse().unwrap();
    let later = then + chrono::Duration::seconds(30);
    store::append(&conn, &[message(Some("old"), "u1")], window, then).unwrap();
    store::append(&conn, &[message(Some("new"), "u1")], window, later).unwrap();

    let more = store::prune_dedup(&conn, window, then + chrono::Duration::seconds(75)).unwrap();

    assert!(!more);
    let remaining: Vec<String> = conn
        .prepare("SELECT message_id FROM dedup ORDER BY seq")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(remaining, ["new"]);
}
