//! Alerts by e-mail through SES v2 (`SendEmail`): one message per alert from the
//! configured from-address to the sink's recipients, HTML and plain text from one
//! template (email.rs), sent as raw MIME so both parts are exactly ours. Sending is paced to the account's send rate (SES counts
//! every recipient: a message to three people is three), and each alert is sent
//! once per change key ([`Dedup`]). SES's refusals are reported in plain words:
//! the sandbox (unverified recipients), an unverified from-address, a paused
//! account or a spent daily quota.

use super::alert::{alert_for, Alert};
use super::dedup::{once, Dedup};
use super::email::{render, Email};
use super::pace::Pacer;
use super::turns::Turns;
use super::{Filter, Sink, SinkError};
use crate::store::Change;
use async_trait::async_trait;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use sha2::Digest;
use shared_types::Severity;
use std::sync::Arc;
use std::time::Duration;

/// How an SES sink is set up.
#[derive(Debug, Clone)]
pub struct SesSettings {
    /// Sink name.
    pub name: String,
    /// The verified from-address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Lowest alerting severity (routes usually decide; default INFORMATIONAL).
    pub min_severity: Severity,
    /// Further filters.
    pub filter: Filter,
    /// The account's maximum send rate, recipients per second (1 in the sandbox).
    pub max_send_rate: f64,
    /// Public base URL of the dashboard, for links.
    pub public_url: Option<String>,
}

/// Sends alert e-mails through SES.
pub struct SesSink {
    settings: SesSettings,
    client: aws_sdk_sesv2::Client,
    dedup: Arc<dyn Dedup>,
    pacer: Pacer,
    timeout: Duration,
}

impl SesSink {
    /// A sink sending with `sdk`'s credentials and region.
    pub fn new(
        settings: SesSettings,
        sdk: &aws_config::SdkConfig,
        dedup: Arc<dyn Dedup>,
    ) -> SesSink {
        let rate = if settings.max_send_rate > 0.0 {
            settings.max_send_rate
        } else {
            1.0
        };
        let per_message = Duration::from_secs_f64(settings.to.len().max(1) as f64 / rate);
        SesSink {
            client: aws_sdk_sesv2::Client::new(sdk),
            dedup,
            pacer: Pacer::new(per_message),
            timeout: Duration::from_secs(10),
            settings,
        }
    }

    /// Books every e-mail's turn in `turns` too (under this sink's name), so
    /// several processes sending through this sink keep its rate together.
    pub fn with_turns(mut self, turns: Arc<dyn Turns>) -> SesSink {
        let name = self.settings.name.clone();
        self.pacer = self.pacer.shared(turns, name);
        self
    }

    /// Changes how long one `SendEmail` may take before it counts as a retryable
    /// failure (10 s by default: a stuck call must not hold the dispatcher's batch).
    pub fn with_timeout(mut self, timeout: Duration) -> SesSink {
        self.timeout = timeout;
        self
    }

    /// Sends `email` as a raw MIME message (email.rs builds it): the same two
    /// parts SES would build from simple content, with our own escaping and
    /// header encoding.
    async fn send_one(&self, email: &Email, key: &str) -> Result<(), SinkError> {
        // A boundary unique to the message: base64 lines never hold `=_`.
        let digest = hex::encode(sha2::Sha256::digest(key.as_bytes()));
        let boundary = format!("=_cspm_{}", &digest[..24]);
        let mime = email.to_mime(&self.settings.from, &self.settings.to, &boundary);
        let raw = RawMessage::builder()
            .data(Blob::new(mime.into_bytes()))
            .build()
            .map_err(|e| SinkError::permanent(format!("SES message: {e}")))?;
        let send = self
            .client
            .send_email()
            .from_email_address(&self.settings.from)
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(self.settings.to.clone()))
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .send();
        let (out, _) = self
            .pacer
            .run(async { (tokio::time::timeout(self.timeout, send).await, None) })
            .await;
        match out {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.error(&e)),
            Err(_) => Err(SinkError::retryable(format!(
                "SES SendEmail from {}: timed out after {:?}",
                self.settings.from, self.timeout
            ))),
        }
    }

    /// SES's refusal in words a person can act on.
    fn error(
        &self,
        e: &aws_sdk_sesv2::error::SdkError<
            SendEmailError,
            aws_sdk_sesv2::config::http::HttpResponse,
        >,
    ) -> SinkError {
        let from = &self.settings.from;
        let detail = e.message().unwrap_or_default().to_string();
        let permanent = |what: String| SinkError::permanent(format!("SES: {what} ({detail})"));
        match e.as_service_error() {
            Some(SendEmailError::MessageRejected(_)) => permanent(format!(
                "SES rejected the message. The from-address {from} must be a verified \
                 identity; in the SES sandbox every recipient ({}) must be verified too, \
                 until the account has production access",
                self.settings.to.join(", ")
            )),
            Some(SendEmailError::MailFromDomainNotVerifiedException(_))
            | Some(SendEmailError::NotFoundException(_)) => permanent(format!(
                "the from-address {from} (or its domain) is not a verified SES identity in this region"
            )),
            Some(SendEmailError::SendingPausedException(_))
            | Some(SendEmailError::AccountSuspendedException(_)) => permanent(
                "sending is paused or suspended for this SES account (see the SES console's \
                 account dashboard)"
                    .into(),
            ),
            Some(SendEmailError::LimitExceededException(_)) => SinkError::Retryable {
                reason: format!("SES: the daily sending quota is spent; retrying later ({detail})"),
                retry_after: Some(Duration::from_secs(900)),
            },
            Some(SendEmailError::TooManyRequestsException(_)) => SinkError::Retryable {
                reason: format!("SES: the send rate was exceeded ({detail})"),
                retry_after: Some(Duration::from_secs(1)),
            },
            _ => {
                let reason = format!("SES SendEmail from {from}: {}", crate::aws::error_text(e));
                if crate::aws::is_retryable(e) {
                    SinkError::retryable(reason)
                } else {
                    SinkError::permanent(reason)
                }
            }
        }
    }

    fn alert(&self, change: &Change) -> Option<Alert> {
        alert_for(
            change,
            self.settings.min_severity,
            self.settings.public_url.as_deref(),
        )
    }
}

#[async_trait]
impl Sink for SesSink {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn wants(&self, change: &Change) -> bool {
        self.settings.filter.accepts(change) && self.alert(change).is_some()
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        let name = &self.settings.name;
        for c in changes {
            let Some(alert) = self.alert(c) else {
                continue;
            };
            once(
                &*self.dedup,
                name,
                &alert.key,
                self.send_one(&render(&alert), &alert.key),
            )
            .await?;
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        20
    }

    fn channel(&self) -> Option<&'static str> {
        Some("email")
    }
}

#[async_trait]
impl super::throttle::notice::Notify for SesSink {
    async fn notify(&self, notice: &super::throttle::notice::Notice) -> Result<(), SinkError> {
        // A digest or follow-up sent before is not sent twice.
        let email = super::email_notice::render_notice(notice);
        let name = &self.settings.name;
        once(
            &*self.dedup,
            name,
            notice.key(),
            self.send_one(&email, notice.key()),
        )
        .await
    }
}
