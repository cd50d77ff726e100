//! Runs the binary with a clean environment and writes input files.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// Variables the binary reads; removed so the caller's environment cannot change a result.
const CLEARED_VARIABLES: [&str; 5] = [
    "AIRSHIP_APP_KEY",
    "AIRSHIP_ACCESS_TOKEN",
    "AIRSHIP_DATA_CENTER",
    "AIRSHIP_URL",
    "RUST_LOG",
];

/// Builds a command for the binary with `args` and a clean environment.
pub(crate) fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_segment-airship"));
    command.args(args);
    for variable in CLEARED_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// Runs `command` with `stdin` as standard input.
pub(crate) fn run(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    // A command that fails before reading its input closes the pipe; its output is what matters.
    if let Err(error) = written {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

/// Writes `contents` to a new file under the test target's temporary directory.
pub(crate) fn input_file(name: &str, contents: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Standard output as one JSON value per line.
pub(crate) fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
