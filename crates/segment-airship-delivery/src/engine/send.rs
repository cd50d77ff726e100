//! Sends one planned request until it is delivered, rejected, out of retries or interrupted by
//! shutdown, and charges the result to the messages it carries.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use airship_client::{AirshipClient, AirshipError, AirshipResponse, DataCenter};
use chrono::{DateTime, Utc};

use crate::engine::plan::{self, Planned, Unit};
use crate::engine::retry::{self, judge, Gate, RetryPolicy, Shutdown, Verdict};
use crate::engine::stats::{Counter, Stats};
use crate::spool::{DeadLetterReason, Failure, Spool, SpoolKey};

/// The Airship project the engine writes to, named in the error logged when Airship refuses the
/// credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AirshipTarget {
    pub data_center: DataCenter,
    pub base_url: String,
}

/// Facts the sender needs about each message of a flush.
#[derive(Debug, Clone)]
pub(crate) struct MessageInfo {
    pub(crate) key: SpoolKey,
    pub(crate) message_id: Option<String>,
    pub(crate) enqueued_at: DateTime<Utc>,
    /// Failed attempts before this flush.
    pub(crate) attempts: u32,
}

/// End of a message's delivery, when it did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fate {
    Dead {
        failure: Failure,
        attempts: u32,
    },
    /// Not finished because the engine is shutting down; the message stays in the spool.
    Released,
}

/// Everything a request needs besides itself; shared by every worker.
#[derive(Debug)]
pub(crate) struct RequestSender {
    pub(crate) client: Arc<dyn AirshipClient>,
    pub(crate) spool: Arc<dyn Spool>,
    pub(crate) policy: RetryPolicy,
    pub(crate) gate: Gate,
    pub(crate) stats: Arc<Stats>,
    pub(crate) target: AirshipTarget,
    /// Wait between attempts while Airship refuses the credentials.
    pub(crate) auth_probe_interval: Duration,
}

/// The end of one request's attempts.
enum Finished {
    Delivered,
    /// Rejected for its content while carrying several units: send each half on its own.
    Split(Vec<Unit>, Vec<Unit>),
    Dead {
        units: Vec<Unit>,
        failure: Failure,
        attempts: u32,
    },
    /// Some units ran out of retries; the others are planned again and sent at once.
    Expired {
        expired: Vec<Unit>,
        failure: Failure,
        attempts: u32,
        remaining: Vec<Unit>,
    },
    Released(Vec<Unit>),
}

impl RequestSender {
    /// Sends `planned`, splitting it when Airship rejects its content, and returns the fate of
    /// every carried message that was not delivered. Halves of a split are sent in order.
    pub(crate) async fn deliver(
        &self,
        planned: Planned,
        messages: &[MessageInfo],
        shutdown: &mut Shutdown,
    ) -> Vec<(usize, Fate)> {
        let mut fates = Vec::new();
        let mut queue = VecDeque::from([planned]);

        while let Some(planned) = queue.pop_front() {
            match self.send(planned, messages, shutdown).await {
                Finished::Delivered => {}
                Finished::Split(first, second) => {
                    let mut replanned = plan::plan(first);
                    replanned.extend(plan::plan(second));
                    for planned in replanned.into_iter().rev() {
                        queue.push_front(planned);
                    }
                }
                Finished::Dead {
                    units,
                    failure,
                    attempts,
                } => charge(&mut fates, &units, &failure, attempts),
                Finished::Expired {
                    expired,
                    failure,
                    attempts,
                    remaining,
                } => {
                    charge(&mut fates, &expired, &failure, attempts);
                    for planned in plan::plan(remaining).into_iter().rev() {
                        queue.push_front(planned);
                    }
                }
                Finished::Released(units) => {
                    fates.extend(units.iter().map(|unit| (unit.message, Fate::Released)));
                }
            }
        }

        // Anything still queued was never tried because of shutdown.
        for planned in queue {
            fates.extend(
                planned
                    .units
                    .iter()
                    .map(|unit| (unit.message, Fate::Released)),
            );
        }
        fates
    }

