//! Measuring the pack against labelled data: rule cases (`{"rule", "expect_alert",
//! "event"}`, rule ids from another product mapped to ours by a YAML file) give
//! per-rule precision and recall; labelled IAM policies give the policy analyzer's
//! agreement.

use super::policy;
use super::rule::cloudtrail_record;
use super::ruleset::RuleSet;
use serde_json::Value;
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

/// Result of a rule-case evaluation.
#[derive(Debug, Clone, Default)]
pub struct RuleEval {
    /// Per our rule id.
    pub per_rule: BTreeMap<String, Counts>,
    /// Case files whose rule is not mapped (skipped).
    pub unmapped: usize,
    /// Files that could not be used (name, reason).
    pub unreadable: Vec<(String, String)>,
}

impl RuleEval {
    /// Every rule's counts summed.
    pub fn total(&self) -> Counts {
        let mut t = Counts::default();
        for c in self.per_rule.values() {
            t.tp += c.tp;
            t.tn += c.tn;
            t.fp.extend(c.fp.iter().cloned());
            t.fn_.extend(c.fn_.iter().cloned());
        }
        t
    }
}

/// Reads a mapping file: `other-rule-id: our-rule-id` per line (YAML map).
pub fn load_map(path: &Path, rules: &RuleSet) -> Result<BTreeMap<String, String>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| read_err(path, e))?;
    let map: BTreeMap<String, String> =
        serde_yaml::from_str(&text).map_err(|e| read_err(path, e))?;
    for ours in map.values() {
        if !rules.rules().iter().any(|r| &r.spec.id == ours) {
            return Err(EvalError::UnknownRule(ours.clone()));
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
pub fn eval_rule_cases(
    dir: &Path,
    map: &BTreeMap<String, String>,
    rules: &RuleSet,
) -> Result<RuleEval, EvalError> {
    let mut out = RuleEval::default();
    for ours in map.values() {
        out.per_rule.entry(ours.clone()).or_default();
    }
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
        let Some(ours) = map.get(theirs) else {
            out.unmapped += 1;
            continue;
        };
        let record = cloudtrail_record(event);
        let fired = rules.matching(record).any(|r| &r.spec.id == ours);
        let c = out.per_rule.entry(ours.clone()).or_default();
        match (expect, fired) {
            (true, true) => c.tp += 1,
            (false, false) => c.tn += 1,
            (false, true) => c.fp.push(name),
            (true, false) => c.fn_.push(name),
        }
    }
    Ok(out)
}

/// One labelled policy and what the analyzer said.
#[derive(Debug, Clone)]
pub struct PolicyVerdict {
    /// File name.
    pub file: String,
    /// Label: dangerous?
    pub labelled_dangerous: bool,
    /// Analyzer: the issues it found (dangerous when not empty).
    pub issues: Vec<policy::PolicyIssue>,
}

impl PolicyVerdict {
    /// Whether label and analyzer agree.
    pub fn agrees(&self) -> bool {
        self.labelled_dangerous != self.issues.is_empty()
    }
}

/// Runs the policy analyzer on every policy listed in `dir/MANIFEST.jsonl`
/// (`{"file", "label": "dangerous"|"benign"}` per line).
pub fn eval_policies(dir: &Path) -> Result<Vec<PolicyVerdict>, EvalError> {
    let manifest = dir.join("MANIFEST.jsonl");
    let text = std::fs::read_to_string(&manifest).map_err(|e| read_err(&manifest, e))?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let entry: Value = serde_json::from_str(line).map_err(|e| read_err(&manifest, e))?;
        let (Some(file), Some(label)) = (
            entry.get("file").and_then(Value::as_str),
            entry.get("label").and_then(Value::as_str),
        ) else {
            continue;
        };
        let path = dir.join(file);
        let doc: Value = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|e| read_err(&path, e))?;
        out.push(PolicyVerdict {
            file: file.to_string(),
            labelled_dangerous: label == "dangerous",
            issues: policy::analyze(&doc),
        });
    }
    Ok(out)
}
