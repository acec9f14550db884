//! `--older-than` values: how long a finding must have gone without an update
//! before it is archived.

use chrono::Duration;

/// Longest accepted age (100 years): anything larger is a typo.
const MAX_DAYS: i64 = 36_500;

/// Parses `90d` (days), `36h` (hours) or a bare number of days (`90`).
/// Zero is allowed (archive everything not updated since now).
pub fn parse_older_than(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (digits, per_unit_hours) = match t.as_bytes().last() {
        Some(b'd') => (&t[..t.len() - 1], 24),
        Some(b'h') => (&t[..t.len() - 1], 1),
        _ => (t, 24),
    };
    let bad =
        || format!("{s:?} is not an age such as 90d, 36h or 90 (days), up to {MAX_DAYS} days");
    // `parse::<i64>` accepts a leading '+'; only plain digits are an age.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let hours = n.checked_mul(per_unit_hours).ok_or_else(bad)?;
    if hours > MAX_DAYS * 24 {
        return Err(bad());
    }
    Ok(Duration::hours(hours))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_accept_days_hours_and_bare_days() {
        assert_eq!(parse_older_than("90d"), Ok(Duration::days(90)));
        assert_eq!(parse_older_than("90"), Ok(Duration::days(90)));
        assert_eq!(parse_older_than("36h"), Ok(Duration::hours(36)));
        assert_eq!(parse_older_than("0d"), Ok(Duration::zero()));
        assert_eq!(parse_older_than("36500d"), Ok(Duration::days(36_500)));
    }

    #[test]
    fn malformed_or_absurd_ages_are_refused() {
        for bad in [
            "",
            "d",
            "-1d",
            "+3d",
            "1y",
            "1.5d",
            "90 d",
            "36501d",
            "99999999999999999999",
        ] {
            assert!(parse_older_than(bad).is_err(), "{bad:?} accepted");
        }
    }
}
