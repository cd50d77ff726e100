//! The delivery engine: leases spooled messages, delivers them in coalesced flushes with
//! retries, and settles each one as delivered or dead.
//!
//! A dispatcher task leases messages in spool order and hands each to the worker that owns its
//! named user, so one user's messages are delivered in order while different users proceed in
//! parallel. A worker collects a flush (up to `flush_size` messages, or what arrived within
//! `flush_interval`), then runs it through [`flush::run`]: map, coalesce ([`plan`]), send with
//! retries ([`send`]), and settle in the spool. A worker retries a failed request in place, so
//! later messages of its users wait behind it instead of overtaking it.

mod flush;
mod plan;
mod retry;
mod send;
pub(crate) mod stats;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use airship_client::AirshipClient;
use airship_mapping::Settings;
use serde::Serialize;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::spool::{Settlement, Spool, SpoolError, SpooledMessage};
pub use retry::RetryPolicy;
pub use send::AirshipTarget;
use send::RequestSender;
use stats::Counter;
pub use stats::{Stats, StatsSnapshot};

/// How often the dispatcher looks for messages that arrived without a wake-up, such as dead
/// letters replayed by another process.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Settings of the delivery engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Maximum wait for more messages before a worker sends a flush that is not full.
    pub flush_interval: Duration,
    /// Maximum number of messages in one flush.
    pub flush_size: usize,
    /// Workers delivering in parallel. Each owns the named users that hash to it.
    pub workers: usize,
    /// Tag and attribute requests one worker has in flight at once.
    pub request_concurrency: usize,
    pub retry: RetryPolicy,
    /// Wait between attempts while Airship refuses the credentials.
    pub auth_probe_interval: Duration,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            flush_interval: Duration::from_millis(20),
            flush_size: 1_000,
            workers: 4,
            request_concurrency: 8,
            retry: RetryPolicy::default(),
            auth_probe_interval: Duration::from_secs(30),
        }
    }
}

/// Whether the engine is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Running,
    /// Airship refused the credentials; messages wait in the spool.
    PausedUnauthorized,
}

/// State shared by the dispatcher, the workers and every [`EngineHandle`].
#[derive(Debug)]
struct Shared {
    spool: Arc<dyn Spool>,
    sender: RequestSender,
    settings: Arc<Settings>,
    config: EngineConfig,
    /// Signalled when new messages are committed.
    wake: Notify,
    /// Signalled when a worker settles a flush, freeing capacity.
    freed: Notify,
    /// Messages leased and not settled yet.
    in_flight: AtomicUsize,
}

/// A running engine. Stop it with [`Engine::shutdown`].
#[derive(Debug)]
pub struct Engine {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// A cheap handle to a running engine for the front ends.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    shared: Arc<Shared>,
}

impl Engine {
    /// Starts the dispatcher and the workers on the current Tokio runtime.
    pub fn start(
        spool: Arc<dyn Spool>,
        client: Arc<dyn AirshipClient>,
        settings: Arc<Settings>,
        target: AirshipTarget,
        config: EngineConfig,
    ) -> Engine {
        let config = EngineConfig {
            workers: config.workers.max(1),
            flush_size: config.flush_size.max(1),
            ..config
        };
        let sender = RequestSender {
            client,
            spool: Arc::clone(&spool),
            policy: config.retry,
            gate: retry::Gate::default(),
            stats: Arc::new(Stats::default()),
            target,
            auth_probe_interval: config.auth_probe_interval,
        };
        let shared = Arc::new(Shared {
            spool,
            sender,
            settings,
            config,
            wake: Notify::new(),
            freed: Notify::new(),
            in_flight: AtomicUsize::new(0),
        });
        let (shutdown, stopping) = watch::channel(false);

        let mut inboxes = Vec::with_capacity(config.workers);
        let mut tasks = Vec::with_capacity(config.workers + 1);
        for _ in 0..config.workers {
            let (inbox, received) = mpsc::unbounded_channel();
            inboxes.push(inbox);
            tasks.push(tokio::spawn(work(
                Arc::clone(&shared),
                received,
                stopping.clone(),
            )));
        }
        tasks.push(tokio::spawn(dispatch(
            Arc::clone(&shared),
            inboxes,
            stopping,
        )));

        tracing::info!(
            workers = config.workers,
            flush_size = config.flush_size,
            flush_interval_ms = config.flush_interval.as_millis() as u64,
            max_attempts = config.retry.max_attempts,
            max_age_secs = config.retry.max_age.as_secs(),
            "Delivery engine started."
        );
        Engine {
            shared,
            shutdown,
            tasks,
        }
    }

    /// Returns a handle for the front ends.
    pub fn handle(&self) -> EngineHandle {
        EngineHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops leasing, lets requests already sent to Airship finish, releases every message that
    /// is not settled back to the spool, and returns once every task has ended.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "A delivery task panicked; its messages stay in the spool.");
            }
        }
        let stats = self.shared.sender.stats.snapshot();
        tracing::info!(
            queued = stats.queued,
            delivered = stats.delivered,
            dead_lettered = stats.dead_lettered,
            duplicates = stats.duplicates,
            "Delivery engine stopped."
        );
    }
}

