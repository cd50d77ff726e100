//! `cargo xtask bench-delivery`: a load run of the HTTP service with its durable spool against
//! the mock Airship on loopback, printing rates, latencies and memory as Markdown.
//!
//! Runs, each on a fresh spool:
//! 1. batches of 100 messages with delivery to the mock: ingest rate, time to `200`, and the
//!    end-to-end delivery rate until the spool is empty;
//! 2. single-message requests as fast as the service responds, then paced at half that rate;
//! 3. batches paced at half the rate of run 1;
//! 4. a backlog of messages with Airship down (connections refused): ingest rate and peak RSS;
//! 5. batches paced at half the rate of run 4, Airship still down: time to `200` of the spool
//!    alone.
//!
//! The load generator speaks HTTP/1.1 over plain keep-alive sockets on a single-threaded runtime,
//! so it takes as little of the two cores as possible. Every run is bounded in messages and time.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::{run, workspace_root};

/// Write key the benchmarked service accepts.
const WRITE_KEY: &str = "bench-write-key";
/// `Authorization` header value for [`WRITE_KEY`]: base64 of `bench-write-key:`.
const AUTHORIZATION: &str = "Basic YmVuY2gtd3JpdGUta2V5Og==";
/// Messages per `/v1/batch` request.
const BATCH_SIZE: u64 = 100;
/// Distinct named users the messages write to.
const USERS: u64 = 10_000;
/// Maximum time a single run may take before the benchmark gives up.
const RUN_DEADLINE: Duration = Duration::from_secs(600);

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Messages sent through /v1/batch in the run with delivery.
    #[arg(long, default_value_t = 300_000)]
    batch_messages: u64,

    /// Single-message requests in the closed-loop run.
    #[arg(long, default_value_t = 60_000)]
    single_messages: u64,

    /// Messages in the backlog run, with Airship down.
    #[arg(long, default_value_t = 1_000_000)]
    backlog_messages: u64,

    /// Connections the load generator keeps open.
    #[arg(long, default_value_t = 8)]
    connections: usize,

    /// Length in seconds of each paced run.
    #[arg(long, default_value_t = 10)]
    paced_secs: u64,

    /// Set when this process is the release build started by the debug one.
    #[arg(long, hide = true)]
    in_release: bool,
}

impl Args {
    pub(crate) fn exec(self) -> anyhow::Result<()> {
        let root = workspace_root();
        if cfg!(debug_assertions) && !self.in_release {
            // A debug load generator would measure itself; run the release build instead.
            let forwarded = self.forwarded_args();
            let mut args = vec![
                "run",
                "--quiet",
                "--release",
                "--locked",
                "--package",
                "xtask",
                "--",
                "bench-delivery",
            ];
            args.extend(forwarded.iter().map(String::as_str));
            args.push("--in-release");
            return run(&root, "cargo", &args);
        }

        run(
            &root,
            "cargo",
            &[
                "build",
                "--release",
                "--locked",
                "--package",
                "segment-airship-http",
                "--package",
                "airship-mock",
            ],
        )?;
        let binaries = root.join("target/release");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("failed to start the load generator's runtime")?;
        let report = runtime.block_on(self.measure(&binaries))?;
        println!("{}", report.markdown(&self));
        Ok(())
    }

    fn forwarded_args(&self) -> Vec<String> {
        vec![
            format!("--batch-messages={}", self.batch_messages),
            format!("--single-messages={}", self.single_messages),
            format!("--backlog-messages={}", self.backlog_messages),
            format!("--connections={}", self.connections),
            format!("--paced-secs={}", self.paced_secs),
        ]
    }

