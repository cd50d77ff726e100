//! Delivery: the inputs flow through the delivery engine of `segment-airship-delivery` (mapping,
//! spool, coalescing, retries, dead letters), and the checkpoint follows what it settles.
//!
//! A reader thread reads the inputs in order and sends items over a bounded channel. The driver
//! registers each item in the [`Tracker`] and hands messages to the [`Intake`] in chunks, waiting
//! while the window of messages ahead of the checkpoint is full. The engine settles messages in
//! the spool, which the [`ObservedSpool`] reports to the tracker, and the committer writes the
//! checkpoint and the problems file as the done prefix of each input grows.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use airship_client::AirshipClient;
use airship_mapping::Outcome;
use anyhow::{bail, Context as _};
use chrono::Utc;
use segment_airship_delivery::{
    AirshipTarget, Appended, DeliveryState, Engine, Incoming, Intake, IntakeStatus, SqliteSpool,
    SqliteSpoolOptions, StatsSnapshot, Synchronous,
};
use tokio::sync::{mpsc, watch};

use crate::args::BatchArgs;
use crate::checkpoint::{input_key, Checkpoint, Comparison, Counts, Fingerprint, InputCheckpoint};
use crate::hook::ObservedSpool;
use crate::progress::Counters;
use crate::read::{Cursor, InputReader, Item, Layout, Source};
use crate::state_dir::StateDir;
use crate::throttle::Throttled;
use crate::tracker::{InputTrack, NewSlot, ReadEnd, Resolution, SlotRef, Tracker};

/// Most messages handed to the intake in one call.
const CHUNK_MESSAGES: usize = 500;

/// Items buffered between the reader thread and the driver.
const CHANNEL_ITEMS: usize = 1_024;

/// Longest wait after Ctrl-C for the messages already read to be settled. Messages delivered
/// after an unsettled one are sent again on resume, so settling them first saves duplicates.
const INTERRUPT_DRAIN: Duration = Duration::from_secs(10);

/// Pause between checkpoint writes, so a busy run writes at most 20 per second instead of one per
/// settlement.
const COMMIT_INTERVAL: Duration = Duration::from_millis(50);

/// The reason a run stopped before the end of its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// A failure that ends the run, such as Airship refusing the credentials.
    Failed(String),
}

/// An input and where to read it from.
struct Planned {
    source: Source,
    track: InputTrack,
    cursor: Cursor,
}

/// The outcome of a delivery run.
#[derive(Debug)]
pub struct DeliveryResult {
    pub inputs: Vec<InputResult>,
    pub stats: StatsSnapshot,
    pub stop: Option<Stop>,
    pub problems_path: std::path::PathBuf,
}

/// The end state of one input.
#[derive(Debug, Clone)]
pub struct InputResult {
    pub name: String,
    /// Canonical path, for files.
    pub path: Option<String>,
    pub messages: u64,
    pub counts: Counts,
    /// `complete`, `already_complete`, `failed` or `incomplete`.
    pub status: &'static str,
    pub error: Option<String>,
}

/// Messages between the reader thread and the driver.
enum Event {
    Item { input: usize, item: Item },
    End { input: usize, end: ReadEnd },
}

