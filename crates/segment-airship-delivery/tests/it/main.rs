//! The delivery engine against the mock Airship server on loopback, through the live client.

mod coalescing;
mod faults;
mod support;
