//! stub
use crate::outcome::{Outcome, SkipReason, Warning};
use crate::settings::Settings;
use chrono::{DateTime, Utc};
use segment_model::Identify;
pub(crate) fn map(
    _m: &Identify,
    _u: &str,
    _s: &Settings,
    _n: DateTime<Utc>,
    _w: &mut Vec<Warning>,
) -> Outcome {
    Outcome::skipped(SkipReason::NoTraits, "stub")
}