/// Runs a delivery of `sources` with the settings of `args`.
pub async fn run(
    args: &BatchArgs,
    sources: Vec<Source>,
    counters: Arc<Counters>,
) -> anyhow::Result<DeliveryResult> {
    let state = StateDir::open(&args.state_dir)?;
    if args.restart {
        state.forget_progress()?;
    }
    state.remove_spool()?;
    let checkpoint = Checkpoint::load(&state.checkpoint())?;
    let planned = plan(&sources, &checkpoint, &counters)?;

    let file = args.airship.load_config()?;
    let live = args.airship.live_client(&file)?;
    let target = AirshipTarget {
        data_center: live.config().data_center,
        base_url: live.config().base_url.clone(),
    };
    let client: Arc<dyn AirshipClient> = Arc::new(Throttled::new(
        Arc::new(live),
        usize::from(args.concurrency),
        args.rate,
    ));

    let problems = open_problems(&state.problems(), checkpoint.problems_bytes)?;
    let store = Store {
        checkpoint,
        checkpoint_path: state.checkpoint(),
        problems,
    };

    let spool = Arc::new(
        SqliteSpool::open(
            &state.spool(),
            SqliteSpoolOptions {
                // The inputs and the checkpoint are the durable record; the spool is only the
                // engine's queue, deleted at the next start.
                synchronous: Synchronous::Normal,
                dedup_window: args.dedup_window,
            },
        )
        .with_context(|| format!("failed to open the spool {}", state.spool().display()))?,
    );

    let mut tracks = Vec::with_capacity(planned.len());
    let mut reads = Vec::new();
    for (index, planned) in planned.into_iter().enumerate() {
        if !planned.track.already_complete {
            reads.push((index, planned.source, planned.cursor));
        }
        tracks.push(planned.track);
    }
    let tracker = Arc::new(Tracker::new(tracks, Arc::clone(&counters)));
    let observed = Arc::new(ObservedSpool::new(spool.clone(), Arc::clone(&tracker)));
    let settings = Arc::new(file.mapping);
    let engine = Engine::start(
        observed.clone(),
        client,
        Arc::clone(&settings),
        target,
        args.engine_config(),
    );
    let intake = Intake::new(observed.clone(), settings, engine.handle());

    let (stop_sender, stop) = watch::channel(None::<Stop>);
    let stop_sender = Arc::new(stop_sender);
    let signals = tokio::spawn(watch_signals(Arc::clone(&stop_sender)));
    let health = tokio::spawn(watch_engine(engine.handle(), Arc::clone(&stop_sender)));
    let (finish, finishing) = watch::channel(false);
    let committer = tokio::spawn(commit_loop(
        Arc::clone(&tracker),
        store,
        finishing,
        Arc::clone(&stop_sender),
    ));

    let (events, received) = mpsc::channel(CHANNEL_ITEMS);
    let reader_counters = Arc::clone(&counters);
    std::thread::Builder::new()
        .name("input reader".into())
        .spawn(move || read_inputs(reads, &events, &reader_counters))
        .context("failed to start the input reader thread")?;

    let driver = Driver {
        tracker: Arc::clone(&tracker),
        intake,
        observed,
        window: args.window,
    };
    let driven = driver.drive(received, stop.clone()).await;

    let stats = engine.handle().stats();
    engine.shutdown().await;
    let stop_reason = match driven {
        Ok(()) => stop.borrow().clone(),
        Err(error) => Some(Stop::Failed(format!("{error:#}"))),
    };
    // The engine has settled what it will; the committer writes the last checkpoint, synced.
    let _ = finish.send(true);
    let committed = committer.await.context("the checkpoint writer panicked")?;
    spool.close().await;
    signals.abort();
    health.abort();
    let stop_reason = stop_reason.or(committed
        .err()
        .map(|error| Stop::Failed(format!("{error:#}"))));

    Ok(DeliveryResult {
        inputs: tracker.with_inputs(results),
        stats,
        stop: stop_reason,
        problems_path: state.problems(),
    })
}

