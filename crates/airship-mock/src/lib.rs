//! A local stand-in for the three Airship API endpoints the destination calls.
//!
//! It checks the `Accept` header, Bearer auth and `X-UA-Appkey` the way Airship does, checks the
//! basic body shape of each endpoint, and responds with Airship's success and error shapes. Every
//! request it receives, accepted or not, is recorded for tests through [`RunningMock::requests`]
//! or `GET /__mock/requests`. Tests and the HTTP service's demo mode start it with [`spawn`]; the
//! `airship-mock` binary runs it on its own.

mod checks;
mod config;
mod endpoints;
mod inspect;
mod record;
mod reply;
mod router;
mod server;
mod state;
mod validate;

pub use config::MockConfig;
pub use router::router;
pub use server::{spawn, RunningMock};
pub use state::{MockAirship, RecordedRequest};
