//! The embedded spool: one SQLite file in WAL mode, written by a dedicated thread that commits
//! the changes of all concurrent callers together (group commit).

mod store;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use crate::spool::{
    Appended, DeadLetter, DeadLetterFilter, NewMessage, Settlement, Spool, SpoolCounts, SpoolError,
    SpoolKey, SpooledMessage, DEFAULT_DEDUP_WINDOW,
};
use store::Leases;

/// Commands taken into one transaction at most. More queued commands wait for the next one.
const MAX_GROUP_COMMANDS: usize = 256;

/// Capacity of the command queue; callers wait when it is full.
const QUEUE_CAPACITY: usize = 1_024;

/// How often expired dedup entries are pruned.
const PRUNE_INTERVAL: Duration = Duration::from_secs(10);

/// How long a write waits for another process (such as `dead-letters replay`) to finish its
/// transaction on the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page cache of the storage connection, in KiB.
const CACHE_KIB: i64 = 2 * 1024;

/// When a commit is on disk: SQLite's `synchronous` setting in WAL mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Synchronous {
    /// Every commit is flushed to the storage device (fsync) before the caller gets a reply, so
    /// an acknowledged message survives a power loss.
    #[default]
    Full,
    /// Commits are written to the operating system but flushed only at checkpoints: an
    /// acknowledged message survives a crash of the service, but not of the machine.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// Settings of a [`SqliteSpool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteSpoolOptions {
    pub synchronous: Synchronous,
    /// How long a `messageId` is remembered; zero turns deduplication off.
    pub dedup_window: Duration,
}

impl Default for SqliteSpoolOptions {
    fn default() -> SqliteSpoolOptions {
        SqliteSpoolOptions {
            synchronous: Synchronous::Full,
            dedup_window: DEFAULT_DEDUP_WINDOW,
        }
    }
}

/// A [`Spool`] in one SQLite file.
///
/// A spool opened with [`SqliteSpool::open`] delivers: it holds a lock on `<path>.lock` so that
/// only one process leases from the file. [`SqliteSpool::open_for_admin`] opens the same file
/// beside a running service to list and replay dead letters, and cannot lease.
pub struct SqliteSpool {
    commands: mpsc::Sender<Command>,
    path: String,
}

impl SqliteSpool {
    /// Opens or creates the spool at `path` for delivery, creating missing parent directories.
    pub fn open(path: &Path, options: SqliteSpoolOptions) -> Result<SqliteSpool, SpoolError> {
        create_parent(path)?;
        let lock = lock_for_delivery(path)?;
        let conn = open_connection(path, options.synchronous)?;
        Ok(SqliteSpool::start(
            conn,
            Some(lock),
            true,
            options,
            path.display().to_string(),
        ))
    }

    /// Opens an existing spool without the delivery lock, for listing and replaying dead letters
    /// while a service may be running on it.
    pub fn open_for_admin(
        path: &Path,
        options: SqliteSpoolOptions,
    ) -> Result<SqliteSpool, SpoolError> {
        if !path.exists() {
            return Err(storage(
                "open",
                format!(
                    "{} does not exist; pass the --spool path the service uses",
                    path.display()
                ),
            ));
        }
        let conn = open_connection(path, options.synchronous)?;
        Ok(SqliteSpool::start(
            conn,
            None,
            false,
            options,
            path.display().to_string(),
        ))
    }

    /// Opens a spool that lives in memory and is lost when dropped, for tests and one-off runs.
    pub fn in_memory(options: SqliteSpoolOptions) -> Result<SqliteSpool, SpoolError> {
        let conn = Connection::open_in_memory().map_err(|error| storage("open", error))?;
        migrate(&conn, ":memory:")?;
        Ok(SqliteSpool::start(
            conn,
            None,
            true,
            options,
            ":memory:".to_owned(),
        ))
    }

