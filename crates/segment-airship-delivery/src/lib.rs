//! Runtime shared by the front ends: config loading, the spool and the delivery engine.
//!
//! - [`config`] turns flags, environment variables and the TOML config file into mapping
//!   [`Settings`](airship_mapping::Settings) and an Airship client.
//! - [`spool`] stores accepted messages durably until they are delivered or become dead letters.
//! - [`intake`] maps messages to validate them and commits the sendable ones to the spool.
//! - [`engine`] leases spooled messages and delivers them in coalesced, retried requests.
//! - [`deliver`] maps one message and sends its requests at once, without spool or retries, for
//!   one-off runs such as the CLI's `send`.

pub mod args;
pub mod config;
pub mod deliver;
pub mod engine;
pub mod intake;
pub mod logging;
pub mod spool;

pub use args::{parse_duration, EngineArgs, SpoolArgs};
pub use config::{load_config_file, AirshipArgs, AirshipSection, ConfigError, ConfigFile};
pub use deliver::{
    deliver_message, send_mapped, Delivered, DeliveryError, DeliveryReport, DeliveryStatus,
    RequestResult, RequestState,
};
pub use engine::{
    AirshipTarget, DeliveryState, Engine, EngineConfig, EngineHandle, RetryPolicy, StatsSnapshot,
};
pub use intake::{Accepted, Incoming, Intake, IntakeStatus};
pub use logging::init_stderr_logging;
pub use spool::{
    Appended, DeadLetter, DeadLetterFilter, DeadLetterReason, Failure, NewMessage, Settlement,
    Spool, SpoolCounts, SpoolError, SpoolKey, SpooledMessage, SqliteSpool, SqliteSpoolOptions,
    Synchronous,
};
