//! Sends the [`AirshipRequest`]s built by `airship-mapping` to the Airship API.
//!
//! Front ends hold an `Arc<dyn AirshipClient>`: [`LiveClient`] talks to Airship over HTTPS, and
//! [`InMemoryClient`] records requests and replays scripted responses in tests. Both return an
//! [`AirshipResponse`] or an [`AirshipError`], whose [`AirshipError::is_retryable`] is the single
//! retry decision.

mod client;
mod config;
mod error;
mod live;
mod memory;
mod response;
mod retry_after;
mod secret;

pub use airship_mapping::AirshipRequest;
pub use client::AirshipClient;
pub use config::{AirshipConfig, DataCenter, ParseDataCenterError, DEFAULT_TIMEOUT};
pub use error::AirshipError;
pub use live::LiveClient;
pub use memory::InMemoryClient;
pub use response::AirshipResponse;
pub use secret::Secret;

/// `User-Agent` sent on every request, so Airship support can tell this destination's traffic apart.
pub const USER_AGENT: &str = concat!("segment-airship/", env!("CARGO_PKG_VERSION"));
