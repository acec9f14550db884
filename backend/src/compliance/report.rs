//! The compliance report: findings folded, one at a time, into controls per
//! standard (page by page from a store that keeps no rows per control, so only
//! the controls are held), or the rows a store keeps per control taken as
//! they are.

use super::control::memberships;
use super::score::{verdict, StatusCounts, Tally, Verdict};
use super::standard::Standard;
use crate::store::control_rows::ControlRow;
use shared_types::{
    ControlResult, Finding, ScorePoint, StandardDetail, StandardScore, MAX_FAILING_RESOURCES,
};
use std::collections::{BTreeMap, BTreeSet};

/// One control of one standard while the report is built.
#[derive(Debug, Clone, Default)]
struct ControlAcc {
    title: String,
    tally: Tally,
    failing_resources: BTreeSet<String>,
    failing_findings: BTreeSet<String>,
}

/// One standard while the report is built.
#[derive(Debug, Clone)]
struct StandardAcc {
    name: String,
    controls: BTreeMap<String, ControlAcc>,
}

/// Every standard the folded findings name, with their controls.
#[derive(Debug, Clone, Default)]
pub struct Report {
    standards: BTreeMap<String, StandardAcc>,
}

impl Report {
    /// A report over `findings`.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Report {
        let mut r = Report::default();
        findings.into_iter().for_each(|f| r.add(f));
        r
    }

    /// The report of the rows a store keeps per control (their failing lists
    /// as read: empty where not asked for).
    pub fn from_rows(rows: Vec<ControlRow>) -> Report {
        let mut r = Report::default();
        for row in rows {
            let s = r.standards.entry(row.slug).or_insert_with(|| StandardAcc {
                name: row.standard_name,
                controls: BTreeMap::new(),
            });
            s.controls.insert(
                row.control_id,
                ControlAcc {
                    title: row.title,
                    tally: row.tally,
                    failing_resources: row.failing_resources.into_iter().collect(),
                    failing_findings: row.failing_findings.into_iter().collect(),
                },
            );
        }
        r
    }

    /// Folds one finding into each (standard, control) it is a result of.
    pub fn add(&mut self, f: &Finding) {
        let v = verdict(f);
        for m in memberships(f) {
            let Standard { slug, name } = m.standard;
            let s = self.standards.entry(slug).or_insert_with(|| StandardAcc {
                name,
                controls: BTreeMap::new(),
            });
            let c = s.controls.entry(m.control_id).or_default();
            if c.title.is_empty() {
                c.title = f.title.clone();
            }
            c.tally.add(v);
            if v == Verdict::Fail {
                bounded_insert(&mut c.failing_resources, &f.resource_id);
                bounded_insert(&mut c.failing_findings, &f.id);
            }
        }
    }

    /// The slugs of the standards found, sorted.
    pub fn slugs(&self) -> impl Iterator<Item = &str> {
        self.standards.keys().map(String::as_str)
    }

    /// Each standard's score and control counts (trend empty), by slug.
    pub fn scores(&self) -> Vec<StandardScore> {
        self.standards
            .iter()
            .map(|(slug, s)| card(slug, s))
            .collect()
    }

    /// One standard with its controls (failed first), or `None` if no stored
    /// finding names it.
    pub fn detail(&self, slug: &str) -> Option<StandardDetail> {
        let s = self.standards.get(slug)?;
        let mut controls: Vec<ControlResult> = s
            .controls
            .iter()
            .map(|(id, c)| ControlResult {
                control_id: id.clone(),
                title: c.title.clone(),
                status: c.tally.status(),
                passed: c.tally.passed,
                failed: c.tally.failed,
                unknown: c.tally.unknown,
                ignored: c.tally.ignored,
                failing_resources: c.failing_resources.iter().cloned().collect(),
                failing_findings: c.failing_findings.iter().cloned().collect(),
            })
            .collect();
        // The enum's order is the drill-down's: failed, unknown, passed, no data.
        controls.sort_by(|a, b| {
            a.status
                .cmp(&b.status)
                .then_with(|| a.control_id.cmp(&b.control_id))
        });
        Some(StandardDetail {
            standard: card(slug, s),
            controls,
        })
    }
}

