//! `cargo xtask bench-batch`: the batch front end's rate and peak memory on a generated NDJSON
//! file, in a dry run and delivering to the mock Airship on loopback, printed as Markdown.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::Value;

use crate::{run, workspace_root};

/// Distinct named users the generated messages write to.
const USERS: u64 = 10_000;
/// "Now" of the dry run, so its output does not depend on the day.
const DRY_RUN_NOW: &str = "2026-05-02T12:00:00Z";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Messages in the generated NDJSON file.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,

    /// Messages of the delivery run: the first ones of the generated file. The mock keeps every
    /// request it answers, so its own work per request grows during a long run.
    #[arg(long, default_value_t = 1_000_000)]
    delivery_messages: u64,

    /// `--concurrency` of the delivery run.
    #[arg(long, default_value_t = 8)]
    concurrency: u16,
}

/// Wall time, CPU time and peak resident memory of one run.
struct Measured {
    elapsed: Duration,
    /// User plus system CPU seconds, when `/usr/bin/time` reported them.
    cpu_secs: Option<f64>,
    peak_rss_kib: u64,
}

impl Args {
    pub(crate) fn exec(self) -> anyhow::Result<()> {
        let root = workspace_root();
        run(
            &root,
            "cargo",
            &[
                "build",
                "--release",
                "--locked",
                "--package",
                "segment-airship-batch",
                "--package",
                "airship-mock",
            ],
        )?;
        let release = root.join("target/release");
        let work = root.join("target/bench-batch");
        std::fs::create_dir_all(&work)
            .with_context(|| format!("failed to create {}", work.display()))?;

        let input = work.join("events.ndjson");
        println!(
            "Generating {} messages in {}",
            self.messages,
            input.display()
        );
        generate(&input, self.messages)?;
        let input_bytes = std::fs::metadata(&input)?.len();
        let delivery_input = if self.delivery_messages < self.messages {
            let path = work.join("delivery.ndjson");
            generate(&path, self.delivery_messages)?;
            path
        } else {
            input.clone()
        };

        println!("Dry run");
        let dry_run = measure(
            &release.join("segment-airship-batch"),
            &[
                "--dry-run".into(),
                "--no-progress".into(),
                "--now".into(),
                DRY_RUN_NOW.into(),
                input.display().to_string(),
            ],
            &work.join("dry-run"),
            Stdio::null(),
        )?;

        println!("Delivery to the mock");
        let address = free_address()?;
        let mut mock = Command::new(release.join("airship-mock"))
            .args(["--listen", &address])
            .stdout(Stdio::null())
            .stderr(File::create(work.join("mock.log"))?)
            .spawn()
            .context("failed to start airship-mock")?;
        let delivered = wait_for_port(&address).and_then(|()| {
            measure(
                &release.join("segment-airship-batch"),
                &[
                    "--app-key".into(),
                    "mock-app-key".into(),
                    "--access-token".into(),
                    "mock-access-token".into(),
                    "--airship-url".into(),
                    format!("http://{address}"),
                    "--state-dir".into(),
                    work.join("state").display().to_string(),
                    "--restart".into(),
                    "--no-progress".into(),
                    "--concurrency".into(),
                    self.concurrency.to_string(),
                    "--report".into(),
                    work.join("report.json").display().to_string(),
                    delivery_input.display().to_string(),
                ],
                &work.join("delivery"),
                Stdio::null(),
            )
        });
        stop(&mut mock);
        let delivered = delivered?;
        let report: Value = serde_json::from_slice(&std::fs::read(work.join("report.json"))?)
            .context("the delivery run's report is not JSON")?;

        println!(
            "\n{}",
            self.markdown(input_bytes, &dry_run, &delivered, &report)
        );
        Ok(())
    }