    async fn measure(&self, binaries: &Path) -> anyhow::Result<Report> {
        let work = tempfile::tempdir().context("failed to create a temporary directory")?;
        let mock = Mock::start(binaries)?;
        let paced = Duration::from_secs(self.paced_secs);

        println!("# run 1: batches with delivery to the mock");
        let service = Service::start(binaries, &work.path().join("delivery"), &mock.base_url)?;
        service.wait_healthy().await?;
        let batches = load(
            &service,
            Shape::Batch,
            self.batch_messages,
            self.connections,
            None,
            Some(&mock),
        )
        .await?;
        // From the first request of the run to the last settlement.
        let delivery = batches.elapsed
            + service
                .wait_delivered(batches.messages, Some(&mock))
                .await?;
        let delivery_rss = service.peak_rss_kib()?;
        let delivery_cpu = service.cpu_time()?;
        let mock_cpu = cpu_time(mock.child.id())?;
        service.stop()?;

        println!("# run 2: single-message requests");
        let service = Service::start(binaries, &work.path().join("single"), &mock.base_url)?;
        service.wait_healthy().await?;
        let singles = load(
            &service,
            Shape::Single,
            self.single_messages,
            self.connections,
            None,
            Some(&mock),
        )
        .await?;
        let singles_cpu = service.cpu_time()?;
        let half_single = singles.rate() / 2.0;
        let paced_count = (half_single * paced.as_secs_f64()) as u64;
        println!("# run 2b: single messages paced at {half_single:.0}/s");
        let paced_singles = load(
            &service,
            Shape::Single,
            paced_count,
            self.connections,
            Some(half_single),
            Some(&mock),
        )
        .await?;
        service.stop()?;

        println!("# run 3: batches paced at half the rate of run 1");
        let service = Service::start(binaries, &work.path().join("paced"), &mock.base_url)?;
        service.wait_healthy().await?;
        let half_batch = batches.rate() / 2.0;
        let paced_count =
            ((half_batch * paced.as_secs_f64()) as u64 / BATCH_SIZE).max(1) * BATCH_SIZE;
        let paced_batches = load(
            &service,
            Shape::Batch,
            paced_count,
            self.connections,
            Some(half_batch),
            Some(&mock),
        )
        .await?;
        service.stop()?;
        mock.stop()?;

        println!("# run 4: backlog with Airship down");
        let refused = closed_port_url()?;
        let service = Service::start(binaries, &work.path().join("backlog"), &refused)?;
        service.wait_healthy().await?;
        let backlog = load(
            &service,
            Shape::Batch,
            self.backlog_messages,
            self.connections,
            None,
            None,
        )
        .await?;
        let backlog_rss = service.peak_rss_kib()?;
        let current_rss = service.current_rss_kib()?;
        let backlog_cpu = service.cpu_time()?;
        let spool_bytes = directory_size(&work.path().join("backlog"));
        service.stop()?;

        println!("# run 5: batches paced at half the backlog rate, Airship down");
        let service = Service::start(binaries, &work.path().join("paced-down"), &refused)?;
        service.wait_healthy().await?;
        let half_backlog = backlog.rate() / 2.0;
        let paced_count =
            ((half_backlog * paced.as_secs_f64()) as u64 / BATCH_SIZE).max(1) * BATCH_SIZE;
        let paced_down = load(
            &service,
            Shape::Batch,
            paced_count,
            self.connections,
            Some(half_backlog),
            None,
        )
        .await?;
        service.stop()?;

        Ok(Report {
            batches,
            delivery,
            delivery_rss,
            delivery_cpu,
            mock_cpu,
            singles_cpu,
            backlog_cpu,
            singles,
            paced_singles,
            paced_batches,
            backlog,
            backlog_rss,
            backlog_current_rss: current_rss,
            paced_down,
            spool_bytes,
        })
    }
}

/// The mock Airship binary on a loopback port.
struct Mock {
    child: Child,
    base_url: String,
}

