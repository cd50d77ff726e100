//! Parsing of the `Retry-After` header into a wait time.
//!
//! Airship's REST spec does not document `Retry-After`, but its Android SDK reads it as seconds
//! (integer or decimal) or as an ISO 8601 date, and HTTP allows an HTTP-date. All of them are
//! accepted here.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Parses a `Retry-After` value relative to `now`. A date in the past gives zero; an unreadable
/// value gives `None`.
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }

    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }

    let date = parse_date(value)?;
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// Reads an HTTP-date in any of its three forms, or an ISO 8601 date-time (UTC when it has no offset).
fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_rfc3339(value) {
        return Some(date.with_timezone(&Utc));
    }

    // Obsolete HTTP-date forms (RFC 850 and asctime), then ISO 8601 without an offset.
    const NAIVE_FORMATS: [&str; 4] = [
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
    ];
    NAIVE_FORMATS.iter().find_map(|format| {
        NaiveDateTime::parse_from_str(value, format)
            .ok()
            .map(|naive| naive.and_utc())
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 15, 14, 30, 0).unwrap()
    }

    #[test]
    fn integer_seconds() {
        assert_eq!(
            parse_retry_after("120", now()),
            Some(Duration::from_secs(120))
        );
    }

    #[test]
    fn decimal_seconds() {
        assert_eq!(
            parse_retry_after(" 1.5 ", now()),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn negative_or_non_finite_seconds_rejected() {
        assert_eq!(parse_retry_after("-1", now()), None);
        assert_eq!(parse_retry_after("NaN", now()), None);
        assert_eq!(parse_retry_after("inf", now()), None);
    }

    #[test]
    fn imf_fixdate() {
        let wait = parse_retry_after("Mon, 15 Jan 2024 14:30:45 GMT", now());

        assert_eq!(wait, Some(Duration::from_secs(45)));
    }

    #[test]
    fn rfc850_date() {
        let wait = parse_retry_after("Monday, 15-Jan-24 14:31:00 GMT", now());

        assert_eq!(wait, Some(Duration::from_secs(60)));
    }

    #[test]
    fn asctime_date() {
        let wait = parse_retry_after("Mon Jan 15 14:31:00 2024", now());

        assert_eq!(wait, Some(Duration::from_secs(60)));
    }

    #[test]
    fn iso8601_with_and_without_offset() {
        assert_eq!(
            parse_retry_after("2024-01-15T14:30:10Z", now()),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("2024-01-15T15:30:10+01:00", now()),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("2024-01-15T14:30:10.500", now()),
            Some(Duration::from_millis(10_500))
        );
    }

    #[test]
    fn past_date_gives_zero() {
        let wait = parse_retry_after("Mon, 15 Jan 2024 14:00:00 GMT", now());

        assert_eq!(wait, Some(Duration::ZERO));
    }

    #[test]
    fn garbage_gives_none() {
        assert_eq!(parse_retry_after("soon", now()), None);
        assert_eq!(parse_retry_after("", now()), None);
    }
}