    fn markdown(
        &self,
        input_bytes: u64,
        dry_run: &Measured,
        delivered: &Measured,
        report: &Value,
    ) -> String {
        let row = |name: String, messages: u64, measured: &Measured| {
            let cpu = measured
                .cpu_secs
                .map(|secs| format!("{secs:.1} s"))
                .unwrap_or_else(|| "not measured".to_owned());
            format!(
                "| {name} | {messages} | {:.1} s | {:.0} | {cpu} | {:.1} MiB |\n",
                measured.elapsed.as_secs_f64(),
                messages as f64 / measured.elapsed.as_secs_f64(),
                measured.peak_rss_kib as f64 / 1024.0,
            )
        };
        format!(
            "| run | messages | wall time | messages/s | CPU time of the batch process | peak RSS |\n\
             |---|---|---|---|---|---|\n{}{}\n\
             Input: {:.0} MiB of NDJSON for {} messages. Delivery outcomes: {}; Airship requests: {}.",
            row(
                "dry run (`--dry-run`, output to /dev/null)".to_owned(),
                self.messages,
                dry_run
            ),
            row(
                format!("delivery to the mock (`--concurrency {}`)", self.concurrency),
                self.delivery_messages.min(self.messages),
                delivered
            ),
            input_bytes as f64 / (1024.0 * 1024.0),
            self.messages,
            report["counts"],
            report["airship"]["requests"],
        )
    }
}

/// Writes `count` messages: half `track`, four in ten `identify` with a boolean trait and a
/// first name, and one in ten `page` (skipped by the mapping).
fn generate(path: &Path, count: u64) -> anyhow::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for seq in 0..count {
        let user = seq % USERS;
        match seq % 10 {
            0..=4 => writeln!(
                out,
                r#"{{"type":"track","messageId":"bench-{seq}","userId":"user-{user}","event":"Order Completed","properties":{{"order_id":"o-{seq}","revenue":{}.5,"currency":"USD"}},"context":{{"library":{{"name":"analytics-node"}}}}}}"#,
                seq % 100
            )?,
            5..=8 => writeln!(
                out,
                r#"{{"type":"identify","messageId":"bench-{seq}","userId":"user-{user}","traits":{{"newsletter":{},"first_name":"Name{user}"}},"context":{{"library":{{"name":"analytics-node"}}}}}}"#,
                seq % 2 == 0
            )?,
            _ => writeln!(
                out,
                r#"{{"type":"page","messageId":"bench-{seq}","userId":"user-{user}","name":"Home"}}"#
            )?,
        }
    }
    out.flush()?;
    Ok(())
}

/// Runs `program` with `args`, and measures its wall time and peak RSS with `/usr/bin/time -v`
/// when present, else by polling VmHWM in /proc.
fn measure(
    program: &Path,
    args: &[String],
    work: &Path,
    stdout: Stdio,
) -> anyhow::Result<Measured> {
    std::fs::create_dir_all(work)?;
    let time = Path::new("/usr/bin/time");
    let time_output = work.join("time.txt");
    let mut command = if time.exists() {
        let mut command = Command::new(time);
        command.arg("-v").arg("-o").arg(&time_output).arg(program);
        command
    } else {
        Command::new(program)
    };
    let started = Instant::now();
    let mut child = command
        .args(args)
        .stdout(stdout)
        .stderr(File::create(work.join("run.log"))?)
        .spawn()
        .with_context(|| format!("failed to start {}", program.display()))?;
    let mut polled_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if !time.exists() {
            polled_kib = polled_kib.max(vm_hwm_kib(child.id()).unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    if !status.success() {
        bail!(
            "{} failed with {status}; see {}",
            program.display(),
            work.join("run.log").display()
        );
    }
    if !time.exists() {
        return Ok(Measured {
            elapsed,
            cpu_secs: None,
            peak_rss_kib: polled_kib,
        });
    }
    let text = std::fs::read_to_string(&time_output)?;
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(name))
            .map(str::trim)
            .with_context(|| format!("/usr/bin/time -v printed no `{name}`"))
    };
    let user: f64 = field("User time (seconds): ")?.parse()?;
    let system: f64 = field("System time (seconds): ")?.parse()?;
    Ok(Measured {
        elapsed,
        cpu_secs: Some(user + system),
        peak_rss_kib: field("Maximum resident set size (kbytes): ")?.parse()?,
    })
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn free_address() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.to_string())
}

fn wait_for_port(address: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(address).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("the mock did not start listening on {address} within 10 s")
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
