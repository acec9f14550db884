//! Object keys. Parts live under `findings/` (the Athena table location, partitioned
//! by `dt=`), manifests under `manifests/` so Athena never reads them as data.

use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;

/// Prefix of every part; the Athena/Glue table location.
pub const FINDINGS_PREFIX: &str = "findings/";
/// Prefix of every run manifest.
pub const MANIFESTS_PREFIX: &str = "manifests/";

/// A new run id: UTC start time then 8 random hex digits. Sorting ids sorts runs by
/// start time; the random tail keeps two runs started the same second apart.
pub fn new_run_id(now: DateTime<Utc>) -> String {
    let tail: u32 = rand::rng().random();
    format!("{}-{tail:08x}", now.format("%Y%m%dT%H%M%SZ"))
}

/// True when `s` has the shape [`new_run_id`] produces (checked before it goes into a key).
pub fn is_run_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 25
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
        && b[17..].iter().all(|c| c.is_ascii_hexdigit())
}

/// `findings/dt=YYYY-MM-DD/part-<run-id>-<n>.jsonl.gz`; `dt` is the findings' `updated_at` day.
pub fn part_key(dt: NaiveDate, run_id: &str, n: u32) -> String {
    format!(
        "{FINDINGS_PREFIX}dt={}/part-{run_id}-{n}.jsonl.gz",
        dt.format("%Y-%m-%d")
    )
}

/// `manifests/run-<run-id>.json`.
pub fn manifest_key(run_id: &str) -> String {
    format!("{MANIFESTS_PREFIX}run-{run_id}.json")
}

/// The `dt` partition a part key belongs to, when it is a part key.
pub fn dt_of_part_key(key: &str) -> Option<NaiveDate> {
    let rest = key.strip_prefix(FINDINGS_PREFIX)?.strip_prefix("dt=")?;
    let (day, _) = rest.split_once('/')?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// The day partition of a timestamp (UTC).
pub fn dt_of(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn part_keys_carry_the_day_partition_and_run_id() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 3, 4, 5).unwrap();
        let run = new_run_id(now);
        assert!(is_run_id(&run), "{run}");
        assert!(run.starts_with("20261121T030405Z-"));
        let day = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        let key = part_key(day, &run, 3);
        assert_eq!(key, format!("findings/dt=2026-08-01/part-{run}-3.jsonl.gz"));
        assert_eq!(dt_of_part_key(&key), Some(day));
        assert_eq!(dt_of_part_key("manifests/run-x.json"), None);
        assert!(!is_run_id("../../etc"));
        assert_eq!(manifest_key(&run), format!("manifests/run-{run}.json"));
    }
}
