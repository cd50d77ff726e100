//! Contract suite: drives `LiveClient` through every kind of request the destination sends and
//! every error class it must tell apart, against one Airship base URL.
//!
//! By default the target is an in-process `airship-mock` with its clock fixed at
//! NOW = 2026-05-02T12:00:00Z. With `AIRSHIP_CONTRACT_BASE_URL`, `AIRSHIP_CONTRACT_APP_KEY` and
//! `AIRSHIP_CONTRACT_ACCESS_TOKEN` all set, the same tests run against that URL instead, such as a
//! real Airship project, with the system clock. Tests that need fault injection or the mock's
//! stored profiles then return early, saying so on stderr. `docs/contract-tests.md` describes
//! both modes.

mod errors;
mod requests;
mod target;
