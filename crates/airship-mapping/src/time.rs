//! Event time: the field it comes from, the accepted forms, and Airship's date-time form.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use segment_model::Common;
use serde_json::Value;

use crate::outcome::{InvalidReason, Outcome};

/// Airship's date-time form: UTC, seconds precision, no offset.
pub fn airship_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Parses one timestamp value in any accepted form, or `None` when the form is not accepted.
///
/// Accepted forms:
/// - RFC 3339 / ISO 8601 with `Z` or an offset, with or without fractional seconds;
/// - `YYYY-MM-DD HH:MM:SS +HHMM`;
/// - a date alone, read as midnight UTC;
/// - epoch seconds, milliseconds or microseconds, as a JSON integer or a string of 10, 13 or 16
///   digits.
///
/// A date-time without an offset is rejected, because reading it in any time zone would be a guess.
pub fn parse_event_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(text) => parse_text(text),
        Value::Number(number) => parse_epoch(&number.to_string()),
        _ => None,
    }
}

fn parse_text(text: &str) -> Option<DateTime<Utc>> {
    if let Some(time) = parse_epoch(text) {
        return Some(time);
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    // ISO 8601 forms RFC 3339 leaves out: `+0200` or `+02` offsets, and a space before the offset.
    const WITH_OFFSET: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ];
    for format in WITH_OFFSET {
        if let Ok(time) = DateTime::<FixedOffset>::parse_from_str(text, format) {
            return Some(time.with_timezone(&Utc));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date
            .and_hms_opt(0, 0, 0)
            .map(|midnight| Utc.from_utc_datetime(&midnight));
    }
    None
}

/// Explains why a time value was not accepted, and which forms are.
pub(crate) fn unreadable_time_hint(value: &Value) -> &'static str {
    let naive = value.as_str().is_some_and(|text| {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
            || NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").is_ok()
    });
    if naive {
        "has no time-zone offset, so its instant is unknown; add `Z` for UTC or an offset such as +02:00"
    } else {
        "is not a date-time; send RFC 3339 with Z or an offset (2026-05-02T12:00:00Z), a date (2026-05-02), or epoch seconds, milliseconds or microseconds"
    }
}

/// Reads epoch seconds (10 digits), milliseconds (13) or microseconds (16).
fn parse_epoch(text: &str) -> Option<DateTime<Utc>> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: i64 = text.parse().ok()?;
    match text.len() {
        10 => DateTime::from_timestamp(number, 0),
        13 => DateTime::from_timestamp_millis(number),
        16 => DateTime::from_timestamp_micros(number),
        _ => None,
    }
}

/// Reads the event time of a message with the name of the field it came from: `timestamp`, else
/// `originalTimestamp`, else `receivedAt`, else `now` (named `now`). A present but unreadable field
/// is an error naming it, with no fallback to the next field.
pub(crate) fn event_time(
    common: &Common,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, &'static str), Outcome> {
    let fields = [
        ("timestamp", &common.timestamp),
        ("originalTimestamp", &common.original_timestamp),
        ("receivedAt", &common.received_at),
    ];
    for (field, value) in fields {
        match value {
            None | Some(Value::Null) => continue,
            Some(value) => {
                let time = parse_event_time(value).ok_or_else(|| {
                    Outcome::invalid(
                        InvalidReason::InvalidTimestamp,
                        field,
                        format!("{field} {value} {}", unreadable_time_hint(value)),
                    )
                })?;
                return Ok((time, field));
            }
        }
    }
    Ok((now, "now"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn airship(value: Value) -> Option<String> {
        parse_event_time(&value).map(airship_time)
    }

    #[test]
    fn rfc3339_forms_convert_to_utc() {
        assert_eq!(
            airship(json!("2026-05-02T12:00:00Z")).as_deref(),
            Some("2026-05-02T12:00:00")
        );
        assert_eq!(
            airship(json!("2026-05-02T12:00:00.789Z")).as_deref(),
            Some("2026-05-02T12:00:00")
        );
        assert_eq!(
            airship(json!("2026-05-02T14:30:00+02:00")).as_deref(),
            Some("2026-05-02T12:30:00")
        );
        assert_eq!(
            airship(json!("2026-05-02T01:00:00-05:00")).as_deref(),
            Some("2026-05-02T06:00:00")
        );
    }

    #[test]
    fn iso_offsets_without_colon_are_accepted() {
        assert_eq!(
            airship(json!("2026-05-02T14:30:00.123+0200")).as_deref(),
            Some("2026-05-02T12:30:00")
        );
        assert_eq!(
            airship(json!("2026-05-02 14:30:00 +0200")).as_deref(),
            Some("2026-05-02T12:30:00")
        );
    }

    #[test]
    fn date_alone_is_midnight_utc() {
        assert_eq!(
            airship(json!("1990-07-14")).as_deref(),
            Some("1990-07-14T00:00:00")
        );
    }

    #[test]
    fn epoch_numbers_by_digit_count() {
        assert_eq!(
            airship(json!(1777723200)).as_deref(),
            Some("2026-05-02T12:00:00")
        );
        assert_eq!(
            airship(json!(1777723200123_i64)).as_deref(),
            Some("2026-05-02T12:00:00")
        );
        assert_eq!(
            airship(json!("1777723200123456")).as_deref(),
            Some("2026-05-02T12:00:00")
        );
        assert_eq!(
            airship(json!("1777723200")).as_deref(),
            Some("2026-05-02T12:00:00")
        );
    }

    #[test]
    fn other_forms_are_rejected() {
        for value in [
            json!("2026-05-02T12:00:00"),
            json!("yesterday"),
            json!("177772320"),
            json!(1777723200.5),
            json!(true),
            json!("02/05/2026"),
            json!(""),
        ] {
            assert_eq!(parse_event_time(&value), None, "{value}");
        }
    }

    #[test]
    fn airship_form_drops_fraction() {
        let time = Utc.with_ymd_and_hms(2026, 5, 2, 12, 0, 0).unwrap()
            + chrono::Duration::milliseconds(999);
        assert_eq!(airship_time(time), "2026-05-02T12:00:00");
    }
}