fn card(slug: &str, s: &StandardAcc) -> StandardScore {
    let mut counts = StatusCounts::default();
    s.controls
        .values()
        .for_each(|c| counts.add(c.tally.status()));
    StandardScore {
        slug: slug.to_string(),
        name: s.name.clone(),
        score: counts.score(),
        passed: counts.passed,
        failed: counts.failed,
        unknown: counts.unknown,
        no_data: counts.no_data,
        trend: Vec::<ScorePoint>::new(),
    }
}

/// Keeps the smallest [`MAX_FAILING_RESOURCES`] values: the list stays bounded
/// however many resources fail, and the same ones show on every request.
fn bounded_insert(set: &mut BTreeSet<String>, v: &str) {
    if v.is_empty() {
        return;
    }
    if set.len() < MAX_FAILING_RESOURCES {
        set.insert(v.to_string());
    } else if set.last().is_some_and(|last| v < last.as_str()) && set.insert(v.to_string()) {
        set.pop_last();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared_types::{RecordState, WorkflowStatus};

    /// A consolidated FSBP + CIS 1.4 control finding on `resource`.
    fn control(n: usize, control: &str, status: &str, resource: &str) -> Finding {
        let mut f = crate::demo::generate(1, chrono::Utc::now(), n as u64)
            .next()
            .unwrap();
        f.id = format!("f{n:03}");
        f.generator_id = format!("security-control/{control}");
        f.compliance_status = Some(status.into());
        f.workflow_status = WorkflowStatus::New;
        f.record_state = RecordState::Active;
        f.resource_id = resource.into();
        f.raw = json!({"Compliance": {"Status": status, "SecurityControlId": control,
            "AssociatedStandards": [
                {"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"},
                {"StandardsId": "standards/cis-aws-foundations-benchmark/v/1.4.0"}]}});
        f
    }

    #[test]
    fn controls_are_counted_once_per_standard_with_their_failing_resources() {
        let fs = vec![
            control(1, "S3.1", "FAILED", "bucket-b"),
            control(2, "S3.1", "PASSED", "bucket-a"),
            control(3, "S3.1", "FAILED", "bucket-a"),
            control(4, "IAM.1", "PASSED", "role-1"),
            control(5, "EC2.2", "WARNING", "sg-1"),
        ];
        let r = Report::of(&fs);
        assert_eq!(r.slugs().collect::<Vec<_>>(), vec!["aws-fsbp", "cis-1.4"]);
        for s in r.scores() {
            assert_eq!((s.passed, s.failed, s.unknown, s.no_data), (1, 1, 1, 0));
            assert_eq!(s.score, Some(33));
        }
        let d = r.detail("aws-fsbp").unwrap();
        let ids: Vec<&str> = d.controls.iter().map(|c| c.control_id.as_str()).collect();
        assert_eq!(ids, vec!["S3.1", "EC2.2", "IAM.1"]);
        assert_eq!(
            d.controls[0].failing_resources,
            vec!["bucket-a", "bucket-b"]
        );
        assert_eq!(d.controls[0].failing_findings, vec!["f001", "f003"]);
        assert_eq!((d.controls[0].passed, d.controls[0].failed), (1, 2));
        assert!(r.detail("pci-dss-3.2.1").is_none());
    }

    #[test]
    fn failing_resources_stay_bounded_to_the_smallest() {
        let mut set = BTreeSet::new();
        for i in (0..MAX_FAILING_RESOURCES + 50).rev() {
            bounded_insert(&mut set, &format!("r{i:04}"));
        }
        assert_eq!(set.len(), MAX_FAILING_RESOURCES);
        assert_eq!(set.first().map(String::as_str), Some("r0000"));
        assert_eq!(
            set.last().cloned(),
            Some(format!("r{:04}", MAX_FAILING_RESOURCES - 1))
        );
    }

    /// The demo data (`cspm demo`) names two standards: 20 Security Hub controls in
    /// FSBP, 10 of them also in CIS 1.4. Every demo control finding reports
    /// `FAILED` (a demo finding never carries a status the workflow decision
    /// would change on write), so every control fails.
    #[test]
    fn demo_data_names_two_standards_with_every_control_failing() {
        let anchor: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let all: Vec<_> = crate::demo::generate(2000, anchor, 1).collect();
        let scores = Report::of(&all).scores();
        let got: Vec<_> = scores
            .iter()
            .map(|s| (s.slug.as_str(), s.passed, s.failed, s.score))
            .collect();
        assert_eq!(
            got,
            vec![("aws-fsbp", 0, 20, Some(0)), ("cis-1.4", 0, 10, Some(0))]
        );
    }
}
