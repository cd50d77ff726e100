//! State shared by every request handler: the intake that validates and spools messages, the
//! accepted write keys and the clock.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use segment_airship_delivery::Intake;

/// The time source used as "now" when mapping; tests replace it to fix the time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// State of the router: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct AppState {
    /// Maps each message and commits the sendable ones to the spool the engine delivers from.
    pub intake: Intake,
    /// Accepted write keys, or none required.
    pub auth: Auth,
    /// "Now" for the mapping: the fallback event time and the reference for Airship's time window.
    pub clock: Clock,
}

impl AppState {
    /// Creates the state with the system clock.
    pub fn new(intake: Intake, auth: Auth) -> AppState {
        AppState {
            intake,
            auth,
            clock: Arc::new(Utc::now),
        }
    }

    /// Replaces the clock.
    pub fn with_clock(
        mut self,
        clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    ) -> AppState {
        self.clock = Arc::new(clock);
        self
    }
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("intake", &self.intake)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// A Segment write key. `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct WriteKey(String);

impl WriteKey {
    /// Wraps `key`.
    pub fn new(key: impl Into<String>) -> WriteKey {
        WriteKey(key.into())
    }

    /// Compares with `candidate` in time that depends only on the lengths, so response timing
    /// does not reveal how much of a guessed key is right.
    fn matches(&self, candidate: &str) -> bool {
        let expected = self.0.as_bytes();
        let candidate = candidate.as_bytes();
        if expected.len() != candidate.len() {
            return false;
        }
        expected
            .iter()
            .zip(candidate)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
    }
}

impl fmt::Debug for WriteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for WriteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl FromStr for WriteKey {
    type Err = Infallible;

    /// Parses one key from a flag or from `SEGMENT_WRITE_KEYS`, trimming surrounding whitespace so
    /// `key1, key2` reads as two keys. Segment write keys never contain spaces.
    fn from_str(key: &str) -> Result<WriteKey, Infallible> {
        Ok(WriteKey::new(key.trim()))
    }
}

/// Failure to set up write-key authentication.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No write key was given.
    #[error("no write key given")]
    NoWriteKeys,
    /// A write key is the empty string, which would accept a Basic auth header with no user name.
    #[error("write key number {position} is empty")]
    EmptyWriteKey { position: usize },
}

/// Authentication policy for callers.
#[derive(Clone, Debug)]
pub enum Auth {
    /// Only calls carrying one of these write keys.
    WriteKeys(Arc<[WriteKey]>),
    /// Every call, with or without a key.
    Disabled,
}

impl Auth {
    /// Accepts calls carrying any of `keys`; fails when there is none or one is empty.
    pub fn write_keys(keys: impl IntoIterator<Item = WriteKey>) -> Result<Auth, AuthError> {
        let keys: Vec<WriteKey> = keys.into_iter().collect();
        if keys.is_empty() {
            return Err(AuthError::NoWriteKeys);
        }
        if let Some(index) = keys.iter().position(|key| key.0.is_empty()) {
            return Err(AuthError::EmptyWriteKey {
                position: index + 1,
            });
        }
        Ok(Auth::WriteKeys(keys.into()))
    }

    /// Tells whether a call needs a write key at all.
    pub(crate) fn is_required(&self) -> bool {
        matches!(self, Auth::WriteKeys(_))
    }

    /// Tells whether `candidate` is an accepted write key; always true when auth is disabled.
    pub(crate) fn accepts(&self, candidate: &str) -> bool {
        match self {
            // Every key is compared so the time taken does not depend on which one matched.
            Auth::WriteKeys(keys) => keys
                .iter()
                .fold(false, |found, key| key.matches(candidate) | found),
            Auth::Disabled => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_key_debug_is_redacted() {
        let auth = Auth::write_keys([WriteKey::new("wk-secret")]).unwrap();

        let debug = format!("{auth:?} {}", WriteKey::new("wk-secret"));

        assert!(!debug.contains("wk-secret"), "{debug}");
    }

    #[test]
    fn parsed_write_key_is_trimmed() {
        let keys: Vec<WriteKey> = "key1, key2 "
            .split(',')
            .map(|k| k.parse().unwrap())
            .collect();
        let auth = Auth::write_keys(keys).unwrap();

        assert!(auth.accepts("key2"));
        assert!(!auth.accepts(" key2"));
    }

    #[test]
    fn any_configured_key_is_accepted() {
        let auth = Auth::write_keys([WriteKey::new("first"), WriteKey::new("second")]).unwrap();

        assert!(auth.accepts("first"));
        assert!(auth.accepts("second"));
        assert!(!auth.accepts("secon"));
        assert!(!auth.accepts(""));
    }

    #[test]
    fn no_keys_is_an_error() {
        assert_eq!(
            Auth::write_keys(Vec::new()).unwrap_err(),
            AuthError::NoWriteKeys
        );
    }

    #[test]
    fn empty_key_is_an_error() {
        let error = Auth::write_keys([WriteKey::new("a"), WriteKey::new("")]).unwrap_err();

        assert_eq!(error, AuthError::EmptyWriteKey { position: 2 });
    }

    #[test]
    fn disabled_auth_accepts_anything() {
        assert!(Auth::Disabled.accepts(""));
        assert!(!Auth::Disabled.is_required());
    }
}
