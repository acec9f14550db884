//! A control's status from its findings, and a standard's score from its
//! controls — the rules Security Hub documents for its own standards page.

use shared_types::{ControlStatus, Finding, RecordState, WorkflowStatus};

/// What one finding says about its control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `Compliance.Status` `PASSED`.
    Pass,
    /// `FAILED`.
    Fail,
    /// `WARNING` or `NOT_AVAILABLE`: the check could not decide.
    Unknown,
    /// Left out: the finding is archived (`RecordState`), suppressed
    /// (`Workflow.Status`), or has no compliance status.
    Ignored,
}

/// The verdict of `f`. Archived findings are results Security Hub no longer
/// stands by (a deleted resource, a disabled control) and suppressed ones are
/// results a person set aside: Security Hub leaves both out of control status
/// and scores, and so does this.
pub fn verdict(f: &Finding) -> Verdict {
    verdict_of(
        f.record_state,
        f.workflow_status,
        f.compliance_status.as_deref(),
    )
}

/// The verdict of a finding with this record state, workflow status and
/// compliance status ([`verdict`]; a store that decides a status before
/// writing asks with the status it writes).
pub fn verdict_of(
    record_state: RecordState,
    status: WorkflowStatus,
    compliance_status: Option<&str>,
) -> Verdict {
    if record_state == RecordState::Archived || status == WorkflowStatus::Suppressed {
        return Verdict::Ignored;
    }
    match compliance_status.map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("PASSED") => Verdict::Pass,
        Some(s) if s.eq_ignore_ascii_case("FAILED") => Verdict::Fail,
        Some(s) if s.eq_ignore_ascii_case("WARNING") || s.eq_ignore_ascii_case("NOT_AVAILABLE") => {
            Verdict::Unknown
        }
        _ => Verdict::Ignored,
    }
}

impl Verdict {
    /// Every verdict, in the order of its stored code ([`Verdict::code`]).
    pub const ALL: [Verdict; 4] = [
        Verdict::Fail,
        Verdict::Unknown,
        Verdict::Pass,
        Verdict::Ignored,
    ];

    /// The code a store keeps the verdict as (stable: it is stored).
    pub fn code(self) -> u8 {
        match self {
            Verdict::Fail => 0,
            Verdict::Unknown => 1,
            Verdict::Pass => 2,
            Verdict::Ignored => 3,
        }
    }

    /// The verdict of a stored code.
    pub fn from_code(code: u8) -> Option<Verdict> {
        Verdict::ALL.get(usize::from(code)).copied()
    }
}

/// Counts of one control's findings by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Passing findings.
    pub passed: u32,
    /// Failing findings.
    pub failed: u32,
    /// Undecided findings (`WARNING`, `NOT_AVAILABLE`).
    pub unknown: u32,
    /// Findings left out.
    pub ignored: u32,
}

impl Tally {
    /// Counts one more finding.
    pub fn add(&mut self, v: Verdict) {
        self.add_many(v, 1);
    }

    /// Counts `count` more findings with verdict `v`.
    pub fn add_many(&mut self, v: Verdict, count: u32) {
        let n = match v {
            Verdict::Pass => &mut self.passed,
            Verdict::Fail => &mut self.failed,
            Verdict::Unknown => &mut self.unknown,
            Verdict::Ignored => &mut self.ignored,
        };
        *n = n.saturating_add(count);
    }

    /// Findings counted under any verdict.
    pub fn findings(&self) -> u64 {
        [self.passed, self.failed, self.unknown, self.ignored]
            .iter()
            .map(|&n| u64::from(n))
            .sum()
    }

    /// The control's status: **FAILED** if any counted finding fails, else
    /// **UNKNOWN** if any is `WARNING`/`NOT_AVAILABLE` (so passes mixed with
    /// undecided results are not a pass: Security Hub passes a control only when
    /// all its findings pass), else **PASSED** if any passes, else **NO_DATA**
    /// (every finding ignored).
    pub fn status(&self) -> ControlStatus {
        if self.failed > 0 {
            ControlStatus::Failed
        } else if self.unknown > 0 {
            ControlStatus::Unknown
        } else if self.passed > 0 {
            ControlStatus::Passed
        } else {
            ControlStatus::NoData
        }
    }
}

/// Controls of one standard by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Passed controls.
    pub passed: u32,
    /// Failed controls.
    pub failed: u32,
    /// Unknown controls.
    pub unknown: u32,
    /// Controls with findings but none counted.
    pub no_data: u32,
}

