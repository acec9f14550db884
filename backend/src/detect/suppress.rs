//! Suppressions as data: conditions over a finding, a reason, an owner and an
//! expiry. A suppressed finding is still stored (workflow SUPPRESSED, the reason in
//! its description) so the decision stays auditable; nothing is dropped.
//!
//! ```yaml
//! suppressions:
//!   - id: ci-deploy-keys
//!     reason: CI rotates its deploy keys nightly
//!     owner: platform-team@example.com
//!     expires: 2027-01-31T00:00:00Z
//!     match:
//!       all:
//!         - {path: generator_id, equals: aws.iam.access-key-created}
//!         - {path: raw.userIdentity.arn, suffix: ":user/ci"}
//! ```
//! Paths are over the finding as JSON (`generator_id`, `account_id`, `resource_id`,
//! `severity`, `title`, `raw.…`). CRITICAL findings are only suppressed by a
//! suppression that says `include_critical: true`.

use super::condition::{Condition, ConditionError};
use super::yaml_file::{self, YamlFileError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared_types::{Finding, Severity, WorkflowStatus};
use std::path::Path;

/// A suppressions file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    /// The file could not be read, or its YAML is wrong (syntax, unknown field,
    /// wrong type, bad expiry).
    #[error(transparent)]
    File(#[from] YamlFileError),
    /// A match condition does not compile.
    #[error("{path}: suppression {id}: {source}")]
    Condition {
        /// The file.
        path: String,
        /// Suppression id.
        id: String,
        /// What is wrong.
        source: ConditionError,
    },
    /// Reason or owner left empty: a suppression nobody can explain is not allowed.
    #[error("{path}: suppression {id}: {field} must not be empty")]
    Empty {
        /// The file.
        path: String,
        /// Suppression id.
        id: String,
        /// Which field.
        field: &'static str,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressionFile {
    suppressions: Vec<SuppressionSpec>,
}

/// One suppression as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionSpec {
    /// Stable name (shown in the finding).
    pub id: String,
    /// Why the findings are accepted.
    pub reason: String,
    /// Who decided (and answers for it).
    pub owner: String,
    /// After this instant the suppression does nothing.
    pub expires: DateTime<Utc>,
    /// Also suppress CRITICAL findings (off unless said explicitly).
    #[serde(default)]
    pub include_critical: bool,
    /// Condition over the finding as JSON.
    #[serde(rename = "match")]
    pub matcher: serde_yaml::Value,
}

/// A compiled suppression.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// As written.
    pub spec: SuppressionSpec,
    condition: Condition,
}

/// Every suppression in effect.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    items: Vec<Suppression>,
}

impl Suppressions {
    /// Parses a suppressions file's text (`path` names it in errors).
    pub fn from_yaml(path: &str, text: &str) -> Result<Suppressions, SuppressionError> {
        let file: SuppressionFile = yaml_file::parse(path, text)?;
        let mut items = Vec::new();
        for spec in file.suppressions {
            for (field, value) in [("reason", &spec.reason), ("owner", &spec.owner)] {
                if value.trim().is_empty() {
                    return Err(SuppressionError::Empty {
                        path: path.into(),
                        id: spec.id.clone(),
                        field,
                    });
                }
            }
            let condition = Condition::compile(&spec.matcher).map_err(|source| {
                SuppressionError::Condition {
                    path: path.into(),
                    id: spec.id.clone(),
                    source,
                }
            })?;
            items.push(Suppression { spec, condition });
        }
        Ok(Suppressions { items })
    }

    /// Reads a suppressions file.
    pub fn load(path: &Path) -> Result<Suppressions, SuppressionError> {
        let text = yaml_file::read_text(path)?;
        Suppressions::from_yaml(&path.display().to_string(), &text)
    }

    /// How many suppressions are defined (expired ones included).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether none are defined.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The first live suppression matching `f` at `now`.
    pub fn find(&self, f: &Finding, now: DateTime<Utc>) -> Option<&Suppression> {
        if self.items.is_empty() {
            return None;
        }
        let view = serde_json::to_value(f).ok()?;
        self.items.iter().find(|s| {
            s.spec.expires > now
                && (f.severity != Severity::Critical || s.spec.include_critical)
                && s.condition.eval(&view, &view)
        })
    }

    /// Marks `f` SUPPRESSED when a live suppression matches, recording which one,
    /// why, who owns it and until when. Returns whether it did.
    pub fn apply(&self, f: &mut Finding, now: DateTime<Utc>) -> bool {
        let Some(s) = self.find(f, now) else {
            return false;
        };
        let note = SuppressionNote {
            id: s.spec.id.clone(),
            owner: s.spec.owner.clone(),
            until: s.spec.expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            reason: s.spec.reason.clone(),
        }
        .text();
        f.workflow_status = WorkflowStatus::Suppressed;
        f.description = if f.description.is_empty() {
            note
        } else {
            format!("{}\n\n{note}", f.description)
        };
        true
    }
}

