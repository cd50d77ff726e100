//! Integration tests for `airship-client`, built as one test binary.

mod against_mock;
mod in_memory;
mod live_client;