impl EngineHandle {
    /// Tells the dispatcher that new messages were committed.
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// Returns the counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.sender.stats.snapshot()
    }

    pub(crate) fn count(&self, counter: Counter, count: u64) {
        self.shared.sender.stats.add(counter, count);
    }

    /// Returns whether the engine is sending or paused.
    pub fn state(&self) -> DeliveryState {
        if self.shared.sender.gate.is_unauthorized() {
            DeliveryState::PausedUnauthorized
        } else {
            DeliveryState::Running
        }
    }

    /// Waits until the spool has no pending message, polling it. For tests and tools; wrap it
    /// in a timeout.
    pub async fn wait_idle(&self) -> Result<(), SpoolError> {
        loop {
            if self.shared.spool.counts().await?.pending == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Returns the worker that owns `named_user`.
fn partition(named_user: &str, workers: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    named_user.hash(&mut hasher);
    (hasher.finish() % workers as u64) as usize
}

/// Leases messages while the workers have capacity and hands each to its user's worker.
async fn dispatch(
    shared: Arc<Shared>,
    inboxes: Vec<mpsc::UnboundedSender<SpooledMessage>>,
    mut shutdown: retry::Shutdown,
) {
    // Two flushes per worker: one being sent and one being collected.
    let capacity = shared.config.workers * shared.config.flush_size * 2;
    let mut lease_failures = 0u32;

    while !*shutdown.borrow() {
        let free = capacity.saturating_sub(shared.in_flight.load(Ordering::SeqCst));
        if free > 0 {
            // One flush at a time, so the storage thread commits incoming calls between leases.
            let limit = free.min(shared.config.flush_size);
            match shared.spool.lease(limit).await {
                Ok(messages) => {
                    lease_failures = 0;
                    let more = messages.len() == limit;
                    shared.in_flight.fetch_add(messages.len(), Ordering::SeqCst);
                    for message in messages {
                        let worker = partition(&message.named_user, inboxes.len());
                        // A worker only stops at shutdown, so a failed send loses nothing: the
                        // message stays in the spool for the next start.
                        let _ = inboxes[worker].send(message);
                    }
                    if more {
                        continue;
                    }
                }
                Err(error) => {
                    lease_failures += 1;
                    if lease_failures.is_power_of_two() {
                        tracing::error!(%error, failures = lease_failures, "Failed to lease messages from the spool; retrying.");
                    }
                    if !retry::sleep(POLL_INTERVAL, &mut shutdown).await {
                        break;
                    }
                    continue;
                }
            }
        }

        tokio::select! {
            () = shared.wake.notified() => {}
            () = shared.freed.notified() => {}
            () = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => break,
        }
    }
}

/// Collects flushes from `inbox` and delivers them until shutdown, then releases what is left.
async fn work(
    shared: Arc<Shared>,
    mut inbox: mpsc::UnboundedReceiver<SpooledMessage>,
    mut shutdown: retry::Shutdown,
) {
    let config = shared.config;
    loop {
        let first = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stopping| *stopping) => None,
            message = inbox.recv() => message,
        };
        let Some(first) = first else {
            break;
        };

        let mut batch = vec![first];
        let deadline = Instant::now() + config.flush_interval;
        while batch.len() < config.flush_size {
            if let Ok(message) = inbox.try_recv() {
                batch.push(message);
                continue;
            }
            tokio::select! {
                message = inbox.recv() => match message {
                    Some(message) => batch.push(message),
                    None => break,
                },
                () = tokio::time::sleep_until(deadline) => break,
                _ = shutdown.wait_for(|stopping| *stopping) => break,
            }
        }

        let count = batch.len();
        let settlements = flush::run(
            &shared.sender,
            &shared.settings,
            config.request_concurrency,
            batch,
            &shutdown,
        )
        .await;
        settle(&shared, settlements, &mut shutdown).await;
        shared.in_flight.fetch_sub(count, Ordering::SeqCst);
        shared.freed.notify_one();
    }

    inbox.close();
    let mut released = Vec::new();
    while let Ok(message) = inbox.try_recv() {
        released.push(Settlement::Released(message.key));
    }
    if !released.is_empty() {
        settle(&shared, released, &mut shutdown).await;
    }
}

/// Writes settlements, retrying while the spool fails. At shutdown it gives up after a few
/// attempts; the messages then stay in the spool and are delivered again after the restart.
async fn settle(shared: &Shared, settlements: Vec<Settlement>, shutdown: &mut retry::Shutdown) {
    const ATTEMPTS_AT_SHUTDOWN: u32 = 3;
    let mut failures = 0u32;
    loop {
        let Err(error) = shared.spool.settle(settlements.clone()).await else {
            return;
        };
        failures += 1;
        tracing::error!(
            %error,
            failures,
            messages = settlements.len(),
            "Failed to settle delivered messages in the spool; retrying, and they may be delivered again after a restart."
        );
        if *shutdown.borrow() && failures >= ATTEMPTS_AT_SHUTDOWN {
            return;
        }
        let wait = Duration::from_millis(100 * u64::from(failures.min(50)));
        // Shutdown cuts the wait short, and the loop gives up once the attempts run out.
        let _ = retry::sleep(wait, shutdown).await;
    }
}

#[cfg(test)]
mod tests;
