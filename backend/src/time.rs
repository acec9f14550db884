//! Timestamp parsing for the many forms real data uses.
//!
//! Accepted (everything the corpus shows that is unambiguous):
//! - RFC 3339 with `Z` or a `±hh:mm` offset and any number of fractional digits
//!   (`2024-05-24T13:17:15Z`, `…15.123Z`, `…15.123456+00:00`, `…15.351-07:00`);
//! - the same with a `±hhmm` offset without colon (`2019-10-03T16:00:04.653+0000`, CloudWatch);
//! - a space instead of `T`;
//! - no offset at all (`2024-05-24 13:17:15.000000000`, Panther): taken as UTC, because
//!   every AWS service writes UTC and a local time would have no zone to apply anyway;
//! - JSON numbers as epoch time, decided by magnitude: `|n| >= 1e11` is milliseconds
//!   (`1463847074000`, also `1666275403000.0`), anything smaller is seconds, with
//!   fractions (`1555599782.881`). The two ranges cannot be confused for real dates:
//!   1e11 ms is March 1973 and 1e11 s is the year 5138.
//!
//! Rejected, with the value quoted in the error: empty strings, free text
//! (`Jan 01, 2019 0:00:00 PM`), impossible fields (hour `122`, embedded spaces as in
//! `2023-08-04T12: 36: 15.490+0000`), numbers inside strings (`"1555599782"` could be
//! seconds, milliseconds or a year; none appear in real data), and instants outside
//! the years 0000–9999 that RFC 3339's four-digit year can write. Any instant inside
//! them is kept, however old: a published finding created in 1977 is a finding, and
//! a placeholder date (epoch 0) is the provider's statement, shown as given rather
//! than silently dropped with the finding. Stores derive nothing that breaks on old
//! dates (the DynamoDB TTL counts from the later of now and the update time).
//! Nothing ever falls back to the current time.

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// Earliest accepted year: the smallest an RFC 3339 (four-digit) year can write.
pub const MIN_YEAR: i32 = 0;
/// Latest accepted year: the largest an RFC 3339 (four-digit) year can write.
pub const MAX_YEAR: i32 = 9999;

/// Epoch numbers at or above this magnitude are milliseconds, below it seconds.
const MILLIS_THRESHOLD: f64 = 1e11;

/// Longest slice of a bad value quoted in an error, so a huge field cannot bloat logs.
const MAX_QUOTED: usize = 80;

/// Why a value is not a usable timestamp. Every message quotes the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The string was empty or only whitespace.
    #[error("empty timestamp \"\"")]
    Empty,
    /// The text is not one of the accepted forms.
    #[error("invalid timestamp {0:?}")]
    Invalid(String),
    /// A number written as a string: seconds, milliseconds or a year cannot be told apart.
    #[error("invalid timestamp {0:?}: epoch times must be JSON numbers, not strings")]
    NumericString(String),
    /// Parsed, but outside the accepted years.
    #[error("timestamp {0:?} is outside the accepted years {MIN_YEAR}-{MAX_YEAR}")]
    OutOfRange(String),
    /// The JSON value is neither a string nor a number.
    #[error("invalid timestamp {0}: expected a string or an epoch number")]
    WrongType(String),
}

/// Parses a timestamp given as a JSON value: a string in one of the accepted forms
/// or an epoch number (see the module documentation for the rules).
pub fn parse_timestamp(v: &Value) -> Result<DateTime<Utc>, TimeError> {
    match v {
        Value::String(s) => parse_timestamp_str(s),
        Value::Number(n) => match n.as_i64() {
            Some(i) => from_epoch_int(i, &n.to_string()),
            None => from_epoch_float(n.as_f64().unwrap_or(f64::NAN), &n.to_string()),
        },
        other => Err(TimeError::WrongType(quote_json(other))),
    }
}