impl Mock {
    fn start(binaries: &Path) -> anyhow::Result<Mock> {
        let address = free_address()?;
        let child = Command::new(binaries.join("airship-mock"))
            .args(["--listen", &address.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("failed to start airship-mock")?;
        Ok(Mock {
            child,
            base_url: format!("http://{address}"),
        })
    }

    /// Clears the mock's recorded requests and named users, which otherwise grow with every
    /// request and slow it down.
    async fn reset(&self) {
        let address = self.base_url.trim_start_matches("http://");
        if let Ok(mut connection) = Connection::open(address).await {
            let _ = connection
                .request("POST", "/__mock/reset", b"", false)
                .await;
        }
    }

    fn stop(mut self) -> anyhow::Result<()> {
        terminate(&mut self.child)
    }
}

/// The service binary with its own spool directory.
struct Service {
    child: Child,
    address: SocketAddr,
}

impl Service {
    fn start(binaries: &Path, spool_dir: &Path, airship_url: &str) -> anyhow::Result<Service> {
        let address = free_address()?;
        let child = Command::new(binaries.join("segment-airship-http"))
            .args(["--listen", &address.to_string()])
            .args(["--write-key", WRITE_KEY])
            .args(["--spool", &spool_dir.join("spool.db").display().to_string()])
            .args(["--airship-url", airship_url])
            .args([
                "--app-key",
                "mock-app-key",
                "--access-token",
                "mock-access-token",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start segment-airship-http")?;
        Ok(Service { child, address })
    }

    async fn wait_healthy(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if self.health().await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the service at {} did not start within 30 s", self.address)
    }

    async fn health(&self) -> anyhow::Result<Value> {
        let mut connection = Connection::open(&self.address.to_string()).await?;
        let (status, body) = connection.request("GET", "/health", b"", false).await?;
        if status != 200 {
            bail!("health returned {status}");
        }
        Ok(serde_json::from_slice(&body)?)
    }

    /// Waits until `expected` messages are delivered or dead, resetting the mock meanwhile, and
    /// returns how long that took.
    async fn wait_delivered(&self, expected: u64, mock: Option<&Mock>) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            let health = self.health().await?;
            let counters = &health["delivery"]["counters"];
            let settled = counters["delivered"].as_u64().unwrap_or(0)
                + counters["dead_lettered"].as_u64().unwrap_or(0);
            if settled >= expected {
                let dead = counters["dead_lettered"].as_u64().unwrap_or(0);
                if dead > 0 {
                    println!("warning: {dead} messages became dead letters");
                }
                return Ok(started.elapsed());
            }
            if started.elapsed() > RUN_DEADLINE {
                bail!("only {settled} of {expected} messages settled within {RUN_DEADLINE:?}");
            }
            if let Some(mock) = mock {
                mock.reset().await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        proc_status_kib(self.child.id(), "VmHWM:")
    }

    /// Returns the CPU time the service used so far, user and system.
    fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time(self.child.id())
    }

    fn current_rss_kib(&self) -> anyhow::Result<u64> {
        proc_status_kib(self.child.id(), "VmRSS:")
    }

    fn stop(mut self) -> anyhow::Result<()> {
        terminate(&mut self.child)
    }
}

/// Sends SIGTERM, so the process shuts down as an operator would stop it, and waits.
fn terminate(child: &mut Child) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .context("failed to run kill")?;
    if !status.success() {
        child.kill().context("failed to kill the child process")?;
    }
    child
        .wait()
        .context("failed to wait for the child process")?;
    Ok(())
}

/// Returns the user and system CPU time of process `pid` from `/proc/<pid>/stat`.
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("failed to read /proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may contain spaces; utime and
    // stime are fields 14 and 15 of the whole line.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks =
        |index: usize| -> u64 { fields.get(index).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let ticks_per_second: f64 = command_output("getconf", &["CLK_TCK"])
        .parse()
        .unwrap_or(100.0);
    Ok(Duration::from_secs_f64(
        (ticks(11) + ticks(12)) as f64 / ticks_per_second,
    ))
}

fn proc_status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("failed to read /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

fn free_address() -> anyhow::Result<SocketAddr> {
    let listener = StdListener::bind("127.0.0.1:0").context("failed to find a free port")?;
    Ok(listener.local_addr()?)
}

/// Returns a URL on a loopback port nothing listens on, so every connection is refused.
fn closed_port_url() -> anyhow::Result<String> {
    Ok(format!("http://{}", free_address()?))
}

fn directory_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}

/// One keep-alive HTTP/1.1 connection to a loopback server.
struct Connection {
    stream: BufReader<TcpStream>,
    address: String,
}

impl Connection {
    async fn open(address: &str) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream: BufReader::new(stream),
            address: address.to_owned(),
        })
    }

    /// Sends one request and reads the whole response; returns the status and the body.
    async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
        authorized: bool,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.address,
            body.len()
        );
        if authorized {
            head.push_str(&format!("Authorization: {AUTHORIZATION}\r\n"));
        }
        head.push_str("\r\n");
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;

        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| invalid_data(format!("bad status line {line:?}")))?;
        let mut length = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(invalid_data("connection closed in the headers".into()));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value
                        .trim()
                        .parse()
                        .map_err(|_| invalid_data(header.into()))?;
                }
            }
        }
        let mut response = vec![0; length];
        self.stream.read_exact(&mut response).await?;
        Ok((status, response))
    }
}