    /// Sends one request until it gets a final response.
    async fn send(
        &self,
        planned: Planned,
        messages: &[MessageInfo],
        shutdown: &mut Shutdown,
    ) -> Finished {
        let mut failures = 0u32;
        loop {
            if !self.gate.wait_open(shutdown).await {
                return Finished::Released(planned.units);
            }

            self.stats.add(Counter::Requests, 1);
            let result = self.client.send(&planned.request).await;

            match judge(result) {
                Verdict::Accepted(response) => {
                    self.accepted(&planned, messages, &response);
                    return Finished::Delivered;
                }
                Verdict::Retry { retry_after, error } => {
                    failures += 1;
                    self.stats.add(Counter::Retries, 1);
                    self.record_failure(&planned, messages, &error).await;
                    if let Some(wait) = retry_after {
                        self.gate.pause_for(wait);
                    }

                    let now = Utc::now();
                    let (expired, remaining): (Vec<Unit>, Vec<Unit>) =
                        planned.units.iter().cloned().partition(|unit| {
                            let info = &messages[unit.message];
                            self.policy
                                .exhausted(info.attempts + failures, age(info.enqueued_at, now))
                        });
                    let attempts = expired
                        .iter()
                        .map(|unit| messages[unit.message].attempts + failures)
                        .max()
                        .unwrap_or(failures);
                    if remaining.is_empty() {
                        let failure = exhausted(&error, attempts);
                        log_dead_letters(&planned, messages, &failure);
                        return Finished::Dead {
                            units: expired,
                            failure,
                            attempts,
                        };
                    }

                    let delay = self.policy.delay(failures, retry_after);
                    log_retry(&planned, failures, delay, &error);
                    if !retry::sleep(delay, shutdown).await {
                        return Finished::Released(planned.units);
                    }
                    if !expired.is_empty() {
                        let failure = exhausted(&error, attempts);
                        log_dead_letters(&planned, messages, &failure);
                        return Finished::Expired {
                            expired,
                            failure,
                            attempts,
                            remaining,
                        };
                    }
                }
                Verdict::Reject { split, error } => {
                    let units = match plan::halves(planned.units.clone()) {
                        Ok((first, second)) if split => {
                            tracing::info!(
                                path = %planned.request.path,
                                status = error.status(),
                                units = planned.units.len(),
                                "Airship rejected a merged request; sending its halves apart to find the bad message."
                            );
                            return Finished::Split(first, second);
                        }
                        Ok((mut first, second)) => {
                            first.extend(second);
                            first
                        }
                        Err(units) => units,
                    };
                    let failure = failure(DeadLetterReason::Rejected, &error, error.to_string());
                    log_dead_letters(&planned, messages, &failure);
                    let attempts = failures + 1;
                    return Finished::Dead {
                        units,
                        failure,
                        attempts,
                    };
                }
                Verdict::Unauthorized(error) => {
                    if self.gate.refuse() {
                        tracing::error!(
                            data_center = %self.target.data_center,
                            base_url = %self.target.base_url,
                            error = %error,
                            probe_interval_secs = self.auth_probe_interval.as_secs(),
                            "Airship refused the access token, so delivery to this project is paused and messages wait in the spool; fix the token or the data center and delivery resumes."
                        );
                    }
                    if !retry::sleep(self.auth_probe_interval, shutdown).await {
                        return Finished::Released(planned.units);
                    }
                }
            }
        }
    }

