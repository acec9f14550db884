use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A finding's severity label, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// No risk, for information only.
    Informational,
    /// Low risk.
    Low,
    /// Medium risk.
    Medium,
    /// High risk: act soon.
    High,
    /// Critical risk: act now.
    Critical,
}

impl Severity {
    /// Every label, most severe first (the order the dashboard shows them in).
    pub const ALL_DESC: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
    ];

    /// The ASFF label text, e.g. `"CRITICAL"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// Rank 0 (INFORMATIONAL) ..= 4 (CRITICAL); stores index on it so ranges are cheap.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// Inverse of [`Severity::rank`].
    pub fn from_rank(rank: u8) -> Option<Severity> {
        Self::ALL_DESC.iter().copied().find(|s| s.rank() == rank)
    }

    /// Maps an ASFF `Severity.Normalized` score (0–100) to a label as Security Hub
    /// documents it: 0 → INFORMATIONAL, 1–39 LOW, 40–69 MEDIUM, 70–89 HIGH, 90–100 CRITICAL.
    /// Returns `None` outside 0–100.
    pub fn from_normalized(score: i64) -> Option<Severity> {
        match score {
            0 => Some(Severity::Informational),
            1..=39 => Some(Severity::Low),
            40..=69 => Some(Severity::Medium),
            70..=89 => Some(Severity::High),
            90..=100 => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the five severity labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSeverity(pub String);

impl fmt::Display for UnknownSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown severity {:?} (expected CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL)",
            self.0
        )
    }
}

impl std::error::Error for UnknownSeverity {}

impl FromStr for Severity {
    type Err = UnknownSeverity;

    /// Case-insensitive; `INFO` is accepted as an alias found in real data.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "INFORMATIONAL" | "INFO" => Ok(Severity::Informational),
            "LOW" => Ok(Severity::Low),
            "MEDIUM" => Ok(Severity::Medium),
            "HIGH" => Ok(Severity::High),
            "CRITICAL" => Ok(Severity::Critical),
            _ => Err(UnknownSeverity(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_scores_map_at_every_boundary() {
        let cases = [
            (0, Some(Severity::Informational)),
            (1, Some(Severity::Low)),
            (39, Some(Severity::Low)),
            (40, Some(Severity::Medium)),
            (69, Some(Severity::Medium)),
            (70, Some(Severity::High)),
            (89, Some(Severity::High)),
            (90, Some(Severity::Critical)),
            (100, Some(Severity::Critical)),
            (101, None),
            (-1, None),
        ];
        for (score, want) in cases {
            assert_eq!(Severity::from_normalized(score), want, "score {score}");
        }
    }

    #[test]
    fn labels_parse_case_insensitively_and_round_trip() {
        for s in Severity::ALL_DESC {
            assert_eq!(s.as_str().to_lowercase().parse::<Severity>(), Ok(s));
            assert_eq!(Severity::from_rank(s.rank()), Some(s));
        }
        assert!("SEVERE".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High);
    }
}