fn invalid_data(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `/v1/batch` with [`BATCH_SIZE`] messages per request.
    Batch,
    /// `/v1/track` or `/v1/identify`, one message per request.
    Single,
}

/// Builds one Segment message: three tracks for every identify, spread over [`USERS`] users.
fn message(run: u64, seq: u64) -> String {
    let user = seq % USERS;
    if seq.is_multiple_of(4) {
        format!(
            r#"{{"type":"identify","messageId":"r{run}-{seq}","userId":"user-{user}","traits":{{"vip":{},"newsletter":true,"first_name":"Name {user}","city":"Berlin"}}}}"#,
            seq.is_multiple_of(8)
        )
    } else {
        format!(
            r#"{{"type":"track","messageId":"r{run}-{seq}","userId":"user-{user}","event":"Order Completed","properties":{{"order_id":"o-{seq}","revenue":19.99,"currency":"EUR","sku":"sku-{}"}}}}"#,
            seq % 97
        )
    }
}

/// Results of one load run.
struct Load {
    messages: u64,
    elapsed: Duration,
    /// Time from the scheduled (paced) or actual (closed-loop) send to the end of the response.
    latencies: Vec<Duration>,
    /// Requests that did not get `200`.
    failures: u64,
}

impl Load {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, fraction: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
        sorted[index]
    }
}

/// Sends `messages` in `shape` over `connections` connections, as fast as the service responds
/// or paced at `rate` messages per second, resetting `mock` every second.
async fn load(
    service: &Service,
    shape: Shape,
    messages: u64,
    connections: usize,
    rate: Option<f64>,
    mock: Option<&Mock>,
) -> anyhow::Result<Load> {
    static RUN: AtomicU64 = AtomicU64::new(0);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    let per_request = match shape {
        Shape::Batch => BATCH_SIZE,
        Shape::Single => 1,
    };
    let requests = messages.div_ceil(per_request);
    let next = Arc::new(AtomicU64::new(0));
    let address = service.address.to_string();
    let started = Instant::now();
    // Request `i` is due at `i / request_rate` seconds after the start.
    let interval = rate.map(|rate| Duration::from_secs_f64(per_request as f64 / rate));

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let next = next.clone();
        let address = address.clone();
        tasks.spawn(async move {
            let mut connection = Connection::open(&address).await?;
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= requests {
                    return Ok::<_, std::io::Error>((latencies, failures));
                }
                let due = interval.map(|interval| started + interval.mul_f64(index as f64));
                if let Some(due) = due {
                    tokio::time::sleep_until(due.into()).await;
                }
                let (path, body) = request_body(shape, run, index);
                let sent = due.unwrap_or_else(Instant::now);
                let (status, _) = connection
                    .request("POST", path, body.as_bytes(), true)
                    .await?;
                latencies.push(sent.elapsed());
                if status != 200 {
                    failures += 1;
                }
            }
        });
    }

    let mut last_reset = Instant::now();
    let mut load = Load {
        messages: requests * per_request,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(requests as usize),
        failures: 0,
    };
    loop {
        let joined = tokio::select! {
            joined = tasks.join_next() => joined,
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if let Some(mock) = mock.filter(|_| last_reset.elapsed() > Duration::from_secs(1)) {
                    mock.reset().await;
                    last_reset = Instant::now();
                }
                if started.elapsed() > RUN_DEADLINE {
                    bail!("the load run did not finish within {RUN_DEADLINE:?}");
                }
                continue;
            }
        };
        let Some(joined) = joined else {
            break;
        };
        let (latencies, failures) = joined.context("a load task panicked")??;
        load.latencies.extend(latencies);
        load.failures += failures;
    }
    load.elapsed = started.elapsed();
    println!(
        "  {} messages in {:.2} s: {:.0} messages/s, p50 {:.2} ms, p99 {:.2} ms, {} failed requests",
        load.messages,
        load.elapsed.as_secs_f64(),
        load.rate(),
        millis(load.percentile(0.5)),
        millis(load.percentile(0.99)),
        load.failures
    );
    Ok(load)
}