    fn start(
        conn: Connection,
        lock: Option<Connection>,
        for_delivery: bool,
        options: SqliteSpoolOptions,
        path: String,
    ) -> SqliteSpool {
        let (commands, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let storage = Storage {
            conn,
            _lock: lock,
            for_delivery,
            leases: Leases::default(),
            dedup_window: options.dedup_window,
            last_prune: None,
        };
        std::thread::Builder::new()
            .name("spool".into())
            .spawn(move || storage.run(receiver))
            .expect("the operating system starts a thread");
        SqliteSpool { commands, path }
    }

    /// Returns the file path, or `:memory:`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Finishes every queued command, checkpoints the write-ahead log and closes the file.
    /// Later calls fail with [`SpoolError::Closed`].
    pub async fn close(&self) {
        let (reply, closed) = oneshot::channel();
        if self.commands.send(Command::Close(reply)).await.is_ok() {
            let _ = closed.await;
        }
    }

    async fn call<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, SpoolError>>) -> Command,
    ) -> Result<T, SpoolError> {
        let (reply, result) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| SpoolError::Closed)?;
        result.await.map_err(|_| SpoolError::Closed)?
    }
}

impl fmt::Debug for SqliteSpool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteSpool")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Spool for SqliteSpool {
    async fn append(&self, messages: Vec<NewMessage>) -> Result<Vec<Appended>, SpoolError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        self.call(|reply| Command::Append { messages, reply }).await
    }

    async fn lease(&self, limit: usize) -> Result<Vec<SpooledMessage>, SpoolError> {
        self.call(|reply| Command::Lease { limit, reply }).await
    }

    async fn record_failures(&self, keys: Vec<SpoolKey>, error: String) -> Result<(), SpoolError> {
        self.call(|reply| Command::RecordFailures { keys, error, reply })
            .await
    }

    async fn settle(&self, settlements: Vec<Settlement>) -> Result<(), SpoolError> {
        self.call(|reply| Command::Settle { settlements, reply })
            .await
    }

    async fn dead_letters(&self, filter: DeadLetterFilter) -> Result<Vec<DeadLetter>, SpoolError> {
        self.call(|reply| Command::DeadLetters { filter, reply })
            .await
    }

    async fn replay(&self, filter: DeadLetterFilter) -> Result<u64, SpoolError> {
        self.call(|reply| Command::Replay { filter, reply }).await
    }

    async fn counts(&self) -> Result<SpoolCounts, SpoolError> {
        self.call(|reply| Command::Counts { reply }).await
    }
}

type Reply<T> = oneshot::Sender<Result<T, SpoolError>>;

enum Command {
    Append {
        messages: Vec<NewMessage>,
        reply: Reply<Vec<Appended>>,
    },
    Lease {
        limit: usize,
        reply: Reply<Vec<SpooledMessage>>,
    },
    RecordFailures {
        keys: Vec<SpoolKey>,
        error: String,
        reply: Reply<()>,
    },
    Settle {
        settlements: Vec<Settlement>,
        reply: Reply<()>,
    },
    DeadLetters {
        filter: DeadLetterFilter,
        reply: Reply<Vec<DeadLetter>>,
    },
    Replay {
        filter: DeadLetterFilter,
        reply: Reply<u64>,
    },
    Counts {
        reply: Reply<SpoolCounts>,
    },
    Close(oneshot::Sender<()>),
}

/// The reply to a write, sent once its transaction commits.
type HeldReply = Box<dyn FnOnce(Option<&str>) + Send>;

fn hold<T: Send + 'static>(reply: Reply<T>, result: Result<T, SpoolError>) -> HeldReply {
    Box::new(move |commit_error| {
        let answer = match commit_error {
            None => result,
            Some(error) => Err(storage("commit", error.to_owned())),
        };
        // The caller may have stopped waiting; the change is committed either way.
        let _ = reply.send(answer);
    })
}

/// The storage thread's state: the connection, the delivery lock and the leases.
struct Storage {
    conn: Connection,
    /// Connection holding the exclusive lock on `<path>.lock`, kept open while delivering.
    _lock: Option<Connection>,
    for_delivery: bool,
    leases: Leases,
    dedup_window: Duration,
    last_prune: Option<Instant>,
}

impl Storage {
    fn run(mut self, mut receiver: mpsc::Receiver<Command>) {
        let mut close_reply = None;
        while let Some(first) = receiver.blocking_recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP_COMMANDS {
                match receiver.try_recv() {
                    Ok(command) => group.push(command),
                    Err(_) => break,
                }
            }
            close_reply = self.run_group(group);
            if close_reply.is_some() {
                break;
            }
            self.prune_dedup();
        }

