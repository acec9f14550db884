//! Measuring the pack against labelled data: rule cases (`{"rule", "expect_alert",
//! "event"}`, rule ids from another product mapped to ours by a YAML file) give
//! per-rule confusion counts, precision and recall; labelled IAM policies give the
//! policy analyzer's agreement.

use super::policy::{self, PolicyContext, PolicyFinding};
use super::rule::cloudtrail_record;
use super::ruleset::RuleSet;
use crate::sources::guardduty;
use serde::Deserialize;
use serde_json::Value;
use shared_types::{Severity, WorkflowStatus};
use std::collections::BTreeMap;
use std::path::Path;

/// Labelled data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file or folder could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The mapping names a rule we do not have.
    #[error("mapping names unknown rule {0}")]
    UnknownRule(String),
}

fn read_err(path: &Path, e: impl std::fmt::Display) -> EvalError {
    EvalError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Confusion counts of one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Expected and fired.
    pub tp: usize,
    /// Fired but not expected (case names kept for the report).
    pub fp: Vec<String>,
    /// Expected but did not fire.
    pub fn_: Vec<String>,
    /// Neither expected nor fired.
    pub tn: usize,
}

impl Counts {
    /// TP / (TP + FP); 1.0 when the rule never fired (no false alarm was raised).
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp.len())
    }
    /// TP / (TP + FN); 1.0 when no case expected an alert.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_.len())
    }
    /// How many cases were evaluated.
    pub fn cases(&self) -> usize {
        self.tp + self.fp.len() + self.fn_.len() + self.tn
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// One of our rule ids, or several whose union means what the other rule means. A
/// target `guardduty:SEVERITY` stands for the GuardDuty source instead of a rule:
/// the case "fires" when that source imports the event as an unsuppressed finding
/// of that severity (GuardDuty findings are imported, not detected by rules).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// One rule.
    One(String),
    /// Any of these rules.
    Any(Vec<String>),
}

impl Target {
    /// Our rule ids.
    pub fn ids(&self) -> Vec<&str> {
        match self {
            Target::One(id) => vec![id.as_str()],
            Target::Any(ids) => ids.iter().map(String::as_str).collect(),
        }
    }
}

/// The mapping file: which other rules mean what ours mean, which do not and why,
/// and the reasons of known disagreements (by case file name).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMap {
    /// Other rule id → our rule id(s).
    pub map: BTreeMap<String, Target>,
    /// Other rule id → why it is not mapped.
    #[serde(default)]
    pub unmapped: BTreeMap<String, String>,
    /// Case file name → why our rule and the label disagree.
    #[serde(default)]
    pub known_disagreements: BTreeMap<String, String>,
}

/// Result of a rule-case evaluation.
#[derive(Debug, Clone, Default)]
pub struct RuleEval {
    /// Per other rule id mapped: our rule ids and the counts.
    pub per_rule: BTreeMap<String, (String, Counts)>,
    /// Cases whose rule is not mapped, per other rule id.
    pub unmapped: BTreeMap<String, usize>,
    /// Files that could not be used (name, reason).
    pub unreadable: Vec<(String, String)>,
}

impl RuleEval {
    /// Every rule's counts summed.
    pub fn total(&self) -> Counts {
        let mut t = Counts::default();
        for (_, c) in self.per_rule.values() {
            t.tp += c.tp;
            t.tn += c.tn;
            t.fp.extend(c.fp.iter().cloned());
            t.fn_.extend(c.fn_.iter().cloned());
        }
        t
    }

    /// Cases of mapped rules / all readable cases.
    pub fn mapped_share(&self) -> (usize, usize) {
        let mapped = self.total().cases();
        (mapped, mapped + self.unmapped.values().sum::<usize>())
    }
}

/// Reads a mapping file and checks that every rule it names exists.
pub fn load_map(path: &Path, rules: &RuleSet) -> Result<RuleMap, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| read_err(path, e))?;
    let map: RuleMap = serde_yaml::from_str(&text).map_err(|e| read_err(path, e))?;
    for target in map.map.values() {
        for ours in target.ids() {
            let source_band = ours
                .strip_prefix(GUARDDUTY_TARGET)
                .is_some_and(|s| s.parse::<Severity>().is_ok());
            if !source_band && !rules.rules().iter().any(|r| r.spec.id == ours) {
                return Err(EvalError::UnknownRule(ours.to_string()));
            }
        }
    }
    Ok(map)
}

fn json_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, EvalError> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| read_err(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Runs the mapped rules on every case in `dir`.
pub fn eval_rule_cases(dir: &Path, map: &RuleMap, rules: &RuleSet) -> Result<RuleEval, EvalError> {
    let mut out = RuleEval::default();
    for file in json_files(dir)? {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let doc: Value = match std::fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                out.unreadable.push((name, e));
                continue;
            }
        };
        let (Some(theirs), Some(expect), Some(event)) = (
            doc.get("rule").and_then(Value::as_str),
            doc.get("expect_alert").and_then(Value::as_bool),
            doc.get("event"),
        ) else {
            out.unreadable
                .push((name, "needs rule, expect_alert and event".into()));
            continue;
        };
        let Some(target) = map.map.get(theirs) else {
            *out.unmapped.entry(theirs.to_string()).or_default() += 1;
            continue;
        };
        let ours = target.ids();
        let fired = fires(rules, &ours, event);
        let (_, c) = out
            .per_rule
            .entry(theirs.to_string())
            .or_insert_with(|| (ours.join(" | "), Counts::default()));
        match (expect, fired) {
            (true, true) => c.tp += 1,
            (false, false) => c.tn += 1,
            (false, true) => c.fp.push(name),
            (true, false) => c.fn_.push(name),
        }
    }
    Ok(out)
}