/// Decides where each input starts, from the checkpoint, and fails before sending anything when
/// an input changed since the checkpoint.
fn plan(
    sources: &[Source],
    checkpoint: &Checkpoint,
    counters: &Counters,
) -> anyhow::Result<Vec<Planned>> {
    let mut planned = Vec::with_capacity(sources.len());
    let mut changed = Vec::new();
    let mut keys = std::collections::HashSet::new();

    for source in sources {
        let path = match source {
            Source::Stdin => {
                planned.push(Planned {
                    source: source.clone(),
                    track: InputTrack::new(
                        source.name(),
                        None,
                        None,
                        Cursor::START,
                        0,
                        Counts::new(),
                    ),
                    cursor: Cursor::START,
                });
                continue;
            }
            Source::File(path) => path,
        };
        let key =
            input_key(path).with_context(|| format!("input {} cannot be read", path.display()))?;
        if !keys.insert(key.clone()) {
            bail!("input {key} is named more than once; name each file once");
        }
        let fingerprint = Fingerprint::of_file(path)
            .with_context(|| format!("input {} cannot be read", path.display()))?;

        let Some(recorded) = checkpoint.inputs.get(&key) else {
            planned.push(Planned {
                source: source.clone(),
                track: InputTrack::new(
                    source.name(),
                    Some(key),
                    Some(fingerprint),
                    Cursor::START,
                    0,
                    Counts::new(),
                ),
                cursor: Cursor::START,
            });
            continue;
        };

        let comparison = recorded
            .fingerprint
            .compare(path)
            .with_context(|| format!("input {} cannot be read", path.display()))?;
        let resumable = match comparison {
            Comparison::Same => true,
            // Data appended after the last line can be read from the cursor; inside an array it
            // cannot.
            Comparison::Grew => !recorded.complete || recorded.cursor.layout == Layout::Lines,
            Comparison::Changed => false,
        };
        if !resumable {
            changed.push(key.clone());
            continue;
        }
        let mut track = InputTrack::new(
            source.name(),
            Some(key.clone()),
            Some(fingerprint.clone()),
            recorded.cursor,
            recorded.messages,
            recorded.counts.clone(),
        );
        if recorded.complete && comparison == Comparison::Same {
            track.already_complete = true;
            track.read_end = Some(ReadEnd::Finished);
            counters
                .raw_bytes
                .fetch_add(fingerprint.size, Ordering::Relaxed);
            tracing::info!(input = %source.name(), messages = recorded.messages, "Input already replayed; skipping it.");
        } else {
            tracing::info!(
                input = %source.name(),
                line = recorded.cursor.position.line,
                messages = recorded.messages,
                "Resuming input from the checkpoint."
            );
        }
        planned.push(Planned {
            source: source.clone(),
            track,
            cursor: recorded.cursor,
        });
    }

    if !changed.is_empty() {
        bail!(
            "these inputs changed since the checkpoint was written, so it cannot tell where to \
             continue: {}; pass --restart to replay every input from the start, or another \
             --state-dir to replay only these",
            changed.join(", ")
        );
    }
    Ok(planned)
}

/// Opens the problems file for appending, cut to the length the checkpoint recorded.
fn open_problems(path: &Path, length: u64) -> anyhow::Result<File> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("failed to open {}", path.display()))?;
    let current = file.metadata()?.len();
    if current > length {
        file.set_len(length)
            .with_context(|| format!("failed to cut {} to the checkpoint", path.display()))?;
    }
    file.seek(SeekFrom::End(0))?;
    Ok(file)
}

/// Reads every input in order and sends its items; stops when the driver goes away.
fn read_inputs(
    reads: Vec<(usize, Source, Cursor)>,
    events: &mpsc::Sender<Event>,
    counters: &Counters,
) {
    for (input, source, cursor) in reads {
        let mut reader = match InputReader::open(&source, cursor, Arc::clone(&counters.raw_bytes)) {
            Ok(reader) => reader,
            Err(error) => {
                let end = ReadEnd::Failed(error.to_string());
                if events.blocking_send(Event::End { input, end }).is_err() {
                    return;
                }
                continue;
            }
        };
        let end = loop {
            match reader.next_item() {
                None => break ReadEnd::Finished,
                Some(Err(error)) => break ReadEnd::Failed(error.to_string()),
                Some(Ok(item)) => {
                    if !matches!(item, Item::Advance { .. }) {
                        counters.read.fetch_add(1, Ordering::Relaxed);
                    }
                    if events.blocking_send(Event::Item { input, item }).is_err() {
                        return;
                    }
                }
            }
        };
        if events.blocking_send(Event::End { input, end }).is_err() {
            return;
        }
    }
}

/// Hands the items to the intake.
struct Driver {
    tracker: Arc<Tracker>,
    intake: Intake,
    observed: Arc<ObservedSpool>,
    window: u64,
}

impl Driver {
    /// Runs until every input is read and done, or a stop is requested.
    async fn drive(
        &self,
        mut events: mpsc::Receiver<Event>,
        mut stop: watch::Receiver<Option<Stop>>,
    ) -> anyhow::Result<()> {
        // A chunk never exceeds the window, so the window bounds what a crash sends again.
        let chunk_limit = CHUNK_MESSAGES.min(usize::try_from(self.window).unwrap_or(usize::MAX));
        let mut chunk: Vec<(usize, Item)> = Vec::with_capacity(chunk_limit);
        loop {
            let event = tokio::select! {
                biased;
                _ = stop.wait_for(Option::is_some) => break,
                event = events.recv() => event,
            };
            let Some(event) = event else {
                break;
            };
            let mut next = Some(event);
            while let Some(event) = next.take() {
                match event {
                    Event::Item { input, item } => chunk.push((input, item)),
                    Event::End { input, end } => {
                        self.submit(std::mem::take(&mut chunk), &mut stop).await?;
                        if let ReadEnd::Failed(error) = &end {
                            tracing::error!("{error}");
                        }
                        self.tracker.end_input(input, end);
                    }
                }
                if chunk.len() < chunk_limit {
                    next = events.try_recv().ok();
                }
            }
            self.submit(std::mem::take(&mut chunk), &mut stop).await?;
        }

        drop(events);

        tokio::select! {
            biased;
            _ = stop.wait_for(Option::is_some) => {}
            () = self.tracker.wait_idle() => {}
        }
        if *stop.borrow() == Some(Stop::Interrupted) {
            let _ = tokio::time::timeout(INTERRUPT_DRAIN, self.tracker.wait_idle()).await;
        }
        Ok(())
    }

