//! Quiet hours: a daily period, in local time of a named IANA zone, during which a
//! channel sends nothing immediately; what would have been sent waits for the next
//! digest, flushed when the period ends. Written per sink at the top of the sinks
//! file: `quiet_hours: {secmail: {from: "22:00", to: "07:00", tz: "Europe/Berlin"}}`.

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

/// One sink's quiet hours. `from` after `to` spans midnight (22:00-07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Local start (inclusive).
    pub from: NaiveTime,
    /// Local end (exclusive).
    pub to: NaiveTime,
    /// The zone the times are in (DST applies: 22:00 stays 22:00 local).
    pub tz: Tz,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    from: String,
    to: String,
    tz: String,
}

fn clock_time(field: &str, s: &str) -> Result<NaiveTime, String> {
    // Only `HH:MM`: seconds or `10pm` would be guesses about what was meant.
    let ok_shape = s.len() == 5 && s.as_bytes()[2] == b':';
    match NaiveTime::parse_from_str(s, "%H:%M") {
        Ok(t) if ok_shape => Ok(t),
        _ => Err(format!(
            "quiet hours {field}: {s:?} is not a time such as 22:00"
        )),
    }
}

impl QuietHours {
    /// Checks the written values: `HH:MM` times, a known zone, a non-empty period.
    pub fn parse(from: &str, to: &str, tz: &str) -> Result<QuietHours, String> {
        let from = clock_time("from", from)?;
        let to = clock_time("to", to)?;
        let tz: Tz = tz.parse().map_err(|_| {
            format!("quiet hours tz: {tz:?} is not an IANA time zone such as Europe/Berlin")
        })?;
        if from == to {
            return Err("quiet hours: from and to are the same time (an empty period)".into());
        }
        Ok(QuietHours { from, to, tz })
    }

    /// When the quiet period `now` falls in ends, or `None` outside quiet hours.
    pub fn ends(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&self.tz);
        let (t, today) = (local.time(), local.date_naive());
        let end_day = if self.from < self.to {
            (self.from <= t && t < self.to).then_some(today)?
        } else if t >= self.from {
            today.succ_opt()?
        } else if t < self.to {
            today
        } else {
            return None;
        };
        Some(self.utc(end_day.and_time(self.to)))
    }

    /// A local time as UTC. A time the clocks skip (spring forward) is taken an
    /// hour later; a repeated one (fall back) at its first occurrence.
    fn utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        self.tz
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                self.tz
                    .from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .map(|d| d.with_timezone(&Utc))
            // No zone skips two hours at once; UTC's reading of it is a safe answer.
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }
}

impl<'de> Deserialize<'de> for QuietHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Written::deserialize(d)?;
        QuietHours::parse(&w.from, &w.to, &w.tz).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_night_period_spans_midnight_in_local_time_across_dst() {
        let q = QuietHours::parse("22:00", "07:00", "Europe/Berlin").unwrap();
        // Winter (UTC+1): 21:30 UTC is 22:30 in Berlin, quiet until 06:00 UTC.
        assert_eq!(
            q.ends(at("2026-01-15T21:30:00Z")),
            Some(at("2026-01-16T06:00:00Z"))
        );
        // 05:59 UTC is 06:59 local: still quiet, ending a minute later.
        assert_eq!(
            q.ends(at("2026-01-16T05:59:00Z")),
            Some(at("2026-01-16T06:00:00Z"))
        );
        assert_eq!(q.ends(at("2026-01-16T06:00:00Z")), None);
        assert_eq!(q.ends(at("2026-01-15T20:59:00Z")), None);
        // Summer (UTC+2): 20:30 UTC is 22:30 local; the period ends 05:00 UTC.
        assert_eq!(
            q.ends(at("2026-07-15T20:30:00Z")),
            Some(at("2026-07-16T05:00:00Z"))
        );
        assert_eq!(q.ends(at("2026-07-15T12:00:00Z")), None);
    }

    #[test]
    fn a_day_period_and_bad_values() {
        let q = QuietHours::parse("12:00", "13:30", "UTC").unwrap();
        assert_eq!(
            q.ends(at("2026-03-01T12:10:00Z")),
            Some(at("2026-03-01T13:30:00Z"))
        );
        assert_eq!(q.ends(at("2026-03-01T13:30:00Z")), None);
        for (from, to, tz, needle) in [
            ("25:00", "07:00", "UTC", "from"),
            ("22:00", "7", "UTC", "to"),
            ("10pm", "07:00", "UTC", "from"),
            ("22:00", "07:00", "Mars/Olympus", "tz"),
            ("07:00", "07:00", "UTC", "same time"),
        ] {
            let e = QuietHours::parse(from, to, tz).unwrap_err();
            assert!(e.contains(needle), "{from} {to} {tz}: {e}");
        }
    }
}
