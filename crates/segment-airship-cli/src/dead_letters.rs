//! `segment-airship dead-letters`: list and replay the messages the service could not deliver.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use segment_airship_delivery::{
    DeadLetterFilter, DeadLetterReason, Spool, SqliteSpool, SqliteSpoolOptions,
};

/// List or replay dead letters: messages Airship rejected, that failed past --max-age or
/// --max-attempts, or that no longer map under the current settings.
#[derive(Debug, Args)]
pub(crate) struct DeadLettersArgs {
    #[command(subcommand)]
    command: DeadLettersCommand,
}

#[derive(Debug, Subcommand)]
enum DeadLettersCommand {
    List(ListArgs),
    Replay(ReplayArgs),
}

/// Print each dead letter as one JSON line, oldest first.
///
/// Each line has `id` (for `replay --id`), `message_id`, `named_user`, `received_at`, `dead_at`,
/// `attempts`, `reason` (`rejected`, `retries_exhausted` or `invalid`), `summary`, Airship's
/// `status`, `error`, `details` and `operation_id` when it responded, and the Segment `message`.
#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    spool: SpoolPath,

    /// Only dead letters with this reason.
    #[arg(long, value_name = "REASON", value_parser = parse_reason)]
    reason: Option<DeadLetterReason>,

    /// At most this many dead letters.
    #[arg(long, value_name = "COUNT")]
    limit: Option<usize>,
}

/// Move dead letters back to the spool, where the service delivers them again: at once when it
/// is running, otherwise at its next start.
///
/// Replayed messages get a fresh attempt count and maximum age, are not deduplicated again, and
/// are delivered after the messages already waiting.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("selection").required(true).multiple(true)))]
struct ReplayArgs {
    #[command(flatten)]
    spool: SpoolPath,

    /// Replay the dead letter with this id, as printed by `list`; repeat for several.
    #[arg(long = "id", value_name = "ID", group = "selection")]
    ids: Vec<i64>,

    /// Replay only dead letters with this reason.
    #[arg(long, value_name = "REASON", value_parser = parse_reason, group = "selection")]
    reason: Option<DeadLetterReason>,

    /// Replay every dead letter (combined with --reason, every one with that reason).
    #[arg(long, group = "selection")]
    all: bool,
}

#[derive(Debug, Args)]
struct SpoolPath {
    /// The service's spool file, as given to its --spool flag.
    #[arg(
        long = "spool",
        env = "SPOOL_PATH",
        value_name = "PATH",
        default_value = "./data/spool.db"
    )]
    path: PathBuf,
}

impl SpoolPath {
    fn open(&self) -> anyhow::Result<SqliteSpool> {
        SqliteSpool::open_for_admin(&self.path, SqliteSpoolOptions::default())
            .with_context(|| format!("failed to open the spool {}", self.path.display()))
    }
}

fn parse_reason(value: &str) -> Result<DeadLetterReason, String> {
    DeadLetterReason::from_code(value).ok_or_else(|| {
        format!("unknown reason `{value}`; expected rejected, retries_exhausted or invalid")
    })
}

impl DeadLettersArgs {
    pub(crate) async fn run(&self) -> anyhow::Result<ExitCode> {
        match &self.command {
            DeadLettersCommand::List(args) => list(args).await,
            DeadLettersCommand::Replay(args) => replay(args).await,
        }
    }
}

async fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let spool = args.spool.open()?;
    let filter = DeadLetterFilter {
        ids: Vec::new(),
        reason: args.reason,
        limit: args.limit,
    };
    let letters = spool
        .dead_letters(filter)
        .await
        .context("failed to read the dead letters")?;
    spool.close().await;

    let mut output = std::io::stdout().lock();
    for letter in &letters {
        serde_json::to_writer(&mut output, letter).context("failed to write a dead letter")?;
        match output.write_all(b"\n") {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                return Ok(ExitCode::SUCCESS)
            }
            result => result.context("failed to write to standard output")?,
        }
    }
    eprintln!("{} dead letters", letters.len());
    Ok(ExitCode::SUCCESS)
}

async fn replay(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    if !args.all && args.ids.is_empty() && args.reason.is_none() {
        bail!("nothing selected: pass --id ID, --reason REASON or --all");
    }
    let spool = args.spool.open()?;
    let filter = DeadLetterFilter {
        ids: args.ids.clone(),
        reason: args.reason,
        limit: None,
    };
    let replayed = spool
        .replay(filter)
        .await
        .context("failed to replay the dead letters")?;
    spool.close().await;

    println!("{}", serde_json::json!({ "replayed": replayed }));
    eprintln!(
        "{replayed} dead letter(s) moved back to the spool; the service delivers them when it runs"
    );
    // A mistyped id would otherwise pass silently.
    let requested = args.ids.len() as u64;
    if requested > replayed {
        eprintln!(
            "error: {} of the {requested} requested id(s) are not dead letters in this spool; `dead-letters list` shows the ids",
            requested - replayed
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