    /// Registers the items of `chunk` and hands its messages to the intake.
    async fn submit(
        &self,
        chunk: Vec<(usize, Item)>,
        stop: &mut watch::Receiver<Option<Stop>>,
    ) -> anyhow::Result<()> {
        if chunk.is_empty() || stop.borrow().is_some() {
            return Ok(());
        }
        tokio::select! {
            biased;
            _ = stop.wait_for(Option::is_some) => return Ok(()),
            () = self.tracker.wait_for_room(chunk.len() as u64, self.window) => {}
        }

        let mut incoming = Vec::with_capacity(chunk.len());
        let mut slots: Vec<SlotRef> = Vec::with_capacity(chunk.len());
        for (input, item) in chunk {
            let (slot, message) = match item {
                Item::Advance { after } => {
                    let slot = NewSlot {
                        after,
                        line: after.position.line,
                        message_id: None,
                        is_message: false,
                    };
                    let slot = self.tracker.register(input, vec![slot])[0];
                    self.tracker.resolve(slot, Resolution::Advance);
                    continue;
                }
                Item::Message { raw, line, after } => {
                    let message_id = raw
                        .get("messageId")
                        .and_then(|id| id.as_str())
                        .map(str::to_owned);
                    let slot = NewSlot {
                        after,
                        line,
                        message_id,
                        is_message: true,
                    };
                    (slot, Incoming::Message(raw))
                }
                Item::Rejected {
                    mapped,
                    line,
                    after,
                } => {
                    let slot = NewSlot {
                        after,
                        line,
                        message_id: None,
                        is_message: true,
                    };
                    (slot, Incoming::Rejected(mapped))
                }
            };
            slots.push(self.tracker.register(input, vec![slot])[0]);
            incoming.push(message);
        }
        if incoming.is_empty() {
            return Ok(());
        }

        let accepted = self
            .intake
            .accept(incoming, Utc::now())
            .await
            .context("failed to write messages to the spool")?;
        let mut appended = self
            .observed
            .take_last_append()
            .unwrap_or_default()
            .into_iter();
        for (slot, accepted) in slots.into_iter().zip(accepted) {
            match accepted.status {
                IntakeStatus::Queued => match appended.next() {
                    Some(Appended::Queued(key)) => self.tracker.assign_key(slot, key),
                    other => bail!(
                        "the spool's answer does not match the queued messages (found {other:?}); \
                         this is a bug"
                    ),
                },
                IntakeStatus::Duplicate => {
                    appended.next();
                    self.tracker.resolve(slot, Resolution::Duplicate);
                }
                IntakeStatus::Skipped | IntakeStatus::Invalid => {
                    self.tracker
                        .resolve(slot, resolution(&accepted.mapped.outcome));
                }
            }
        }
        Ok(())
    }
}

/// Returns the resolution of a message the intake did not queue.
fn resolution(outcome: &Outcome) -> Resolution {
    match outcome {
        Outcome::Skipped { reason, .. } => Resolution::Skipped {
            reason: reason.code(),
        },
        Outcome::Invalid(invalid) => Resolution::Invalid {
            reason: invalid.reason.code(),
            message: invalid.message.clone(),
        },
        // The intake queues every sent outcome; none reaches here.
        Outcome::Sent { .. } => Resolution::Delivered,
    }
}

/// The checkpoint and problems file, written by the committer alone.
struct Store {
    checkpoint: Checkpoint,
    checkpoint_path: std::path::PathBuf,
    problems: File,
}

