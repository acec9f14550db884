//! When a change alerts, and what an alert says. One policy for every alerting
//! channel: a finding alerts once when it first reaches the threshold, and again
//! only when its severity rises or it is reopened — never on a plain update, never
//! for quiet changes (demo data, archival) or findings the provider archived.

use crate::store::change::Caller;
use crate::store::Change;
use chrono::{DateTime, Utc};
use shared_types::{ChangeKind, RecordState, Severity};

/// Where a finding is shown in the dashboard under its public base URL
/// (`--public-url` / `CSPM_PUBLIC_URL`; the CloudFront URL on AWS).
pub fn finding_link(base: &str, id: &str) -> String {
    format!("{}/ui/findings/{id}", base.trim_end_matches('/'))
}

/// Why a finding alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertReason {
    /// First seen at or above the threshold (new, or risen from below it).
    Reached,
    /// Already at or above the threshold, and its severity rose.
    Raised {
        /// Severity before.
        from: Severity,
    },
    /// A resolved or notified finding failed again (or came back from ARCHIVED).
    Reopened,
}

/// One alert: the finding and what to say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Why it alerts.
    pub reason: AlertReason,
    /// The change's idempotency key (`<id>:<revision>`).
    pub key: String,
    /// Short id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Severity now.
    pub severity: Severity,
    /// Account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// `type id` of the primary resource.
    pub resource: String,
    /// The rule or control.
    pub generator_id: String,
    /// When the provider last saw it (the finding's `updated_at`).
    pub when: DateTime<Utc>,
    /// Who did it, for CloudTrail detections.
    pub caller: Option<Caller>,
    /// Link to the finding in the dashboard, when its URL is configured.
    pub link: Option<String>,
}

impl Alert {
    /// Subject line: SNS wants printable ASCII, no line breaks, under 100 characters.
    pub fn subject(&self) -> String {
        let s = format!("[{}] {}", self.severity, self.title);
        s.chars()
            .map(|c| match c {
                c if c.is_ascii_control() => ' ',
                c if c.is_ascii() => c,
                _ => '?',
            })
            .take(99)
            .collect()
    }

    /// The severity with why it alerts: `CRITICAL (was HIGH)`, `HIGH (reopened)`.
    pub fn severity_text(&self) -> String {
        match self.reason {
            AlertReason::Reached => self.severity.to_string(),
            AlertReason::Raised { from } => format!("{} (was {from})", self.severity),
            AlertReason::Reopened => format!("{} (reopened)", self.severity),
        }
    }

    /// Every fact after the title as (label, value), in display order: what each
    /// channel renders (and escapes) in its own format, so they all say the same.
    pub fn facts(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("Severity", self.severity_text()),
            ("Account", self.account_id.clone()),
            ("Region", self.region.clone()),
            ("Resource", self.resource.clone()),
            ("Rule", self.generator_id.clone()),
            (
                "When",
                self.when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        ];
        if let Some(c) = &self.caller {
            let caller = [
                ("User", &c.user_arn),
                ("Source IP", &c.source_ip),
                ("User agent", &c.user_agent),
                ("Access key", &c.access_key_id),
            ];
            out.extend(
                caller
                    .into_iter()
                    .filter_map(|(label, v)| v.clone().map(|v| (label, v))),
            );
        }
        out
    }

    /// Plain-text body, one fact a line.
    pub fn body(&self) -> String {
        let mut s = format!("{}\n\n", self.title);
        for (label, value) in self.facts() {
            s.push_str(&format!("{:<10}{value}\n", format!("{label}:")));
        }
        if let Some(link) = &self.link {
            s.push_str(&format!("{:<10}{link}\n", "Finding:"));
        }
        s
    }
}