        if let Err(error) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        {
            tracing::warn!(%error, "Failed to checkpoint the spool at close; SQLite will replay its log at the next start.");
        }
        drop(self);
        if let Some(reply) = close_reply {
            let _ = reply.send(());
        }
    }

    /// Runs the writes of `group` in one transaction and replies to them once it commits. Then it
    /// runs the reads, so they see every write acknowledged before them. Returns the reply of a close
    /// request, if the group has one.
    fn run_group(&mut self, group: Vec<Command>) -> Option<oneshot::Sender<()>> {
        let mut writes = Vec::new();
        let mut reads = Vec::new();
        let mut close_reply = None;
        for command in group {
            match command {
                Command::Append { .. }
                | Command::RecordFailures { .. }
                | Command::Settle { .. }
                | Command::Replay { .. } => writes.push(command),
                Command::Lease { .. } | Command::DeadLetters { .. } | Command::Counts { .. } => {
                    reads.push(command);
                }
                Command::Close(reply) => close_reply = Some(reply),
            }
        }

        if !writes.is_empty() {
            self.write(writes);
        }
        for command in reads {
            self.read(command);
        }
        close_reply
    }

    fn write(&mut self, writes: Vec<Command>) {
        let now = Utc::now();
        let mut replies = Vec::with_capacity(writes.len());
        let mut settled = Vec::new();

        if let Err(error) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            let message = error.to_string();
            for command in writes {
                fail(command, &message);
            }
            return;
        }

        for command in writes {
            if let Err(error) = self.conn.execute_batch("SAVEPOINT command") {
                fail(command, &error.to_string());
                continue;
            }
            let (reply, ok) = match command {
                Command::Append { messages, reply } => {
                    let result = store::append(&self.conn, &messages, self.dedup_window, now)
                        .map_err(|error| storage("append", error));
                    let ok = result.is_ok();
                    (hold(reply, result), ok)
                }
                Command::RecordFailures { keys, error, reply } => {
                    let result = store::record_failures(&self.conn, &keys, &error)
                        .map_err(|error| storage("record failures", error));
                    let ok = result.is_ok();
                    (hold(reply, result), ok)
                }
                Command::Settle { settlements, reply } => {
                    let result = store::settle(&self.conn, &settlements, now)
                        .map_err(|error| storage("settle", error));
                    let ok = result.is_ok();
                    if ok {
                        settled.extend(settlements);
                    }
                    (hold(reply, result), ok)
                }
                Command::Replay { filter, reply } => {
                    let result = store::replay(&self.conn, &filter, now)
                        .map_err(|error| storage("replay", error));
                    let ok = result.is_ok();
                    (hold(reply, result), ok)
                }
                Command::Lease { .. }
                | Command::DeadLetters { .. }
                | Command::Counts { .. }
                | Command::Close(_) => unreachable!("only writes are passed to write()"),
            };
            let end = if ok {
                "RELEASE command"
            } else {
                "ROLLBACK TO command; RELEASE command"
            };
            if let Err(error) = self.conn.execute_batch(end) {
                tracing::error!(%error, "Failed to end a spool savepoint.");
            }
            replies.push(reply);
        }

        let commit_error = self.conn.execute_batch("COMMIT").err().map(|error| {
            let _ = self.conn.execute_batch("ROLLBACK");
            tracing::error!(%error, "Failed to commit to the spool; the callers get an error.");
            error.to_string()
        });
        if commit_error.is_none() {
            // Leases change only once the settlement is durable, so a failed commit leaves the
            // messages leased, as the caller sees them.
            self.leases.settle(&settled);
        }
        for reply in replies {
            reply(commit_error.as_deref());
        }
    }

    fn read(&mut self, command: Command) {
        match command {
            Command::Lease { limit, reply } => {
                let result = if self.for_delivery {
                    store::lease(&self.conn, &mut self.leases, limit)
                        .map_err(|error| storage("lease", error))
                } else {
                    Err(SpoolError::NotForDelivery { operation: "lease" })
                };
                let _ = reply.send(result);
            }
            Command::DeadLetters { filter, reply } => {
                let result = store::dead_letters(&self.conn, &filter)
                    .map_err(|error| storage("list dead letters", error));
                let _ = reply.send(result);
            }
            Command::Counts { reply } => {
                let result = store::counts(&self.conn).map_err(|error| storage("count", error));
                let _ = reply.send(result);
            }
            Command::Append { .. }
            | Command::RecordFailures { .. }
            | Command::Settle { .. }
            | Command::Replay { .. }
            | Command::Close(_) => unreachable!("only reads are passed to read()"),
        }
    }

    fn prune_dedup(&mut self) {
        if self.dedup_window.is_zero() || !self.for_delivery {
            return;
        }
        if self
            .last_prune
            .is_some_and(|last| last.elapsed() < PRUNE_INTERVAL)
        {
            return;
        }
        match store::prune_dedup(&self.conn, self.dedup_window, Utc::now()) {
            // A full page was deleted: prune again after the next group instead of waiting.
            Ok(true) => self.last_prune = None,
            Ok(false) => self.last_prune = Some(Instant::now()),
            Err(error) => {
                tracing::warn!(%error, "Failed to prune expired dedup entries; retrying later.");
                self.last_prune = Some(Instant::now());
            }
        }
    }
}