/// Parses a timestamp string in one of the accepted forms (see the module documentation).
pub fn parse_timestamp_str(s: &str) -> Result<DateTime<Utc>, TimeError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(TimeError::Empty);
    }
    if looks_numeric(t) {
        return Err(TimeError::NumericString(clip(t)));
    }
    // chrono's format parser skips spaces inside fields ("12: 36: 15"); only the one
    // date/time separator may be a space, so anything else is rejected up front.
    let stray_space = t
        .char_indices()
        .any(|(i, c)| c.is_whitespace() && !(i == 10 && c == ' '));
    if stray_space {
        return Err(TimeError::Invalid(clip(t)));
    }
    parse_text(t)
        .ok_or_else(|| TimeError::Invalid(clip(t)))
        .and_then(|dt| in_range(dt, t))
}

/// Tries the accepted textual forms, cheapest and most common first.
fn parse_text(t: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    let space = t.as_bytes().get(10) == Some(&b' ');
    let (with_zone, naive) = if space {
        ("%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f")
    } else {
        ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f")
    };
    if let Ok(dt) = DateTime::parse_from_str(t, with_zone) {
        return Some(dt.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(t, naive)
        .ok()
        .map(|n| Utc.from_utc_datetime(&n))
}

fn from_epoch_int(i: i64, shown: &str) -> Result<DateTime<Utc>, TimeError> {
    let dt = if i.unsigned_abs() >= MILLIS_THRESHOLD as u64 {
        DateTime::from_timestamp_millis(i)
    } else {
        DateTime::from_timestamp(i, 0)
    };
    dt.ok_or_else(|| TimeError::OutOfRange(shown.to_string()))
        .and_then(|dt| in_range(dt, shown))
}

fn from_epoch_float(f: f64, shown: &str) -> Result<DateTime<Utc>, TimeError> {
    if !f.is_finite() {
        return Err(TimeError::Invalid(shown.to_string()));
    }
    let secs = if f.abs() >= MILLIS_THRESHOLD {
        f / 1000.0
    } else {
        f
    };
    // Bounds first: the float-to-int casts below saturate instead of failing.
    if secs.abs() > 1e12 {
        return Err(TimeError::OutOfRange(shown.to_string()));
    }
    let whole = secs.floor();
    // An f64 of ~1.7e9 seconds holds microseconds, not nanoseconds: round to those
    // so `1555599782.881` reads as .881, not .881000042.
    let nanos = ((secs - whole) * 1e6).round().min(999_999.0) as u32 * 1000;
    DateTime::from_timestamp(whole as i64, nanos)
        .ok_or_else(|| TimeError::OutOfRange(shown.to_string()))
        .and_then(|dt| in_range(dt, shown))
}

fn in_range(dt: DateTime<Utc>, shown: &str) -> Result<DateTime<Utc>, TimeError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&dt.year()) {
        Ok(dt)
    } else {
        Err(TimeError::OutOfRange(clip(shown)))
    }
}

