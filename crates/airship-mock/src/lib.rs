//! A local stand-in for the Airship API endpoints the destination calls, behaving like Airship.
//!
//! It checks the `Accept` header, auth and `X-UA-Appkey` the way Airship does. It rejects every
//! body Airship rejects, with Airship's error shape: unknown keys, upper-case event names, events
//! outside the 90-day window, and the documented count and length limits. Where Airship responds
//! 200 with `tag_warnings` or `warnings`, so does the mock: for tag groups, attributes and named
//! users that the mocked [`Project`] lacks. It keeps each named user's tags, attributes and custom
//! events, served by `GET /api/named_users?id=`.
//!
//! Every request, accepted or not, is recorded with its status for tests through
//! [`RunningMock::requests`] or `GET /__mock/requests`. Faults (error statuses, dropped
//! connections, latency) are injected with the methods of [`MockAirship`] or `POST /__mock/faults`.
//! Tests and the HTTP service's demo mode start it with [`spawn`]; the `airship-mock` binary runs
//! it on its own. `docs/contract-tests.md` describes the routes, flags and config file.

mod checks;
mod config;
mod connection;
mod endpoints;
mod faults;
mod inspect;
mod named_users;
mod project;
mod record;
mod reply;
mod router;
mod server;
mod state;
mod validate;

pub use config::{parse_now, ConfigError, MockConfig};
pub use faults::{
    FaultError, FaultKind, FaultRequest, FaultRule, Faults, DEFAULT_RETRY_AFTER_SECS,
};
pub use named_users::NamedUser;
pub use project::{predefined_attributes, AttributeType, Project, GROUP_ATTRIBUTE_PREFIX};
pub use router::router;
pub use server::{spawn, spawn_with, RunningMock};
pub use state::{InjectedFault, MockAirship, RecordedRequest};
