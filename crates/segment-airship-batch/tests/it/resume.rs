//! Interrupting a run and running the same command again.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{command, delivered_seqs, mock, ndjson, run, write};

const MESSAGES: u64 = 4_000;
const WINDOW: u64 = 300;

/// Messages the checkpoint counts as done, or 0 before the first checkpoint.
fn checkpointed(state: &Path) -> u64 {
    let Ok(text) = std::fs::read(state.join("checkpoint.json")) else {
        return 0;
    };
    // A reader may see the file between two writes only as a whole, because it is renamed in.
    let checkpoint: serde_json::Value = serde_json::from_slice(&text).unwrap();
    checkpoint["inputs"]
        .as_object()
        .map(|inputs| {
            inputs
                .values()
                .filter_map(|input| input["messages"].as_u64())
                .sum()
        })
        .unwrap_or(0)
}

/// Starts a slow run, waits until its checkpoint passes `threshold` messages, and stops it with
/// `stop`. Returns the exit status.
async fn interrupted_run(
    mock: &airship_mock::RunningMock,
    state: &Path,
    input: &Path,
    stop: impl FnOnce(&mut tokio::process::Child),
) -> std::process::ExitStatus {
    mock.mock().set_latency(Duration::from_millis(20));
    let mut child = command(mock, state)
        .args([
            "--window",
            &WINDOW.to_string(),
            "--flush-size",
            "25",
            "--concurrency",
            "2",
        ])
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait (polling, not asserting on time) for the run to be well under way.
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended before it could be interrupted: {status}");
        }
        if checkpointed(state) >= 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop(&mut child);
    let status = child.wait().await.unwrap();
    mock.mock().set_latency(Duration::ZERO);
    status
}

/// Asserts every message arrived at least once and returns how many arrived more than once.
fn duplicates(mock: &airship_mock::RunningMock) -> u64 {
    let seen = delivered_seqs(mock);
    for seq in 0..MESSAGES {
        assert!(
            seen.contains_key(&seq),
            "message {seq} never reached the mock"
        );
    }
    assert_eq!(seen.len() as u64, MESSAGES);
    seen.values().map(|count| count - 1).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_kill_sends_nothing_twice_beyond_window() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let input = write(dir.path(), "events.ndjson", ndjson(MESSAGES));

    let killed = interrupted_run(&mock, &state, &input, |child| {
        child.start_kill().unwrap();
    })
    .await;
    assert!(!killed.success(), "SIGKILL ends the run: {killed}");
    let done_before = checkpointed(&state);
    assert!(done_before < MESSAGES, "{done_before}");

    let resumed = run(command(&mock, &state)
        .args(["--window", &WINDOW.to_string()])
        .arg(&input))
    .await;

    assert_eq!(resumed.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains("Resuming input from the checkpoint"),
        "{stderr}"
    );
    let duplicates = duplicates(&mock);
    println!("messages delivered twice after kill -9: {duplicates} (window {WINDOW})");
    assert!(duplicates <= WINDOW, "{duplicates} duplicates");
    assert_eq!(checkpointed(&state), MESSAGES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_interrupt_signal() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let input = write(dir.path(), "events.ndjson", ndjson(MESSAGES));

    let interrupted = interrupted_run(&mock, &state, &input, |child| {
        let pid = child.id().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    })
    .await;
    assert_eq!(interrupted.code(), Some(130));

    let resumed = run(command(&mock, &state).arg(&input)).await;

    assert_eq!(resumed.status.code(), Some(0));
    let duplicates = duplicates(&mock);
    println!("messages delivered twice after Ctrl-C: {duplicates} (window {WINDOW})");
    assert!(duplicates <= WINDOW, "{duplicates} duplicates");
}
