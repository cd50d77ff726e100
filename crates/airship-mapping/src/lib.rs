//! Pure mapping from Segment messages to Airship API requests.
//!
//! [`map_message`] takes one raw message, the mapping [`Settings`] and the current time, and returns
//! exactly one [`Outcome`] with any [`Warning`]s. It performs no I/O, so the HTTP service, the CLI
//! and the batch processor all produce the same requests for the same input.

mod attributes;
mod group;
mod identify;
mod identity;
mod map;
mod outcome;
mod request;
mod settings;
mod time;
mod track;

pub use map::{map_message, map_parsed};
pub use outcome::{Invalid, InvalidReason, Mapped, Outcome, SkipReason, Warning, WarningReason};
pub use request::{encode_path_segment, AirshipRequest, Endpoint};
pub use settings::{AttributeType, Settings, SettingsError, PREDEFINED_ATTRIBUTES};
pub use time::{airship_time, parse_event_time};