/// Decides whether `change` alerts at threshold `min`; `dashboard_url` makes links.
pub fn alert_for(change: &Change, min: Severity, dashboard_url: Option<&str>) -> Option<Alert> {
    let f = &change.finding;
    let severity = f.item.severity;
    if change.quiet || severity < min || f.record_state == RecordState::Archived {
        return None;
    }
    let reason = match (change.kind, f.severity_before) {
        (ChangeKind::Inserted, _) => AlertReason::Reached,
        (ChangeKind::Reopened, _) => AlertReason::Reopened,
        (ChangeKind::Updated, Some(before)) if before < min => AlertReason::Reached,
        (ChangeKind::Updated, Some(before)) if before < severity => {
            AlertReason::Raised { from: before }
        }
        _ => return None,
    };
    let item = &f.item;
    Some(Alert {
        reason,
        key: change.key.clone(),
        id: item.id.clone(),
        title: item.title.clone(),
        severity,
        account_id: item.account_id.clone(),
        region: item.region.clone(),
        resource: format!("{} {}", item.resource_type, item.resource_id)
            .trim()
            .to_string(),
        generator_id: f.generator_id.clone(),
        when: item.updated_at,
        caller: f.caller.clone(),
        link: dashboard_url.map(|base| finding_link(base, &item.id)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::change::ChangeFinding;

    fn change(kind: ChangeKind, sev: Severity, before: Option<Severity>) -> Change {
        let f = crate::demo::generate(1, crate::demo::default_anchor(), 5)
            .next()
            .unwrap();
        let mut item = shared_types::FindingListItem::from(&f);
        item.severity = sev;
        item.title = "Bucket is public".into();
        item.account_id = "111122223333".into();
        item.region = "eu-west-1".into();
        Change {
            seq: 1,
            key: format!("{}:2", f.id),
            kind,
            revision: 2,
            at: f.updated_at,
            actor: None,
            quiet: false,
            finding: ChangeFinding {
                item,
                generator_id: "aws.s3.public".into(),
                record_state: RecordState::Active,
                severity_before: before,
                status_before: None,
                note: None,
                caller: None,
            },
        }
    }

    #[test]
    fn alerts_once_on_arrival_again_when_severity_rises_or_it_reopens() {
        use ChangeKind::*;
        use Severity::*;
        let min = High;
        let a = alert_for(
            &change(Inserted, High, None),
            min,
            Some("https://d.example/"),
        )
        .unwrap();
        assert_eq!(a.reason, AlertReason::Reached);
        assert!(a
            .link
            .as_deref()
            .unwrap()
            .starts_with("https://d.example/ui/findings/"));
        assert!(alert_for(&change(Inserted, Medium, None), min, None).is_none());
        assert!(alert_for(&change(Updated, High, Some(High)), min, None).is_none());
        assert!(alert_for(&change(Updated, High, Some(Critical)), min, None).is_none());
        assert!(alert_for(&change(Resolved, Critical, Some(Low)), min, None).is_none());
        assert!(alert_for(&change(WorkflowChanged, Critical, None), min, None).is_none());
        assert!(alert_for(&change(Deleted, Critical, None), min, None).is_none());
        assert_eq!(
            alert_for(&change(Updated, High, Some(Low)), min, None)
                .unwrap()
                .reason,
            AlertReason::Reached
        );
        let raised = alert_for(&change(Updated, Critical, Some(High)), min, None).unwrap();
        assert_eq!(raised.reason, AlertReason::Raised { from: High });
        assert!(raised.body().contains("CRITICAL (was HIGH)"));
        assert!(raised.body().contains("111122223333") && raised.body().contains("eu-west-1"));
        assert!(raised.subject().starts_with("[CRITICAL] Bucket is public"));
        let reopened = alert_for(&change(Reopened, High, Some(High)), min, None).unwrap();
        assert_eq!(reopened.reason, AlertReason::Reopened);
        assert!(reopened.body().contains("(reopened)"));
        // Quiet and archived changes never alert.
        let mut quiet = change(Inserted, Critical, None);
        quiet.quiet = true;
        assert!(alert_for(&quiet, min, None).is_none());
        let mut archived = change(Inserted, Critical, None);
        archived.finding.record_state = RecordState::Archived;
        assert!(alert_for(&archived, min, None).is_none());
    }

    #[test]
    fn subjects_are_printable_ascii_under_100_characters() {
        let mut c = change(ChangeKind::Inserted, Severity::High, None);
        c.finding.item.title = format!("évil\r\nsubject {}", "x".repeat(200));
        let s = alert_for(&c, Severity::High, None).unwrap().subject();
        assert!(s.len() < 100 && s.is_ascii() && !s.contains('\n') && !s.contains('\r'));
    }
}
