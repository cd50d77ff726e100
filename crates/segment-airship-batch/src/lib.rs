//! The batch front end: replays archives of Segment messages into Airship.
//!
//! - [`read`] streams NDJSON, JSON arrays and Segment batch objects, plain or gzip-compressed,
//!   with the file position of every message.
//! - [`dry_run`] prints each message's mapping as `segment-airship map` does.
//! - [`deliver`] sends the messages through the delivery engine of `segment-airship-delivery`,
//!   with [`tracker`] and [`checkpoint`] recording how far each input is done so that an
//!   interrupted run continues where it stopped.

pub mod args;
pub mod checkpoint;
pub mod deliver;
pub mod dry_run;
pub mod hook;
pub mod inputs;
pub mod progress;
pub mod read;
pub mod report;
pub mod state_dir;
pub mod throttle;
pub mod tracker;