const GUARDDUTY_TARGET: &str = "guardduty:";

/// Whether any of `ours` (rule ids or `guardduty:SEVERITY`) reports `event`.
fn fires(rules: &RuleSet, ours: &[&str], event: &Value) -> bool {
    let imported_at = |band: &str| {
        guardduty::parse(event, None).findings.iter().any(|f| {
            f.severity.as_str().eq_ignore_ascii_case(band)
                && f.workflow_status != WorkflowStatus::Suppressed
        })
    };
    ours.iter()
        .filter_map(|t| t.strip_prefix(GUARDDUTY_TARGET))
        .any(imported_at)
        || rules
            .matching(cloudtrail_record(event))
            .any(|r| ours.contains(&r.spec.id.as_str()))
}

/// A policy's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyLabel {
    /// Grants too much (a risk is expected).
    Dangerous,
    /// Grants nothing risky.
    Benign,
    /// Breaks the policy grammar (a `malformed` report is expected).
    Malformed,
}

impl PolicyLabel {
    fn parse(s: &str) -> Option<PolicyLabel> {
        match s {
            "dangerous" => Some(PolicyLabel::Dangerous),
            "benign" => Some(PolicyLabel::Benign),
            // Parliament's lint findings: the policy breaks the grammar.
            "lint-issue" | "malformed" => Some(PolicyLabel::Malformed),
            _ => None,
        }
    }

    /// The label as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyLabel::Dangerous => "dangerous",
            PolicyLabel::Benign => "benign",
            PolicyLabel::Malformed => "malformed",
        }
    }
}

/// One labelled policy and what the analyzer said.
#[derive(Debug, Clone)]
pub struct PolicyVerdict {
    /// File name.
    pub file: String,
    /// The label.
    pub label: PolicyLabel,
    /// Where the label comes from (the manifest's `label_source`/notes tail).
    pub label_source: String,
    /// The analyzer's findings.
    pub findings: Vec<PolicyFinding>,
}

impl PolicyVerdict {
    /// Whether the analyzer found a risk.
    pub fn risky(&self) -> bool {
        self.findings.iter().any(|f| f.issue.is_risk())
    }

    /// Whether the analyzer reported the grammar broken.
    pub fn malformed(&self) -> bool {
        self.findings.iter().any(|f| !f.issue.is_risk())
    }

    /// Whether label and analyzer agree: dangerous ↔ some risk; benign ↔ no risk
    /// (a grammar report alone is no risk); malformed ↔ a grammar report.
    pub fn agrees(&self) -> bool {
        match self.label {
            PolicyLabel::Dangerous => self.risky(),
            PolicyLabel::Benign => !self.risky(),
            PolicyLabel::Malformed => self.malformed(),
        }
    }
}

/// The analyzer on every labelled policy of `dir/MANIFEST.jsonl`; entries whose
/// label is none of dangerous/benign/lint-issue (e.g. `unlabeled`) are returned
/// apart, by file name.
pub fn eval_policies(dir: &Path) -> Result<(Vec<PolicyVerdict>, Vec<String>), EvalError> {
    let manifest = dir.join("MANIFEST.jsonl");
    let text = std::fs::read_to_string(&manifest).map_err(|e| read_err(&manifest, e))?;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let entry: Value = serde_json::from_str(line).map_err(|e| read_err(&manifest, e))?;
        let (Some(file), Some(label)) = (
            entry.get("file").and_then(Value::as_str),
            entry.get("label").and_then(Value::as_str),
        ) else {
            continue;
        };
        let Some(label) = PolicyLabel::parse(label) else {
            skipped.push(file.to_string());
            continue;
        };
        let path = dir.join(file);
        let doc: Value = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|e| read_err(&path, e))?;
        let label_source = entry
            .get("label_source")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                entry
                    .get("notes")
                    .and_then(Value::as_str)
                    .and_then(|n| n.rsplit('|').next())
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_default();
        out.push(PolicyVerdict {
            file: file.to_string(),
            label,
            label_source,
            findings: policy::analyze_detailed(&doc, &PolicyContext::default()),
        });
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_target_is_one_rule_or_a_list_of_rules() {
        let m: RuleMap = serde_yaml::from_str(
            "map:\n  A: ours.one\n  B: [ours.one, ours.two]\nunmapped:\n  C: different meaning\n",
        )
        .expect("parses");
        assert_eq!(m.map["A"].ids(), ["ours.one"]);
        assert_eq!(m.map["B"].ids(), ["ours.one", "ours.two"]);
        assert_eq!(m.unmapped["C"], "different meaning");
        assert!(serde_yaml::from_str::<RuleMap>("maps: {}\n").is_err());
    }

    #[test]
    fn agreement_reads_risk_and_grammar_separately() {
        let v = |label, findings: Vec<PolicyFinding>| PolicyVerdict {
            file: "f".into(),
            label,
            label_source: String::new(),
            findings,
        };
        let f = |issue| PolicyFinding {
            issue,
            detail: String::new(),
        };
        use policy::PolicyIssue::*;
        assert!(v(PolicyLabel::Dangerous, vec![f(FullAdmin)]).agrees());
        assert!(!v(PolicyLabel::Dangerous, vec![f(Malformed)]).agrees());
        assert!(v(PolicyLabel::Benign, vec![f(Malformed)]).agrees());
        assert!(!v(PolicyLabel::Benign, vec![f(PublicPrincipal)]).agrees());
        assert!(v(PolicyLabel::Malformed, vec![f(Malformed), f(FullAdmin)]).agrees());
        assert!(!v(PolicyLabel::Malformed, vec![]).agrees());
    }
}