impl StatusCounts {
    /// Counts one more control.
    pub fn add(&mut self, s: ControlStatus) {
        let n = match s {
            ControlStatus::Passed => &mut self.passed,
            ControlStatus::Failed => &mut self.failed,
            ControlStatus::Unknown => &mut self.unknown,
            ControlStatus::NoData => &mut self.no_data,
        };
        *n = n.saturating_add(1);
    }

    /// Enabled controls: here, every control with at least one stored finding.
    pub fn enabled(&self) -> u32 {
        self.passed + self.failed + self.unknown + self.no_data
    }

    /// The security score: passed controls ÷ enabled controls that have data
    /// (enabled minus "no data" = passed + failed + unknown), as a whole percent
    /// rounded half up. `None` when no control has data (no score rather than 0 %
    /// or 100 %). Security Hub's example: 12 enabled, 6 passed, 2 without data →
    /// 6 ÷ 10 = 60 %.
    pub fn score(&self) -> Option<u8> {
        let with_data = u64::from(self.enabled() - self.no_data);
        if with_data == 0 {
            return None;
        }
        let passed = u64::from(self.passed);
        // Integer rounding, half up: (200·p + d) ÷ 2d = round(100·p ÷ d).
        let pct = (200 * passed + with_data) / (2 * with_data);
        Some(u8::try_from(pct.min(100)).unwrap_or(100))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(p: u32, f: u32, u: u32, i: u32) -> Tally {
        Tally {
            passed: p,
            failed: f,
            unknown: u,
            ignored: i,
        }
    }

    #[test]
    fn one_failing_finding_fails_the_control() {
        assert_eq!(tally(9, 1, 3, 0).status(), ControlStatus::Failed);
        assert_eq!(tally(5, 0, 0, 2).status(), ControlStatus::Passed);
        assert_eq!(tally(0, 0, 2, 0).status(), ControlStatus::Unknown);
        assert_eq!(tally(4, 0, 1, 0).status(), ControlStatus::Unknown);
        assert_eq!(tally(0, 0, 0, 3).status(), ControlStatus::NoData);
    }

    /// Security Hub's documented example, worked as it works it: 12 enabled
    /// controls, 6 passed, 2 with no data (so 4 failed or unknown) → 6 ÷ (12 − 2).
    #[test]
    fn the_documented_example_scores_sixty_percent() {
        let mut c = StatusCounts::default();
        let statuses = [
            [ControlStatus::Passed; 6].as_slice(),
            &[ControlStatus::Failed; 3],
            &[ControlStatus::Unknown; 1],
            &[ControlStatus::NoData; 2],
        ]
        .concat();
        statuses.iter().for_each(|s| c.add(*s));
        assert_eq!(c.enabled(), 12);
        assert_eq!(c.score(), Some(60));
    }

    #[test]
    fn scores_round_to_the_nearest_whole_percent() {
        let counts = |passed, failed| StatusCounts {
            passed,
            failed,
            ..Default::default()
        };
        assert_eq!(counts(2, 1).score(), Some(67)); // 66.67
        assert_eq!(counts(1, 2).score(), Some(33)); // 33.33
        assert_eq!(counts(1, 7).score(), Some(13)); // 12.5 rounds up
        assert_eq!(counts(0, 4).score(), Some(0));
        assert_eq!(counts(4, 0).score(), Some(100));
        assert_eq!(StatusCounts::default().score(), None);
        let only_no_data = StatusCounts {
            no_data: 3,
            ..Default::default()
        };
        assert_eq!(only_no_data.score(), None);
    }

    #[test]
    fn archived_and_suppressed_findings_are_ignored() {
        let mut f = crate::demo::generate(1, chrono::Utc::now(), 3)
            .next()
            .unwrap();
        f.workflow_status = WorkflowStatus::New;
        f.compliance_status = Some("FAILED".into());
        assert_eq!(verdict(&f), Verdict::Fail);
        f.record_state = RecordState::Archived;
        assert_eq!(verdict(&f), Verdict::Ignored);
        f.record_state = RecordState::Active;
        f.workflow_status = WorkflowStatus::Suppressed;
        assert_eq!(verdict(&f), Verdict::Ignored);
        f.workflow_status = WorkflowStatus::Resolved;
        f.compliance_status = Some("NOT_AVAILABLE".into());
        assert_eq!(verdict(&f), Verdict::Unknown);
        f.compliance_status = None;
        assert_eq!(verdict(&f), Verdict::Ignored);
    }
}
