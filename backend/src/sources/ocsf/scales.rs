//! OCSF's enumerations onto ours: the event class, the severity, the finding status
//! and the compliance status. Each `*_id` is read first (it is the normative value);
//! its caption is the fallback when the id is absent, 0 Unknown or 99 Other.

use super::fields;
use crate::sources::error::json_kind;
use crate::sources::SourceError;
use serde_json::Value;
use shared_types::{RecordState, Severity, WorkflowStatus};

/// Compliance Finding.
pub(super) const COMPLIANCE_FINDING: u64 = 2003;
/// Detection Finding.
pub(super) const DETECTION_FINDING: u64 = 2004;

/// The classes of OCSF's Findings category, named when one is refused.
const FINDING_CLASSES: [(u64, &str); 7] = [
    (2001, "Security Finding"),
    (2002, "Vulnerability Finding"),
    (COMPLIANCE_FINDING, "Compliance Finding"),
    (DETECTION_FINDING, "Detection Finding"),
    (2005, "Incident Finding"),
    (2006, "Data Security Finding"),
    (2007, "Application Security Posture Finding"),
];

/// The longest slice of a bad value quoted in a reason.
const MAX_SHOWN: usize = 40;

/// A JSON value as written, clipped: `expected an integer, got "2004"`.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(MAX_SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// `class_uid`, when it is one of the two classes read.
pub(super) fn class(f: &Value) -> Result<u64, SourceError> {
    let invalid = |reason: String| SourceError::Invalid {
        field: "class_uid",
        reason,
    };
    let uid = match f.get("class_uid") {
        None | Some(Value::Null) => return Err(SourceError::Missing("class_uid")),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| invalid(format!("expected an integer, got {}", shown(v))))?,
    };
    let read = "only Detection Finding (2004) and Compliance Finding (2003) are read";
    match uid {
        COMPLIANCE_FINDING | DETECTION_FINDING => Ok(uid),
        2000..=2099 => {
            let name = FINDING_CLASSES
                .iter()
                .find(|(u, _)| *u == uid)
                .map_or("a Findings class", |(_, n)| n);
            Err(invalid(format!("{uid} ({name}) is not read: {read}")))
        }
        _ => Err(invalid(format!(
            "{uid} is not an OCSF finding (the Findings category is 2001-2099): {read}"
        ))),
    }
}

/// `severity_id` (1 Informational … 5 Critical; 6 Fatal is CRITICAL, our top), else
/// the `severity` caption; neither usable rejects, saying what each held.
pub(super) fn severity(f: &Value) -> Result<Severity, SourceError> {
    let mut problems = Vec::new();
    match f.get("severity_id") {
        None | Some(Value::Null) => {}
        Some(v) => match v.as_u64() {
            Some(1) => return Ok(Severity::Informational),
            Some(2) => return Ok(Severity::Low),
            Some(3) => return Ok(Severity::Medium),
            Some(4) => return Ok(Severity::High),
            Some(5 | 6) => return Ok(Severity::Critical),
            Some(0) => problems.push("severity_id 0 is Unknown".to_string()),
            Some(99) => problems.push("severity_id 99 is Other".to_string()),
            Some(n) => problems.push(format!("severity_id {n} is not an OCSF severity (0-6, 99)")),
            None => problems.push(format!(
                "severity_id: expected an integer, got {}",
                shown(v)
            )),
        },
    }
    match f.get("severity") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => match severity_caption(s) {
            Some(sev) => return Ok(sev),
            None => problems.push(format!("severity {:?} is not a severity caption", clip(s))),
        },
        Some(v) => problems.push(format!("severity: expected a string, got {}", json_kind(v))),
    }
    Err(if problems.is_empty() {
        SourceError::NoValue {
            what: "severity",
            reason: "severity_id and severity are both missing".into(),
        }
    } else {
        SourceError::NoValue {
            what: "usable severity",
            reason: problems.join("; "),
        }
    })
}

fn severity_caption(s: &str) -> Option<Severity> {
    if s.trim().eq_ignore_ascii_case("fatal") {
        return Some(Severity::Critical);
    }
    s.parse().ok()
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(MAX_SHOWN) {
        Some((cut, _)) => &s[..cut],
        None => s,
    }
}

/// A finding status: one of ours, or OCSF's Archived (a record state for us).
enum Status {
    Workflow(WorkflowStatus),
    Archived,
}