/// The note a suppression leaves in a finding's description: which suppression,
/// its owner, its expiry and its reason. Written by [`Suppressions::apply`] and
/// read back by the audit log ([`SuppressionNote::find`]), so the format lives here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionNote {
    /// The suppression's id.
    pub id: String,
    /// Who owns it.
    pub owner: String,
    /// Its expiry (RFC 3339, seconds).
    pub until: String,
    /// Why it exists.
    pub reason: String,
}

const NOTE_PREFIX: &str = "Suppressed by ";

impl SuppressionNote {
    /// The note as written into the description.
    pub fn text(&self) -> String {
        format!(
            "{NOTE_PREFIX}{} (owner {}, until {}): {}",
            self.id, self.owner, self.until, self.reason
        )
    }

    /// The last suppression note in `description`, if any.
    pub fn find(description: &str) -> Option<SuppressionNote> {
        let at = description.rfind(NOTE_PREFIX)?;
        let rest = &description[at + NOTE_PREFIX.len()..];
        let (id, rest) = rest.split_once(" (owner ")?;
        let (owner, rest) = rest.split_once(", until ")?;
        let (until, reason) = rest.split_once("): ")?;
        Some(SuppressionNote {
            id: id.to_string(),
            owner: owner.to_string(),
            until: until.to_string(),
            reason: reason.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn finding(severity: Severity) -> Finding {
        let raw = serde_json::json!({"userIdentity": {"arn": "arn:aws:iam::1:user/ci"}});
        Finding {
            id: "x".into(),
            asff_id: "x".into(),
            product_arn: "p".into(),
            product_name: "cspm-monitor".into(),
            company_name: None,
            generator_id: "aws.iam.access-key-created".into(),
            source: Default::default(),
            account_id: "1".into(),
            region: "us-east-1".into(),
            title: "t".into(),
            description: "d".into(),
            severity,
            workflow_status: WorkflowStatus::New,
            record_state: Default::default(),
            types: vec![],
            resource_type: "AwsAccount".into(),
            resource_id: "1".into(),
            resources: vec![],
            compliance_status: None,
            control_id: None,
            remediation_text: None,
            remediation_url: None,
            source_url: None,
            mitre: vec![],
            created_at: Utc.timestamp_opt(0, 0).unwrap(),
            updated_at: Utc.timestamp_opt(0, 0).unwrap(),
            first_observed_at: None,
            last_observed_at: None,
            raw,
            revision: 0,
            workflow_by_person: false,
        }
    }

    const FILE: &str = r#"
suppressions:
  - id: ci-keys
    reason: CI rotates keys nightly
    owner: platform@example.com
    expires: 2030-01-01T00:00:00Z
    match: {all: [{path: generator_id, equals: aws.iam.access-key-created}, {path: raw.userIdentity.arn, suffix: ":user/ci"}]}
"#;

    fn at(y: i32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, 6, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_live_matching_suppression_marks_the_finding_suppressed_with_its_reason() {
        let s = Suppressions::from_yaml("s.yaml", FILE).expect("valid");
        let mut f = finding(Severity::Medium);
        assert!(s.apply(&mut f, at(2026)));
        assert_eq!(f.workflow_status, WorkflowStatus::Suppressed);
        assert!(f.description.contains("ci-keys") && f.description.contains("platform@"));
        let note = SuppressionNote::find(&f.description).expect("note read back");
        assert_eq!(
            note,
            SuppressionNote {
                id: "ci-keys".into(),
                owner: "platform@example.com".into(),
                until: "2030-01-01T00:00:00Z".into(),
                reason: "CI rotates keys nightly".into(),
            }
        );
        assert_eq!(SuppressionNote::find("d"), None);
    }

    #[test]
    fn expired_suppressions_and_critical_findings_are_left_alone() {
        let s = Suppressions::from_yaml("s.yaml", FILE).expect("valid");
        let mut f = finding(Severity::Medium);
        assert!(!s.apply(&mut f, at(2031)));
        assert_eq!(f.workflow_status, WorkflowStatus::New);
        let mut c = finding(Severity::Critical);
        assert!(!s.apply(&mut c, at(2026)));
        let explicit = FILE.replace("    match:", "    include_critical: true\n    match:");
        let s = Suppressions::from_yaml("s.yaml", &explicit).expect("valid");
        assert!(s.apply(&mut c, at(2026)));
    }

    #[test]
    fn bad_suppression_files_are_rejected_with_the_reason() {
        for bad in [
            FILE.replace("owner:", "ownr:"),
            FILE.replace("CI rotates keys nightly", "''"),
            FILE.replace("2030-01-01T00:00:00Z", "soon"),
            FILE.replace("suffix:", "sufix:"),
        ] {
            assert!(Suppressions::from_yaml("s.yaml", &bad).is_err(), "{bad}");
        }
    }
}
