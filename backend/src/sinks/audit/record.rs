//! What one audit line says: the event and its facts, one flat record, so Athena
//! reads every field as a column and a new kind of event (remediation's plan,
//! approval and apply) is a new `event` value plus the fields it needs. The chain
//! adds `seq`, `logged_at`, `prev` and `hash` around it ([`super::chain`]).

use crate::detect::suppress::SuppressionNote;
use crate::feed::observe::{DeliveryReport, Outcome};
use crate::store::Change;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared_types::{ChangeKind, Severity, WorkflowStatus};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEvent {
    /// A person changed a finding's workflow status or note (`actor`, `from`,
    /// `to`, `note`).
    WorkflowChanged,
    /// A suppression rule matched and the finding became SUPPRESSED (`rule`,
    /// `owner`, `until`, `reason`, `from`).
    Suppressed,
    /// A change was delivered to an alerting channel (`sink`, `channel`).
    AlertSent,
    /// A sink did not take a change; the local dispatcher parked it for an
    /// operator (`sink`, `error`, `tries`).
    Parked,
    /// A sink did not take a change inside one fanout invocation; it goes back to
    /// the stream for Lambda's retry, then to the on-failure queue (`sink`,
    /// `error`, `tries`).
    DeliveryFailed,
    /// A parked batch was delivered by `cspm sinks retry` (`sink`, `actor`).
    Redelivered,
}

impl AuditEvent {
    /// The name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::WorkflowChanged => "workflow_changed",
            AuditEvent::Suppressed => "suppressed",
            AuditEvent::AlertSent => "alert_sent",
            AuditEvent::Parked => "parked",
            AuditEvent::DeliveryFailed => "delivery_failed",
            AuditEvent::Redelivered => "redelivered",
        }
    }
}

/// One audited event. Only `event` and `at` are always there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// What happened.
    pub event: AuditEvent,
    /// When it happened (the change's time, or the delivery's).
    pub at: DateTime<Utc>,
    /// Who did it (a person's workflow change, the operator of a retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The finding's short id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<String>,
    /// The change's idempotency key (`<finding id>:<revision>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The finding's severity after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Workflow status before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<WorkflowStatus>,
    /// Workflow status after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<WorkflowStatus>,
    /// The note given with a workflow change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The suppression rule that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Who owns that suppression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Until when it holds (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Why it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The sink of a delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sink: Option<String>,
    /// Its alerting channel (`webhook`, `sns`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The sink's last error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Tries made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries: Option<u32>,
}

impl AuditRecord {
    /// An empty record of `event` at `at` (the constructors fill the rest).
    pub fn new(event: AuditEvent, at: DateTime<Utc>) -> AuditRecord {
        AuditRecord {
            event,
            at,
            actor: None,
            finding_id: None,
            key: None,
            severity: None,
            from: None,
            to: None,
            note: None,
            rule: None,
            owner: None,
            until: None,
            reason: None,
            sink: None,
            channel: None,
            error: None,
            tries: None,
        }
    }

    fn about(mut self, c: &Change) -> AuditRecord {
        self.finding_id = Some(c.finding_id().to_string());
        self.key = Some(c.key.clone());
        self.severity = Some(c.finding.item.severity);
        self
    }

    /// The JSON object the chain wraps.
    pub fn to_json(&self) -> String {
        // A struct of strings, enums and numbers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Which audit event a change from the feed is, if any: a person's workflow
/// change, or a finding that became SUPPRESSED without a person (a suppression
/// rule matched: detect/suppress.rs marks the finding before it is stored).
/// Quiet changes (demo data, restores, archival) are not audited.
pub fn audited(c: &Change) -> Option<AuditEvent> {
    if c.quiet {
        return None;
    }
    match c.kind {
        ChangeKind::WorkflowChanged => Some(AuditEvent::WorkflowChanged),
        ChangeKind::Deleted => None,
        _ if c.actor.is_none()
            && c.finding.item.workflow_status == WorkflowStatus::Suppressed
            && c.finding.status_before != Some(WorkflowStatus::Suppressed) =>
        {
            Some(AuditEvent::Suppressed)
        }
        _ => None,
    }
}

/// The record of a change [`audited`] accepts; `note` is the suppression that
/// matched, when it could be read from the finding.
pub fn of_change(c: &Change, note: Option<&SuppressionNote>) -> Option<AuditRecord> {
    let event = audited(c)?;
    let mut r = AuditRecord::new(event, c.at).about(c);
    r.from = c.finding.status_before;
    r.to = Some(c.finding.item.workflow_status);
    match event {
        AuditEvent::WorkflowChanged => {
            r.actor = c.actor.clone();
            r.note = c.finding.note.clone();
        }
        _ => {
            if let Some(n) = note {
                r.rule = Some(n.id.clone());
                r.owner = Some(n.owner.clone());
                r.until = Some(n.until.clone());
                r.reason = Some(n.reason.clone());
            }
        }
    }
    Some(r)
}

/// The records of a delivery outcome, one per change: alerts sent (deliveries to
/// an alerting channel), parked changes, changes handed back to the stream. Failed
/// tries that will be retried are not audited (metrics count them).
pub fn of_delivery(report: &DeliveryReport<'_>, now: DateTime<Utc>) -> Vec<AuditRecord> {
    let (event, error, tries) = match report.outcome {
        Outcome::Delivered if report.channel.is_some() => (AuditEvent::AlertSent, None, None),
        Outcome::Parked { tries, error } => (AuditEvent::Parked, Some(error), Some(tries)),
        Outcome::Returned { tries, error } => {
            (AuditEvent::DeliveryFailed, Some(error), Some(tries))
        }
        _ => return Vec::new(),
    };
    report
        .changes
        .iter()
        .map(|c| {
            let mut r = AuditRecord::new(event, now).about(c);
            r.sink = Some(report.sink.to_string());
            r.channel = report.channel.map(str::to_string);
            r.error = error.map(str::to_string);
            r.tries = tries;
            r
        })
        .collect()
}

/// The records of a parked batch an operator delivered (`cspm sinks retry`).
pub fn redelivered(
    sink: &str,
    channel: Option<&str>,
    changes: &[Change],
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<AuditRecord> {
    changes
        .iter()
        .map(|c| {
            let mut r = AuditRecord::new(AuditEvent::Redelivered, now).about(c);
            r.sink = Some(sink.to_string());
            r.channel = channel.map(str::to_string);
            r.actor = Some(actor.to_string());
            r
        })
        .collect()
}
