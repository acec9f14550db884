//! Alerts to SNS: CRITICAL to the critical topic, the rest (at or above the threshold)
//! to the standard topic. Publishing is retried by the SDK (standard mode, with
//! backoff) and bounded in time; a failure is reported, never blocks storing.

use super::{Alert, Notifier, NotifyError};
use async_trait::async_trait;
use aws_sdk_sns::config::retry::RetryConfig;
use aws_sdk_sns::types::MessageAttributeValue;
use shared_types::Severity;
use std::time::Duration;

/// How errors name this channel.
const CHANNEL: &str = "SNS";

/// Publishes alerts to two SNS topics.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    standard_topic: String,
    critical_topic: String,
    timeout: Duration,
}

impl SnsNotifier {
    /// A notifier over `standard_topic`; CRITICAL goes to `critical_topic` when given.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        standard_topic: String,
        critical_topic: Option<String>,
    ) -> SnsNotifier {
        let conf = aws_sdk_sns::config::Builder::from(sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(4))
            .build();
        SnsNotifier {
            client: aws_sdk_sns::Client::from_conf(conf),
            critical_topic: critical_topic.unwrap_or_else(|| standard_topic.clone()),
            standard_topic,
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
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn notify(&self, alert: &Alert) -> Result<(), NotifyError> {
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| NotifyError::Invalid {
                    channel: CHANNEL,
                    detail: e.to_string(),
                })
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
            Ok(Err(e)) => Err(NotifyError::Service {
                channel: CHANNEL,
                operation: "Publish",
                target: topic.to_owned(),
                detail: crate::aws::error_text(&e),
                retryable: crate::aws::is_retryable(&e),
            }),
            Err(_) => Err(NotifyError::TimedOut {
                channel: CHANNEL,
                after: self.timeout,
            }),
        }
    }
}