/// The workflow status and record state: `status_id` (1 New, 2 In Progress →
/// NOTIFIED, 3 Suppressed, 4 Resolved, 5 Archived), else the `status` caption, else
/// NEW as in ASFF. Archived, or `activity_id` 3 (Close), makes the record ARCHIVED,
/// which the store's one decision treats as ASFF's `RecordState` ARCHIVED.
pub(super) fn workflow(f: &Value) -> (WorkflowStatus, RecordState) {
    let by_id = match f.get("status_id").and_then(Value::as_u64) {
        Some(1) => Some(Status::Workflow(WorkflowStatus::New)),
        Some(2) => Some(Status::Workflow(WorkflowStatus::Notified)),
        Some(3) => Some(Status::Workflow(WorkflowStatus::Suppressed)),
        Some(4) => Some(Status::Workflow(WorkflowStatus::Resolved)),
        Some(5) => Some(Status::Archived),
        _ => None,
    };
    let status = by_id.or_else(|| fields::optional(f, "/status").and_then(|s| status_caption(&s)));
    let closed = f.get("activity_id").and_then(Value::as_u64) == Some(3);
    match status {
        Some(Status::Archived) => (WorkflowStatus::New, RecordState::Archived),
        Some(Status::Workflow(w)) if closed => (w, RecordState::Archived),
        Some(Status::Workflow(w)) => (w, RecordState::Active),
        None if closed => (WorkflowStatus::New, RecordState::Archived),
        None => (WorkflowStatus::New, RecordState::Active),
    }
}

fn status_caption(s: &str) -> Option<Status> {
    let key: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match key.as_str() {
        "new" => Status::Workflow(WorkflowStatus::New),
        "inprogress" | "notified" => Status::Workflow(WorkflowStatus::Notified),
        "suppressed" => Status::Workflow(WorkflowStatus::Suppressed),
        "resolved" => Status::Workflow(WorkflowStatus::Resolved),
        "archived" => Status::Archived,
        _ => return None,
    })
}

/// A control's compliance, in ASFF's words (`PASSED`, `WARNING`, `FAILED`,
/// `NOT_AVAILABLE`) so the store's one decision treats it as it treats ASFF's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Compliance {
    /// The compliance status.
    pub status: Option<String>,
    /// The control id (`compliance.control`).
    pub control: Option<String>,
}

/// The `compliance` object (Compliance Finding; `unmapped.compliance` on a finding
/// we exported, as Detection Finding has no such attribute), else, for Prowler's
/// findings, its check result in `status_code`.
pub(super) fn compliance(f: &Value, ours: bool, product_name: &str) -> Compliance {
    let object = f.get("compliance").filter(|c| c.is_object()).or_else(|| {
        f.pointer("/unmapped/compliance")
            .filter(|c| ours && c.is_object())
    });
    if let Some(c) = object {
        return Compliance {
            status: compliance_status(c),
            control: fields::optional(c, "/control"),
        };
    }
    if !product_name.trim().eq_ignore_ascii_case("prowler") {
        return Compliance::default();
    }
    // As Prowler's ASFF output maps the same result (`generate_status`).
    let status = match fields::optional(f, "/status_code")
        .as_deref()
        .map(str::trim)
    {
        Some("PASS") => Some("PASSED"),
        Some("FAIL") => Some("FAILED"),
        Some("MANUAL") => Some("NOT_AVAILABLE"),
        _ => None,
    };
    Compliance {
        status: status.map(str::to_string),
        control: None,
    }
}

/// `status_id` (1 Pass, 2 Warning, 3 Fail), else the caption in OCSF's or ASFF's
/// words.
fn compliance_status(c: &Value) -> Option<String> {
    let by_id = match c.get("status_id").and_then(Value::as_u64) {
        Some(1) => Some("PASSED"),
        Some(2) => Some("WARNING"),
        Some(3) => Some("FAILED"),
        _ => None,
    };
    let by_caption = || {
        let caption = fields::optional(c, "/status")?;
        match caption.trim().to_ascii_uppercase().as_str() {
            "PASS" | "PASSED" => Some("PASSED"),
            "WARNING" => Some("WARNING"),
            "FAIL" | "FAILED" => Some("FAILED"),
            "NOT_AVAILABLE" => Some("NOT_AVAILABLE"),
            _ => None,
        }
    };
    by_id.or_else(by_caption).map(str::to_string)
}
