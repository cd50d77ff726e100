//! Event time: which field, which forms are accepted, and Airship's date-time form.
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Airship's date-time form: UTC, no fraction, no offset.
pub fn airship_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Parses one timestamp value in any accepted form.
pub fn parse_event_time(_value: &Value) -> Option<DateTime<Utc>> {
    None
}
