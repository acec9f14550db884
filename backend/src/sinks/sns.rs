//! Alerts to SNS: CRITICAL to the critical topic, the rest (at or above the
//! threshold) to the standard topic — the scanner's alerting, moved onto the change
//! feed. [`super::alert::alert_for`] decides which changes alert; each alert is
//! published once per change key (asked of [`Dedup`] before, remembered after), so
//! the at-least-once feed does not page twice.

use super::alert::{alert_for, Alert};
use super::dedup::Dedup;
use super::{Filter, Sink, SinkError};
use crate::store::Change;
use async_trait::async_trait;
use aws_sdk_sns::config::retry::RetryConfig;
use aws_sdk_sns::types::MessageAttributeValue;
use shared_types::Severity;
use std::sync::Arc;
use std::time::Duration;

/// Publishes alerts to two SNS topics.
pub struct SnsSink {
    name: String,
    client: aws_sdk_sns::Client,
    standard_topic: String,
    critical_topic: String,
    min_severity: Severity,
    filter: Filter,
    dashboard_url: Option<String>,
    dedup: Arc<dyn Dedup>,
    timeout: Duration,
}

/// How an SNS sink is set up.
#[derive(Debug, Clone)]
pub struct SnsSettings {
    /// Sink name.
    pub name: String,
    /// Topic for alerts below CRITICAL.
    pub standard_topic: String,
    /// Topic for CRITICAL alerts (the standard one when absent).
    pub critical_topic: Option<String>,
    /// Lowest alerting severity (default HIGH).
    pub min_severity: Severity,
    /// Further filters (change kinds).
    pub filter: Filter,
    /// Base URL of the dashboard for links.
    pub dashboard_url: Option<String>,
}

impl SnsSink {
    /// A sink publishing with `sdk`'s credentials; `dedup` remembers sent keys.
    pub fn new(
        settings: SnsSettings,
        sdk: &aws_config::SdkConfig,
        dedup: Arc<dyn Dedup>,
    ) -> SnsSink {
        // The SDK retries throttling quickly; longer outages are the dispatcher's.
        let conf = aws_sdk_sns::config::Builder::from(sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .build();
        SnsSink {
            name: settings.name,
            client: aws_sdk_sns::Client::from_conf(conf),
            critical_topic: settings
                .critical_topic
                .unwrap_or_else(|| settings.standard_topic.clone()),
            standard_topic: settings.standard_topic,
            min_severity: settings.min_severity,
            filter: settings.filter,
            dashboard_url: settings.dashboard_url,
            dedup,
            timeout: Duration::from_secs(10),
        }
    }

    /// The topic an alert goes to.
    pub fn topic_for(&self, severity: Severity) -> &str {
        if severity == Severity::Critical {
            &self.critical_topic
        } else {
            &self.standard_topic
        }
    }

    async fn publish(&self, alert: &Alert) -> Result<(), SinkError> {
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| SinkError::permanent(format!("SNS message attribute: {e}")))
        };
        let topic = self.topic_for(alert.severity);
        let publish = self
            .client
            .publish()
            .topic_arn(topic)
            .subject(alert.subject())
            .message(alert.body())
            // Subscriptions can filter on these (e.g. one account's team).
            .message_attributes("severity", attr(alert.severity.as_str())?)
            .message_attributes("account", attr(&alert.account_id)?)
            .message_attributes("finding_id", attr(&alert.id)?)
            .send();
        match tokio::time::timeout(self.timeout, publish).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                let reason = format!("SNS Publish {topic}: {}", crate::aws::error_text(&e));
                Err(if crate::aws::is_retryable(&e) {
                    SinkError::retryable(reason)
                } else {
                    SinkError::permanent(reason)
                })
            }
            Err(_) => Err(SinkError::retryable(format!(
                "SNS Publish {topic}: timed out after {:?}",
                self.timeout
            ))),
        }
    }
}

#[async_trait]
impl Sink for SnsSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, change: &Change) -> bool {
        self.filter.accepts(change)
            && alert_for(change, self.min_severity, self.dashboard_url.as_deref()).is_some()
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        for c in changes {
            let Some(alert) = alert_for(c, self.min_severity, self.dashboard_url.as_deref()) else {
                continue;
            };
            if self.dedup.seen(&self.name, &alert.key).await? {
                continue;
            }
            self.publish(&alert).await?;
            self.dedup.remember(&self.name, &alert.key).await?;
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        50
    }

    fn channel(&self) -> Option<&'static str> {
        Some("sns")
    }
}
