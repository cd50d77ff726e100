//! Project automation, run as `cargo xtask <command>`.

mod bench_batch;
mod bench_delivery;
mod ci;
mod contract;
mod test;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Project automation for segment-airship")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install the end-to-end test dependencies (npm) and run every test of the workspace.
    Test(test::Args),
    /// Run what CI runs: format check, clippy with warnings denied, then `test`.
    Ci(ci::Args),
    /// Run the Airship client's contract suite: against an in-process mock, or against a real
    /// Airship project when AIRSHIP_CONTRACT_BASE_URL, _APP_KEY and _ACCESS_TOKEN are set.
    Contract(contract::Args),
    /// Load-test the HTTP service with its durable spool against the mock Airship on loopback,
    /// in release mode, and print the results as Markdown for docs/benchmarks.md.
    BenchDelivery(bench_delivery::Args),
    /// Measure the batch front end (dry run and delivery to the mock) on a generated NDJSON file,
    /// in release mode, and print the results as Markdown for docs/benchmarks.md.
    BenchBatch(bench_batch::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Task::Test(args) => args.exec(),
        Task::Ci(args) => args.exec(),
        Task::Contract(args) => args.exec(),
        Task::BenchDelivery(args) => args.exec(),
        Task::BenchBatch(args) => args.exec(),
    }
}

/// Returns the workspace root: the parent of this crate's folder.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits one folder below the workspace root")
        .to_path_buf()
}

/// Runs `program` with `args` in `dir`, printing the command first, and fails on a non-zero exit.
fn run(dir: &Path, program: &str, args: &[&str]) -> anyhow::Result<()> {
    println!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .with_context(|| format!("failed to start `{program}`; is it installed and on PATH?"))?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}