/// Answers a write that never ran with the error that stopped it.
fn fail(command: Command, message: &str) {
    let error = || storage("begin transaction", message.to_owned());
    match command {
        Command::Append { reply, .. } => drop(reply.send(Err(error()))),
        Command::RecordFailures { reply, .. } | Command::Settle { reply, .. } => {
            drop(reply.send(Err(error())));
        }
        Command::Replay { reply, .. } => drop(reply.send(Err(error()))),
        Command::Lease { reply, .. } => drop(reply.send(Err(error()))),
        Command::DeadLetters { reply, .. } => drop(reply.send(Err(error()))),
        Command::Counts { reply } => drop(reply.send(Err(error()))),
        Command::Close(reply) => drop(reply.send(())),
    }
}

fn create_parent(path: &Path) -> Result<(), SpoolError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|error| {
                storage(
                    "open",
                    format!("failed to create directory {}: {error}", parent.display()),
                )
            })
        }
        Some(_) | None => Ok(()),
    }
}

fn open_connection(path: &Path, synchronous: Synchronous) -> Result<Connection, SpoolError> {
    let open = |error: rusqlite::Error| {
        storage(
            "open",
            format!("failed to open {}: {error}", path.display()),
        )
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(open)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(open)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(storage(
            "open",
            format!(
                "{} cannot use write-ahead logging (journal mode is {mode}); put the spool on a local file system",
                path.display()
            ),
        ));
    }
    conn.pragma_update(None, "synchronous", synchronous.pragma())
        .map_err(open)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(open)?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(open)?;
    migrate(&conn, &path.display().to_string())?;
    Ok(conn)
}

fn migrate(conn: &Connection, path: &str) -> Result<(), SpoolError> {
    match store::migrate(conn) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(version)) => Err(storage(
            "open",
            format!(
                "{path} has schema version {version}, newer than this release's {}; run the release that wrote it",
                store::SCHEMA_VERSION
            ),
        )),
        Err(error) => Err(storage("open", format!("failed to create the tables in {path}: {error}"))),
    }
}

/// Takes the exclusive lock that makes this process the only one delivering from `path`.
///
/// The lock is SQLite's own file lock on a side file, kept by a connection in exclusive locking
/// mode. The operating system drops it when the process ends, however it ends.
fn lock_for_delivery(path: &Path) -> Result<Connection, SpoolError> {
    let mut lock_path = PathBuf::from(path);
    lock_path.as_mut_os_string().push(".lock");
    let open = |error: rusqlite::Error| {
        storage(
            "lock",
            format!("failed to open {}: {error}", lock_path.display()),
        )
    };
    let conn = Connection::open(&lock_path).map_err(open)?;
    // Fail at once when another process holds the lock, instead of waiting for it.
    conn.busy_timeout(Duration::ZERO).map_err(open)?;
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(open)?;
    match conn.execute_batch(
        "BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (started_at INTEGER);
         DELETE FROM holder; INSERT INTO holder VALUES (unixepoch()); COMMIT;",
    ) {
        Ok(()) => Ok(conn),
        Err(rusqlite::Error::SqliteFailure(error, _))
            if error.code == rusqlite::ErrorCode::DatabaseBusy
                || error.code == rusqlite::ErrorCode::DatabaseLocked =>
        {
            Err(SpoolError::InUse {
                path: path.display().to_string(),
            })
        }
        Err(error) => Err(open(error)),
    }
}

fn storage(operation: &'static str, source: impl fmt::Display) -> SpoolError {
    SpoolError::Storage {
        operation,
        source: source.to_string().into(),
    }
}

#[cfg(test)]
mod tests;
