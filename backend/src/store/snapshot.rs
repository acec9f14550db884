//! Daily compliance score snapshots: what each standard scored on a UTC day,
//! kept so the 30-day trend shows what each day looked like (findings change
//! and leave the hot store; a trend recomputed from them would rewrite history).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One standard's score on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreSnapshot {
    /// The UTC day.
    pub date: NaiveDate,
    /// The standard's slug (`aws-fsbp`, `cis-1.4`…).
    pub slug: String,
    /// The score in whole percent; `None` when no control had data.
    pub score: Option<u8>,
    /// Passed controls.
    pub passed: u32,
    /// Failed controls.
    pub failed: u32,
    /// Unknown controls.
    pub unknown: u32,
}