    fn accepted(&self, planned: &Planned, messages: &[MessageInfo], response: &AirshipResponse) {
        if self.gate.accept() {
            tracing::info!(
                data_center = %self.target.data_center,
                "Airship accepted the access token again; delivery resumed."
            );
        }
        if response.warnings.is_empty() {
            tracing::debug!(
                path = %planned.request.path,
                status = response.status,
                operation_id = response.operation_id.as_deref(),
                messages = planned.units.len(),
                "Airship accepted a request."
            );
        } else {
            self.stats.add(Counter::AirshipWarnings, 1);
            tracing::warn!(
                path = %planned.request.path,
                operation_id = response.operation_id.as_deref(),
                warnings = ?response.warnings,
                message_id = first_message_id(planned, messages),
                "Airship accepted a request but skipped part of it."
            );
        }
    }

    /// Counts the failed attempt in the spool, so the count survives a restart.
    async fn record_failure(
        &self,
        planned: &Planned,
        messages: &[MessageInfo],
        error: &AirshipError,
    ) {
        let keys: BTreeSet<SpoolKey> = planned
            .units
            .iter()
            .map(|unit| messages[unit.message].key)
            .collect();
        if let Err(spool_error) = self
            .spool
            .record_failures(keys.into_iter().collect(), error.to_string())
            .await
        {
            tracing::warn!(
                error = %spool_error,
                "Failed to record a failed attempt in the spool; the attempt count may be low after a restart."
            );
        }
    }
}

fn charge(fates: &mut Vec<(usize, Fate)>, units: &[Unit], failure: &Failure, attempts: u32) {
    fates.extend(units.iter().map(|unit| {
        let fate = Fate::Dead {
            failure: failure.clone(),
            attempts,
        };
        (unit.message, fate)
    }));
}

fn age(enqueued_at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (now - enqueued_at).to_std().unwrap_or(Duration::ZERO)
}

fn exhausted(error: &AirshipError, attempts: u32) -> Failure {
    let message = format!(
        "gave up after {attempts} failed attempts, the limit of --max-attempts or --max-age: {error}"
    );
    failure(DeadLetterReason::RetriesExhausted, error, message)
}

/// Builds the stored failure from Airship's error, keeping its `error`, `details` and
/// `operation_id`.
pub(crate) fn failure(reason: DeadLetterReason, error: &AirshipError, summary: String) -> Failure {
    let mut failure = Failure {
        reason,
        summary,
        status: error.status(),
        error: None,
        details: None,
        operation_id: None,
    };
    match error {
        AirshipError::Api {
            error,
            details,
            operation_id,
            ..
        } => {
            failure.error = error.clone();
            failure.details = details.clone();
            failure.operation_id = operation_id.clone();
        }
        AirshipError::Unauthorized { .. }
        | AirshipError::Timeout { .. }
        | AirshipError::Connect { .. }
        | AirshipError::InvalidRequest { .. } => {}
    }
    failure
}

fn first_message_id<'a>(planned: &Planned, messages: &'a [MessageInfo]) -> Option<&'a str> {
    planned
        .units
        .first()
        .and_then(|unit| messages[unit.message].message_id.as_deref())
}

/// Logs a retry at WARN on the first failure and then on every power of two, so a long outage
/// logs a few lines per request instead of one per attempt.
fn log_retry(planned: &Planned, failures: u32, delay: Duration, error: &AirshipError) {
    if failures.is_power_of_two() {
        tracing::warn!(
            path = %planned.request.path,
            status = error.status(),
            attempt = failures,
            delay_ms = delay.as_millis() as u64,
            messages = planned.units.len(),
            error = %error,
            "Airship request failed; retrying."
        );
    } else {
        tracing::debug!(
            path = %planned.request.path,
            attempt = failures,
            delay_ms = delay.as_millis() as u64,
            "Airship request failed again; retrying."
        );
    }
}

fn log_dead_letters(planned: &Planned, messages: &[MessageInfo], failure: &Failure) {
    tracing::error!(
        path = %planned.request.path,
        reason = failure.reason.code(),
        status = failure.status,
        operation_id = failure.operation_id.as_deref(),
        messages = planned.units.len(),
        message_id = first_message_id(planned, messages),
        error = %failure.summary,
        "Messages moved to the dead letters; list them with `segment-airship dead-letters list`."
    );
}
