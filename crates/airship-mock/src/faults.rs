//! Fault injection: responding to requests with an error status, dropping their connections,
//! and delaying every response.
//!
//! Rules form a queue. Each API request (any path outside `/__mock/`) takes the rule at the
//! front and counts it down. A rule whose count reaches zero leaves the queue, and a rule without
//! a count stays at the front until the faults are cleared. Latency is separate: it delays the
//! response to every API request, faulty or not.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

/// Retry-After sent with an injected 429 when the rule names none, in seconds.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// Effect of an injected fault on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Respond with `status` and Airship's error body for it, plus `Retry-After: <seconds>` when
    /// `retry_after` is set.
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    /// Read the request, then close the connection without any response.
    DropConnection,
}

/// One rule in the fault queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(flatten)]
    pub fault: FaultKind,
    /// Requests this rule still applies to; `None` applies to every request until cleared.
    pub remaining: Option<u32>,
}

/// Every fault currently configured, as `GET /__mock/faults` returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// The queue, front first.
    pub rules: Vec<FaultRule>,
    /// Delay before the response to every API request, in milliseconds.
    pub latency_ms: u64,
}

impl Faults {
    /// Takes the fault for the next request and counts its rule down.
    pub(crate) fn next_fault(&mut self) -> Option<FaultKind> {
        let rule = self.rules.first_mut()?;
        let fault = rule.fault;
        if let Some(remaining) = &mut rule.remaining {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                self.rules.remove(0);
            }
        }
        Some(fault)
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }
}

/// The mock's error in a fault setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultError(pub String);

/// Checks an injected status: an error status from 400 to 599.
pub(crate) fn check_status(status: u16) -> Result<(), FaultError> {
    if (400..=599).contains(&status) {
        Ok(())
    } else {
        Err(FaultError(format!(
            "status {status} is not an error status; use 400 to 599"
        )))
    }
}

/// Checks a rule count: absent for "every request", else at least 1.
pub(crate) fn check_count(count: Option<u32>) -> Result<(), FaultError> {
    match count {
        Some(0) => Err(FaultError(
            "count must be at least 1; leave it out to fail every request".into(),
        )),
        _ => Ok(()),
    }
}

/// Body of `POST /__mock/faults`. Each request adds one rule and may set the latency:
///
/// - `{"status":429,"count":3,"retry_after":1}`: the next 3 requests get 429 with
///   `Retry-After: 1`. Without `count`, every request fails until the faults are cleared.
///   Without `retry_after`, a 429 carries `Retry-After: 1` and other statuses none;
///   `"retry_after":null` sends no header.
/// - `{"drop_connections":2}`: the next 2 requests lose their connection without a response.
/// - `{"latency_ms":200}`: the response to every request waits 200 ms; 0 turns it off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    pub status: Option<u16>,
    pub count: Option<u32>,
    /// `None` when missing, `Some(None)` for an explicit `null`.
    #[serde(default, deserialize_with = "present")]
    pub retry_after: Option<Option<u64>>,
    pub latency_ms: Option<u64>,
    pub drop_connections: Option<u32>,
}

fn present<'de, D>(deserializer: D) -> Result<Option<Option<u64>>, D::Error>
where
    D: Deserializer<'de>,
{
    Option::<u64>::deserialize(deserializer).map(Some)
}

impl FaultRequest {
    /// Checks the request and returns the rule it adds, if any.
    pub fn rule(&self) -> Result<Option<FaultRule>, FaultError> {
        match (self.status, self.drop_connections) {
            (Some(_), Some(_)) => Err(FaultError(
                "status and drop_connections cannot be combined in one rule; post them separately"
                    .into(),
            )),
            (Some(status), None) => {
                check_status(status)?;
                check_count(self.count)?;
                let retry_after = match self.retry_after {
                    Some(explicit) => explicit,
                    None if status == 429 => Some(DEFAULT_RETRY_AFTER_SECS),
                    None => None,
                };
                Ok(Some(FaultRule {
                    fault: FaultKind::Status {
                        status,
                        retry_after,
                    },
                    remaining: self.count,
                }))
            }
            (None, Some(count)) => {
                if self.count.is_some() || self.retry_after.is_some() {
                    return Err(FaultError(
                        "drop_connections is itself the count; count and retry_after apply to status rules only".into(),
                    ));
                }
                check_count(Some(count))?;
                Ok(Some(FaultRule {
                    fault: FaultKind::DropConnection,
                    remaining: Some(count),
                }))
            }
            (None, None) => {
                if self.count.is_some() || self.retry_after.is_some() {
                    return Err(FaultError("count and retry_after need a status".into()));
                }
                if self.latency_ms.is_none() {
                    return Err(FaultError(
                        "expected status, drop_connections or latency_ms".into(),
                    ));
                }
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<FaultRule>, FaultError> {
        serde_json::from_str::<FaultRequest>(text).unwrap().rule()
    }

    #[test]
    fn status_rule_with_count_and_retry_after() {
        let rule = parse(r#"{"status":503,"count":2,"retry_after":7}"#).unwrap();

        assert_eq!(
            rule,
            Some(FaultRule {
                fault: FaultKind::Status {
                    status: 503,
                    retry_after: Some(7)
                },
                remaining: Some(2)
            })
        );
    }

    #[test]
    fn too_many_requests_gets_default_retry_after() {
        let default = parse(r#"{"status":429}"#).unwrap().unwrap();
        let none = parse(r#"{"status":429,"retry_after":null}"#)
            .unwrap()
            .unwrap();
        let server_error = parse(r#"{"status":500}"#).unwrap().unwrap();

        assert_eq!(
            default.fault,
            FaultKind::Status {
                status: 429,
                retry_after: Some(1)
            }
        );
        assert_eq!(default.remaining, None);
        assert_eq!(
            none.fault,
            FaultKind::Status {
                status: 429,
                retry_after: None
            }
        );
        assert_eq!(
            server_error.fault,
            FaultKind::Status {
                status: 500,
                retry_after: None
            }
        );
    }

    #[test]
    fn drop_and_latency_requests() {
        let drop = parse(r#"{"drop_connections":2}"#).unwrap().unwrap();

        assert_eq!(drop.fault, FaultKind::DropConnection);
        assert_eq!(drop.remaining, Some(2));
        assert_eq!(parse(r#"{"latency_ms":200}"#).unwrap(), None);
    }

    #[test]
    fn invalid_requests_rejected() {
        let invalid = [
            r#"{}"#,
            r#"{"status":200}"#,
            r#"{"status":503,"count":0}"#,
            r#"{"status":503,"drop_connections":1}"#,
            r#"{"drop_connections":0}"#,
            r#"{"drop_connections":1,"count":2}"#,
            r#"{"count":2,"latency_ms":5}"#,
        ];

        for text in invalid {
            assert!(parse(text).is_err(), "{text}");
        }
        assert!(serde_json::from_str::<FaultRequest>(r#"{"stauts":500}"#).is_err());
    }

    #[test]
    fn queue_counts_down_in_order() {
        let mut faults = Faults::default();
        faults.rules.push(FaultRule {
            fault: FaultKind::DropConnection,
            remaining: Some(1),
        });
        let unlimited = FaultKind::Status {
            status: 500,
            retry_after: None,
        };
        faults.rules.push(FaultRule {
            fault: unlimited,
            remaining: None,
        });

        assert_eq!(faults.next_fault(), Some(FaultKind::DropConnection));
        assert_eq!(faults.next_fault(), Some(unlimited));
        assert_eq!(faults.next_fault(), Some(unlimited));
        assert_eq!(faults.rules.len(), 1);
    }
}