/// True for `123`, `-5`, `1555599782.881`: a number, not a date.
fn looks_numeric(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

fn quote_json(v: &Value) -> String {
    clip(&v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utc(s: &str) -> DateTime<Utc> {
        match DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&Utc),
            Err(e) => panic!("bad test literal {s}: {e}"),
        }
    }

    #[test]
    fn rfc3339_with_z_and_0_3_6_9_fraction_digits() {
        let cases = [
            ("2020-11-10T16:17:47Z", "2020-11-10T16:17:47Z"),
            ("2020-08-19T17:36:22.169Z", "2020-08-19T17:36:22.169Z"),
            ("2019-04-18T14:51:55.000000Z", "2019-04-18T14:51:55Z"),
            (
                "2024-08-01T13:56:39.482702201Z",
                "2024-08-01T13:56:39.482702201Z",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_timestamp_str(input), Ok(utc(want)), "{input}");
        }
    }

    #[test]
    fn offsets_with_and_without_colon_are_applied() {
        assert_eq!(
            parse_timestamp_str("2021-07-01T22:51:01.755837+00:00"),
            Ok(utc("2021-07-01T22:51:01.755837Z"))
        );
        assert_eq!(
            parse_timestamp_str("2021-05-01T06:40:45.351-07:00"),
            Ok(utc("2021-05-01T13:40:45.351Z"))
        );
        assert_eq!(
            parse_timestamp_str("2019-10-03T16:00:04.653+0000"),
            Ok(utc("2019-10-03T16:00:04.653Z"))
        );
        assert_eq!(
            parse_timestamp_str("2019-10-03T16:00:04+0530"),
            Ok(utc("2019-10-03T10:30:04Z"))
        );
    }

    #[test]
    fn space_separated_without_zone_is_utc() {
        assert_eq!(
            parse_timestamp_str("2024-05-24 13:17:15.000000000"),
            Ok(utc("2024-05-24T13:17:15Z"))
        );
        assert_eq!(
            parse_timestamp_str("2022-09-15 13:45:24"),
            Ok(utc("2022-09-15T13:45:24Z"))
        );
        assert_eq!(
            parse_timestamp_str("2024-01-01T00:00:00.5"),
            Ok(utc("2024-01-01T00:00:00.5Z"))
        );
    }

    #[test]
    fn epoch_numbers_are_millis_or_seconds_by_magnitude() {
        assert_eq!(
            parse_timestamp(&json!(1463847074000_i64)),
            Ok(utc("2016-05-21T16:11:14Z"))
        );
        assert_eq!(
            parse_timestamp(&json!(1666275403000.0)),
            Ok(utc("2022-10-20T14:16:43Z"))
        );
        assert_eq!(
            parse_timestamp(&json!(1555599782.881)),
            Ok(utc("2019-04-18T15:03:02.881Z"))
        );
        assert_eq!(
            parse_timestamp(&json!(1555599782)),
            Ok(utc("2019-04-18T15:03:02Z"))
        );
    }

    #[test]
    fn invalid_text_is_rejected_quoting_the_value() {
        for bad in [
            "Jan 01, 2019 0:00:00 PM",
            "2024-01-01T122:00:00Z",
            "2023-08-04T12: 36: 15.490+0000",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "yesterday",
            "2024-05-24",
        ] {
            let err = parse_timestamp_str(bad).map(|t| t.to_rfc3339());
            let msg = err.clone().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.is_err(), "{bad} was accepted: {err:?}");
            assert!(msg.contains(bad), "message {msg:?} does not quote {bad:?}");
        }
    }

    #[test]
    fn empty_numeric_strings_and_wrong_types_are_rejected() {
        assert_eq!(parse_timestamp_str("  "), Err(TimeError::Empty));
        assert_eq!(
            parse_timestamp(&json!("1555599782")),
            Err(TimeError::NumericString("1555599782".into()))
        );
        for v in [
            json!(null),
            json!(true),
            json!({"t": 1}),
            json!(["2020-01-01T00:00:00Z"]),
        ] {
            let e = parse_timestamp(&v);
            assert!(matches!(e, Err(TimeError::WrongType(_))), "{v}: {e:?}");
        }
    }

    #[test]
    fn old_and_placeholder_dates_are_kept_as_given() {
        for (v, want) in [
            (json!("1977-05-25T10:00:00Z"), "1977-05-25T10:00:00Z"),
            (
                json!("1977-05-25T10:00:00.000-04:00"),
                "1977-05-25T14:00:00Z",
            ),
            (json!("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z"),
            (json!("1970-01-01T00:00:00Z"), "1970-01-01T00:00:00Z"),
            (json!("2150-01-01T00:00:00Z"), "2150-01-01T00:00:00Z"),
            (json!(0), "1970-01-01T00:00:00Z"),
            (json!(-1), "1969-12-31T23:59:59Z"),
            (json!(233_409_600_000_i64), "1977-05-25T12:00:00Z"),
        ] {
            assert_eq!(parse_timestamp(&v), Ok(utc(want)), "{v}");
        }
    }

    #[test]
    fn instants_past_a_four_digit_year_are_rejected_in_every_form() {
        for v in [
            json!(1e300),
            json!(1_000_000_000_000_000_i64),
            json!(i64::MAX),
            json!(i64::MIN),
        ] {
            let e = parse_timestamp(&v);
            assert!(matches!(e, Err(TimeError::OutOfRange(_))), "{v}: {e:?}");
        }
        assert!(parse_timestamp_str("+12024-01-01T00:00:00Z").is_err());
    }

    #[test]
    fn long_bad_values_are_clipped_in_messages() {
        let long = "x".repeat(500);
        let msg = parse_timestamp_str(&long).map_err(|e| e.to_string());
        assert!(matches!(&msg, Err(m) if m.len() < 200), "{msg:?}");
    }
}
