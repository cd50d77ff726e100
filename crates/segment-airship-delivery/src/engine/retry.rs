//! The retry decision over Airship's responses, the backoff between attempts, and the gate that
//! pauses every worker after a `Retry-After` or a refused token.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use airship_client::{AirshipError, AirshipResponse};
use tokio::sync::watch;
use tokio::time::Instant;

/// Longest `Retry-After` honoured; a longer one is shortened to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// Next step after one attempt at a request.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Airship accepted the request.
    Accepted(AirshipResponse),
    /// The same request may succeed later: 408, 429, 5xx, a timeout or a connection failure.
    Retry {
        retry_after: Option<Duration>,
        error: AirshipError,
    },
    /// The request fails the same way every time. `split` is set when the status depends on the
    /// content, so sending the carried messages in smaller requests can isolate the bad one.
    Reject { split: bool, error: AirshipError },
    /// Airship refused the credentials, which affects every request of the project.
    Unauthorized(AirshipError),
}

/// Decides the next step from the result of one attempt.
pub(crate) fn judge(result: Result<AirshipResponse, AirshipError>) -> Verdict {
    let error = match result {
        Ok(response) => return Verdict::Accepted(response),
        Err(error) => error,
    };
    match &error {
        AirshipError::Api {
            status,
            retry_after,
            ..
        } => match status {
            408 | 429 | 500..=599 => Verdict::Retry {
                retry_after: *retry_after,
                error,
            },
            // A malformed or oversized body: one of the carried messages is at fault.
            400 | 413 => Verdict::Reject { split: true, error },
            _ => Verdict::Reject {
                split: false,
                error,
            },
        },
        AirshipError::Timeout { .. } | AirshipError::Connect { .. } => Verdict::Retry {
            retry_after: None,
            error,
        },
        AirshipError::Unauthorized { .. } => Verdict::Unauthorized(error),
        AirshipError::InvalidRequest { .. } => Verdict::Reject {
            split: false,
            error,
        },
    }
}

/// When retries stop and how long to wait between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait after the first failed attempt; it doubles with each further one.
    pub initial_backoff: Duration,
    /// Maximum wait between attempts, unless Airship requests longer with `Retry-After`.
    pub max_backoff: Duration,
    /// Failed attempts after which a message becomes a dead letter; `None` for no limit.
    pub max_attempts: Option<u32>,
    /// Time in the spool after which a message that fails again becomes a dead letter.
    pub max_age: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(60),
            max_attempts: None,
            max_age: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl RetryPolicy {
    /// Returns the wait after the `failures`-th failed attempt (counting from 1).
    ///
    /// `Retry-After` is followed as given, up to 15 minutes, plus up to a tenth more so that
    /// workers paused together do not retry together. Otherwise the wait is exponential, capped
    /// at `max_backoff`, and drawn from its upper half.
    pub fn delay(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            let wait = wait.min(MAX_RETRY_AFTER);
            return wait + wait.mul_f64(fastrand::f64() / 10.0);
        }
        let doublings = failures.saturating_sub(1).min(30);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff);
        ceiling / 2 + ceiling.mul_f64(fastrand::f64() / 2.0)
    }

    /// Tells whether a message with `attempts` failed attempts, in the spool since `age`, gets
    /// no more attempts.
    pub fn exhausted(&self, attempts: u32, age: Duration) -> bool {
        age >= self.max_age || self.max_attempts.is_some_and(|max| attempts >= max)
    }
}

/// Pauses shared by every worker of one Airship project.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// No request starts before this instant; set from `Retry-After`.
    paused_until: Mutex<Option<Instant>>,
    /// Airship refused the credentials and no request has succeeded since.
    unauthorized: AtomicBool,
}

/// The shutdown signal, observed by every wait of the engine.
pub(crate) type Shutdown = watch::Receiver<bool>;

impl Gate {
    /// Holds requests back until `wait` from now, unless a later pause is already set.
    pub(crate) fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// Waits until no pause is in force. Returns `false` when shutdown began first.
    pub(crate) async fn wait_open(&self, shutdown: &mut Shutdown) -> bool {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(until) if until > Instant::now() => {
                    if !sleep_until(until, shutdown).await {
                        return false;
                    }
                }
                Some(_) | None => return !*shutdown.borrow(),
            }
        }
    }

    /// Marks the credentials refused. Returns `true` if they were accepted before, so the caller
    /// logs the change once.
    pub(crate) fn refuse(&self) -> bool {
        !self.unauthorized.swap(true, Ordering::SeqCst)
    }

    /// Marks the credentials accepted. Returns `true` if they were refused before.
    pub(crate) fn accept(&self) -> bool {
        self.unauthorized.swap(false, Ordering::SeqCst)
    }

    /// Tells whether delivery is paused because Airship refused the credentials.
    pub(crate) fn is_unauthorized(&self) -> bool {
        self.unauthorized.load(Ordering::SeqCst)
    }
}