impl Store {
    /// Writes what the tracker popped since the last commit: problems first, then the
    /// checkpoint that counts them.
    fn commit(&mut self, tracker: &Tracker, sync: bool) -> io::Result<()> {
        let commit = tracker.take_commit();
        if commit.problems.is_empty() && commit.inputs.is_empty() && !sync {
            tracker.committed(commit.popped);
            return Ok(());
        }
        let mut lines = Vec::new();
        for problem in &commit.problems {
            serde_json::to_writer(&mut lines, problem).map_err(io::Error::from)?;
            lines.push(b'\n');
        }
        self.problems.write_all(&lines)?;
        if sync {
            self.problems.sync_data()?;
        }
        self.checkpoint.problems_bytes += lines.len() as u64;
        for input in commit.inputs {
            self.checkpoint.inputs.insert(
                input.key,
                InputCheckpoint {
                    fingerprint: input.fingerprint,
                    cursor: input.cursor,
                    messages: input.messages,
                    complete: input.complete,
                    error: input.error,
                    counts: input.counts,
                },
            );
        }
        self.checkpoint.save(&self.checkpoint_path, sync)?;
        tracker.committed(commit.popped);
        Ok(())
    }
}

/// Commits whenever slots are popped, at most every [`COMMIT_INTERVAL`], and once more, synced,
/// when `finish` turns true. A failed write stops the run through `stopper`.
async fn commit_loop(
    tracker: Arc<Tracker>,
    mut store: Store,
    mut finish: watch::Receiver<bool>,
    stopper: Arc<watch::Sender<Option<Stop>>>,
) -> anyhow::Result<()> {
    loop {
        let finishing = tokio::select! {
            () = tracker.changed.notified() => false,
            _ = finish.wait_for(|finish| *finish) => true,
        };
        if finishing {
            break;
        }
        if let Err(error) = store.commit(&tracker, false) {
            let message = format!(
                "failed to write the checkpoint {}: {error}",
                store.checkpoint_path.display()
            );
            stopper.send_replace(Some(Stop::Failed(message.clone())));
            bail!(message);
        }
        tokio::time::sleep(COMMIT_INTERVAL).await;
    }
    store.commit(&tracker, true).with_context(|| {
        format!(
            "failed to write the checkpoint {}",
            store.checkpoint_path.display()
        )
    })
}

/// Requests a stop on the first Ctrl-C or SIGTERM, and exits at once on the second.
async fn watch_signals(stopper: Arc<watch::Sender<Option<Stop>>>) {
    signal().await;
    tracing::warn!(
        "Interrupted: reading stopped. Delivering the messages already read for up to 10 s, then \
         saving the checkpoint. Run the same command again to continue; press Ctrl-C again to \
         stop at once."
    );
    stopper.send_if_modified(|stop| {
        if stop.is_none() {
            *stop = Some(Stop::Interrupted);
            true
        } else {
            false
        }
    });
    signal().await;
    eprintln!("Stopped at once; the checkpoint may lag, so some messages may be sent again.");
    std::process::exit(130);
}

async fn signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Stops the run when Airship refuses the credentials: the engine would wait for a new token
/// forever, which suits a service but not a batch job.
async fn watch_engine(
    engine: segment_airship_delivery::EngineHandle,
    stopper: Arc<watch::Sender<Option<Stop>>>,
) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if engine.state() == DeliveryState::PausedUnauthorized {
            stopper.send_if_modified(|stop| {
                if stop.is_none() {
                    *stop = Some(Stop::Failed(
                        "Airship refused the access token; fix the token or the data center and \
                         run the same command again to continue"
                            .to_owned(),
                    ));
                    true
                } else {
                    false
                }
            });
            return;
        }
    }
}

fn results(inputs: &[crate::tracker::InputTrack]) -> Vec<InputResult> {
    inputs
        .iter()
        .map(|track| {
            let (status, error) = match &track.read_end {
                _ if track.already_complete => ("already_complete", None),
                Some(ReadEnd::Failed(error)) => ("failed", Some(error.clone())),
                _ if track.complete() => ("complete", None),
                _ => ("incomplete", None),
            };
            InputResult {
                name: track.name.clone(),
                path: track.key.clone(),
                messages: track.messages,
                counts: track.counts.clone(),
                status,
                error,
            }
        })
        .collect()
}
