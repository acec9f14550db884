//! The `Notifier` port: where alerts go (SNS on AWS; other channels are one file each),
//! and the policy deciding when a stored finding alerts.

/// SNS topics (standard and critical).
pub mod sns;

use crate::store::UpsertOutcome;
use async_trait::async_trait;
use shared_types::{Finding, RecordState, Severity};
use std::time::Duration;

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
}

/// One alert: the finding and what to say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Why it alerts.
    pub reason: AlertReason,
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

    /// Plain-text body, one fact a line.
    pub fn body(&self) -> String {
        let sev = match self.reason {
            AlertReason::Reached => self.severity.to_string(),
            AlertReason::Raised { from } => format!("{} (was {from})", self.severity),
        };
        let mut s = format!(
            "{}\n\nSeverity: {sev}\nAccount:  {}\nRegion:   {}\nResource: {}\n",
            self.title, self.account_id, self.region, self.resource
        );
        if let Some(link) = &self.link {
            s.push_str(&format!("Finding:  {link}\n"));
        }
        s
    }
}

/// Decides whether a stored finding alerts: once when it first appears at or above
/// `min`, and again only when its severity rises — never on a plain update.
pub fn alert_for(
    finding: &Finding,
    outcome: &UpsertOutcome,
    min: Severity,
    dashboard_url: Option<&str>,
) -> Option<Alert> {
    if finding.severity < min || finding.record_state == RecordState::Archived {
        return None;
    }
    let reason = match outcome {
        UpsertOutcome::Inserted => AlertReason::Reached,
        UpsertOutcome::Updated {
            previous_severity, ..
        } if *previous_severity < min => AlertReason::Reached,
        UpsertOutcome::Updated {
            previous_severity, ..
        } if *previous_severity < finding.severity => AlertReason::Raised {
            from: *previous_severity,
        },
        _ => return None,
    };
    Some(Alert {
        reason,
        id: finding.id.clone(),
        title: finding.title.clone(),
        severity: finding.severity,
        account_id: finding.account_id.clone(),
        region: finding.region.clone(),
        resource: format!("{} {}", finding.resource_type, finding.resource_id)
            .trim()
            .to_string(),
        link: dashboard_url
            .map(|base| format!("{}/findings/{}", base.trim_end_matches('/'), finding.id)),
    })
}

/// Why an alert was not delivered, and whether sending it again later may work
/// (alerts are delivered at least once: a caller retries what is retryable).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The channel did not answer in time. Retryable.
    #[error("{channel}: no answer within {after:?}")]
    TimedOut {
        /// Channel name (`SNS`).
        channel: &'static str,
        /// How long it was given.
        after: Duration,
    },
    /// The channel's service failed or refused the call: retryable when it was
    /// throttling, a 5xx or the network; not when the destination does not exist
    /// or the caller lacks permission.
    #[error("{channel} {operation} {target}: {detail}")]
    Service {
        /// Channel name (`SNS`).
        channel: &'static str,
        /// The API operation (`Publish`).
        operation: &'static str,
        /// Where the alert was going (a topic ARN).
        target: String,
        /// What went wrong: the service's error with its causes.
        detail: String,
        /// True when the same call may succeed later.
        retryable: bool,
    },
    /// The alert could not be made into a message for this channel. Not retryable.
    #[error("{channel}: alert not sendable: {detail}")]
    Invalid {
        /// Channel name (`SNS`).
        channel: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}

impl NotifyError {
    /// True when sending the same alert again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            NotifyError::TimedOut { .. } => true,
            NotifyError::Service { retryable, .. } => *retryable,
            NotifyError::Invalid { .. } => false,
        }
    }
}

/// Somewhere alerts are sent.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Delivers one alert (retrying transient failures itself).
    async fn notify(&self, alert: &Alert) -> Result<(), NotifyError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_types::WorkflowStatus;

    fn f(sev: Severity) -> Finding {
        serde_json::from_value(serde_json::json!({
            "id": "abc", "asff_id": "x", "product_arn": "p", "product_name": "Security Hub",
            "generator_id": "g", "account_id": "111122223333", "region": "eu-west-1",
            "title": "Bucket is public", "description": "", "severity": sev,
            "workflow_status": "NEW", "resource_type": "AwsS3Bucket", "resource_id": "arn:aws:s3:::b",
            "created_at": "2024-05-01T00:00:00Z", "updated_at": "2024-05-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn updated(from: Severity) -> UpsertOutcome {
        UpsertOutcome::Updated {
            previous_severity: from,
            previous_status: WorkflowStatus::New,
            kind: shared_types::ChangeKind::Updated,
        }
    }

    #[test]
    fn alerts_once_on_arrival_and_again_only_when_severity_rises() {
        let min = Severity::High;
        let a = alert_for(
            &f(Severity::High),
            &UpsertOutcome::Inserted,
            min,
            Some("https://d.example/"),
        )
        .unwrap();
        assert_eq!(a.reason, AlertReason::Reached);
        assert_eq!(a.link.as_deref(), Some("https://d.example/findings/abc"));
        assert!(alert_for(&f(Severity::Medium), &UpsertOutcome::Inserted, min, None).is_none());
        assert!(alert_for(&f(Severity::High), &updated(Severity::High), min, None).is_none());
        assert!(alert_for(&f(Severity::High), &updated(Severity::Critical), min, None).is_none());
        assert!(alert_for(&f(Severity::High), &UpsertOutcome::Unchanged, min, None).is_none());
        assert_eq!(
            alert_for(&f(Severity::High), &updated(Severity::Low), min, None)
                .unwrap()
                .reason,
            AlertReason::Reached
        );
        let raised =
            alert_for(&f(Severity::Critical), &updated(Severity::High), min, None).unwrap();
        assert_eq!(
            raised.reason,
            AlertReason::Raised {
                from: Severity::High
            }
        );
        assert!(raised.body().contains("CRITICAL (was HIGH)"));
        assert!(raised.body().contains("111122223333") && raised.body().contains("eu-west-1"));
        assert!(raised.subject().starts_with("[CRITICAL] Bucket is public"));
    }
}