/// Sleeps for `wait`. Returns `false` when shutdown began first.
pub(crate) async fn sleep(wait: Duration, shutdown: &mut Shutdown) -> bool {
    sleep_until(Instant::now() + wait, shutdown).await
}

async fn sleep_until(until: Instant, shutdown: &mut Shutdown) -> bool {
    if *shutdown.borrow() {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep_until(until) => true,
        _ = shutdown.wait_for(|stopping| *stopping) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn api(status: u16, retry_after: Option<Duration>) -> AirshipError {
        AirshipError::Api {
            status,
            error: None,
            error_code: None,
            details: None,
            operation_id: None,
            body: String::new(),
            retry_after,
        }
    }

    fn verdict_name(result: Result<AirshipResponse, AirshipError>) -> &'static str {
        match judge(result) {
            Verdict::Accepted(_) => "accepted",
            Verdict::Retry { .. } => "retry",
            Verdict::Reject { split: true, .. } => "reject_split",
            Verdict::Reject { split: false, .. } => "reject",
            Verdict::Unauthorized(_) => "unauthorized",
        }
    }

    #[test]
    fn statuses_map_to_verdicts() {
        let cases = [
            (408, "retry"),
            (429, "retry"),
            (500, "retry"),
            (503, "retry"),
            (599, "retry"),
            (400, "reject_split"),
            (413, "reject_split"),
            (403, "reject"),
            (404, "reject"),
            (409, "reject"),
        ];
        for (status, expected) in cases {
            assert_eq!(verdict_name(Err(api(status, None))), expected, "{status}");
        }
    }

    #[test]
    fn transport_failures_are_retried() {
        let timeout = AirshipError::Timeout {
            timeout: Duration::from_secs(1),
        };
        let connect = AirshipError::Connect {
            message: "refused".into(),
        };

        assert_eq!(verdict_name(Err(timeout)), "retry");
        assert_eq!(verdict_name(Err(connect)), "retry");
    }

    #[test]
    fn unauthorized_and_invalid_request() {
        let unauthorized = AirshipError::Unauthorized {
            base_url: "https://go.airship.eu".into(),
            body: String::new(),
        };
        let invalid = AirshipError::InvalidRequest {
            message: "bad".into(),
        };

        assert_eq!(verdict_name(Err(unauthorized)), "unauthorized");
        assert_eq!(verdict_name(Err(invalid)), "reject");
    }

    #[test]
    fn success_is_accepted() {
        let response = AirshipResponse {
            status: 200,
            operation_id: None,
            warnings: Vec::new(),
            body: json!({"ok": true}),
        };

        assert_eq!(verdict_name(Ok(response)), "accepted");
    }

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..RetryPolicy::default()
        };

        for _ in 0..100 {
            let first = policy.delay(1, None);
            let third = policy.delay(3, None);
            let tenth = policy.delay(10, None);
            assert!((50..=100).contains(&first.as_millis()), "{first:?}");
            assert!((200..=400).contains(&third.as_millis()), "{third:?}");
            assert!((500..=1000).contains(&tenth.as_millis()), "{tenth:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_with_small_jitter() {
        let policy = RetryPolicy::default();

        for _ in 0..100 {
            let wait = policy.delay(1, Some(Duration::from_secs(2)));
            assert!(
                (2000..=2200).contains(&wait.as_millis()),
                "{wait:?} is outside 2 s plus a tenth"
            );
        }
        let capped = policy.delay(1, Some(Duration::from_secs(3600)));
        assert!(
            capped <= MAX_RETRY_AFTER + MAX_RETRY_AFTER / 10,
            "{capped:?}"
        );
    }

    #[test]
    fn exhaustion_by_age_or_attempts() {
        let policy = RetryPolicy {
            max_attempts: Some(3),
            max_age: Duration::from_secs(60),
            ..RetryPolicy::default()
        };

        assert!(!policy.exhausted(2, Duration::from_secs(59)));
        assert!(policy.exhausted(3, Duration::ZERO));
        assert!(policy.exhausted(0, Duration::from_secs(60)));
        let unlimited = RetryPolicy {
            max_attempts: None,
            ..policy
        };
        assert!(!unlimited.exhausted(1_000, Duration::ZERO));
    }
}