fn request_body(shape: Shape, run: u64, index: u64) -> (&'static str, String) {
    match shape {
        Shape::Single => {
            let body = message(run, index);
            let path = if index.is_multiple_of(4) {
                "/v1/identify"
            } else {
                "/v1/track"
            };
            (path, body)
        }
        Shape::Batch => {
            let first = index * BATCH_SIZE;
            let messages: Vec<String> = (first..first + BATCH_SIZE)
                .map(|seq| message(run, seq))
                .collect();
            (
                "/v1/batch",
                format!(r#"{{"batch":[{}]}}"#, messages.join(",")),
            )
        }
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

struct Report {
    batches: Load,
    delivery: Duration,
    delivery_rss: u64,
    /// CPU time of the service over run 1: ingest and delivery.
    delivery_cpu: Duration,
    /// CPU time of the mock up to the end of run 1.
    mock_cpu: Duration,
    /// CPU time of the service over the closed-loop single-message run.
    singles_cpu: Duration,
    /// CPU time of the service over the backlog run: ingest only.
    backlog_cpu: Duration,
    singles: Load,
    paced_singles: Load,
    paced_batches: Load,
    backlog: Load,
    backlog_rss: u64,
    backlog_current_rss: u64,
    spool_bytes: u64,
    paced_down: Load,
}

impl Report {
    fn markdown(&self, args: &Args) -> String {
        let mut text = header(args);
        text.push_str(&self.table());
        text.push_str(&self.summary());
        text
    }

    fn table(&self) -> String {
        let row = |name: &str, load: &Load| {
            format!(
                "| {name} | {} | {:.0} | {:.2} | {:.2} | {} |\n",
                load.messages,
                load.rate(),
                millis(load.percentile(0.5)),
                millis(load.percentile(0.99)),
                load.failures
            )
        };
        let mut text = String::new();
        text.push_str("| run | messages | messages/s | p50 ms | p99 ms | failed requests |\n");
        text.push_str("|---|---|---|---|---|---|\n");
        text.push_str(&row("batches of 100, delivery on", &self.batches));
        text.push_str(&row("single messages, delivery on", &self.singles));
        text.push_str(&row(
            "single messages paced at half rate",
            &self.paced_singles,
        ));
        text.push_str(&row("batches paced at half rate", &self.paced_batches));
        text.push_str(&row(
            "batches of 100, Airship down (backlog)",
            &self.backlog,
        ));
        text.push_str(&row(
            "batches paced at half the backlog rate, Airship down",
            &self.paced_down,
        ));
        text
    }

    fn summary(&self) -> String {
        let per_message = |cpu: Duration, messages: u64| cpu.as_secs_f64() * 1e6 / messages as f64;
        let mut text = format!(
            "\nEnd-to-end: {} messages from the first request to the last delivery in {:.2} s = {:.0} messages/s; peak RSS {} MiB.\n",
            self.batches.messages,
            self.delivery.as_secs_f64(),
            self.batches.messages as f64 / self.delivery.as_secs_f64(),
            self.delivery_rss / 1024
        );
        text.push_str(&format!(
            "Service CPU per message: {:.1} µs ingest only (backlog run), {:.1} µs single-message requests with their delivery, {:.1} µs batch ingest plus delivery (run 1; the mock used {:.1} µs more).\n",
            per_message(self.backlog_cpu, self.backlog.messages),
            per_message(self.singles_cpu, self.singles.messages),
            per_message(self.delivery_cpu, self.batches.messages),
            per_message(self.mock_cpu, self.batches.messages),
        ));
        text.push_str(&format!(
            "Backlog: {} messages spooled with Airship down; peak RSS {} MiB, RSS at the end {} MiB; spool files {} MiB.\n",
            self.backlog.messages,
            self.backlog_rss / 1024,
            self.backlog_current_rss / 1024,
            self.spool_bytes / (1024 * 1024)
        ));
        text
    }
}

/// Describes the machine, the time and the command of a run.
fn header(args: &Args) -> String {
    let mut text = format!(
        "Machine: {} cores; `uname -r` {}; `free -g` total {} GiB. Date: {}.\n\n",
        command_output("nproc", &[]),
        command_output("uname", &["-r"]),
        command_output("sh", &["-c", "free -g | awk '/Mem:/ {print $2}'"]),
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
    );
    text.push_str(&format!(
        "Load average at the end: {}.\n\n",
        command_output("cat", &["/proc/loadavg"])
    ));
    text.push_str(&format!(
        "Command: `cargo xtask bench-delivery --batch-messages={} --single-messages={} --backlog-messages={} --connections={} --paced-secs={}`\n\n",
        args.batch_messages, args.single_messages, args.backlog_messages, args.connections, args.paced_secs
    ));
    text
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}
