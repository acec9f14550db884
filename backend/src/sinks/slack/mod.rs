//! Alerts to Slack: an incoming webhook (`webhook_url_env` / `webhook_url_ssm`: the
//! URL is the secret) or `chat.postMessage` with a bot token (`token_env` /
//! `token_ssm` + `channel`). One Block Kit message per alert (message.rs), at most
//! one per interval per channel (pace.rs, 1 s by default). A 429 is waited out
//! (`Retry-After`) and the same message resent, never dropped; 5xx and timeouts
//! are the dispatcher's to back off and retry; Slack's configuration errors park
//! the batch with Slack's reason (answer.rs). Each alert is sent once per change
//! key (asked of [`Dedup`] before, remembered after), so a redelivered batch
//! resends only what was not sent. The URL and token never appear in a log line
//! or an error: the sink names its target by where the secret comes from.

/// What Slack's answers mean.
pub mod answer;
/// The Block Kit message and its escaping.
pub mod message;
/// Digests and resolved follow-ups as Block Kit.
pub mod notice;

use super::alert::{alert_for, Alert};
use super::dedup::{once, Dedup};
use super::pace::Pacer;
use super::secrets::Secret;
use super::ssrf::{Resolver, Target, TargetError};
use super::turns::Turns;
use super::webhook::{retry_after, PolicyResolver};
use super::{Filter, Sink, SinkError};
use crate::store::Change;
use answer::{classify, Answer};
use async_trait::async_trait;
use shared_types::Severity;
use std::sync::Arc;
use std::time::Duration;

/// Slack's Web API method for posting with a token.
pub const POST_MESSAGE_URL: &str = "https://slack.com/api/chat.postMessage";

/// How many 429s in a row one message waits out before the batch is handed back
/// to the dispatcher (still retryable, with Slack's `Retry-After`).
const RATE_LIMIT_TRIES: u32 = 5;

/// How many messages of a batch go at once when the channel is not paced.
const SIDE_BY_SIDE: usize = 10;

/// Where messages go.
pub enum Destination {
    /// An incoming webhook: the URL is the secret.
    Webhook {
        /// The URL (secret).
        url: Secret,
    },
    /// `chat.postMessage` to a channel with a bot token.
    Api {
        /// The method's URL (Slack's, or a test server's).
        url: String,
        /// The bot token.
        token: Secret,
        /// The channel id or name.
        channel: String,
    },
}

/// How a Slack sink is set up.
pub struct SlackSettings {
    /// Sink name.
    pub name: String,
    /// Where messages go.
    pub destination: Destination,
    /// How errors and logs name the destination (never the URL or token), e.g.
    /// `Slack webhook from $SLACK_ONCALL_URL`.
    pub described: String,
    /// Lowest alerting severity (routes usually decide; default INFORMATIONAL).
    pub min_severity: Severity,
    /// Further filters (change kinds, quiet).
    pub filter: Filter,
    /// At most one message per this interval (zero: no pacing).
    pub min_interval: Duration,
    /// Request timeout.
    pub timeout: Duration,
    /// Public base URL of the dashboard, for links.
    pub public_url: Option<String>,
}

/// Posts alerts to one Slack channel.
pub struct SlackSink {
    name: String,
    target: Target,
    destination: Destination,
    described: String,
    min_severity: Severity,
    filter: Filter,
    public_url: Option<String>,
    dedup: Arc<dyn Dedup>,
    pacer: Pacer,
    client: reqwest::Client,
}

impl SlackSink {
    /// A Slack sink; the URL must pass the SSRF policy (https, or http to loopback).
    pub fn new(
        settings: SlackSettings,
        dedup: Arc<dyn Dedup>,
        resolver: Arc<dyn Resolver>,
    ) -> Result<SlackSink, SinkError> {
        let url = match &settings.destination {
            Destination::Webhook { url } => url.expose(),
            Destination::Api { url, .. } => url.as_str(),
        };
        let described = settings.described;
        let target = Target::parse(url)
            .map_err(|e| SinkError::permanent(format!("{described}: the URL {e}")))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would connect past the address checks.
            .no_proxy()
            .timeout(settings.timeout)
            .user_agent(concat!("cspm-monitor/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PolicyResolver {
                target: target.clone(),
                resolver,
            }))
            .build()
            .map_err(|_| SinkError::permanent(format!("{described}: no HTTP client")))?;
        Ok(SlackSink {
            name: settings.name,
            target,
            destination: settings.destination,
            described,
            min_severity: settings.min_severity,
            filter: settings.filter,
            public_url: settings.public_url,
            dedup,
            pacer: Pacer::new(settings.min_interval),
            client,
        })
    }

    /// Books every message's turn in `turns` too (under this sink's name), so
    /// several processes posting to this channel at once keep its pace together.
    pub fn with_turns(mut self, turns: Arc<dyn Turns>) -> SlackSink {
        let name = self.name.clone();
        self.pacer = self.pacer.shared(turns, name);
        self
    }

    /// One request, classified. reqwest's own errors are never formatted: their
    /// text carries the URL.
    async fn post(&self, body: &serde_json::Value) -> Answer {
        let mut req = self.client.post(self.target.url.clone()).json(body);
        let api = match &self.destination {
            Destination::Webhook { .. } => false,
            Destination::Api { token, .. } => {
                req = req.bearer_auth(token.expose());
                true
            }
        };
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Answer::Failed(self.transport_error(&e)),
        };
        let status = resp.status().as_u16();
        let wait = retry_after(resp.headers());
        // Slack's answers are a word or a small JSON object; a huge body is not
        // Slack and is not worth reading whole.
        let text = match resp.text().await {
            Ok(t) => t.chars().take(4096).collect::<String>(),
            Err(_) => String::new(),
        };
        classify(status, wait, &text, api, &self.described)
    }

    fn transport_error(&self, e: &reqwest::Error) -> SinkError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = source {
            if let Some(t) = s.downcast_ref::<TargetError>() {
                return SinkError::permanent(format!("{}: {t}", self.described));
            }
            source = s.source();
        }
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "request failed"
        };
        SinkError::retryable(format!("{}: {what}", self.described))
    }

    /// The channel for chat.postMessage (a webhook posts to its own).
    fn channel_field(&self) -> Option<&str> {
        match &self.destination {
            Destination::Api { channel, .. } => Some(channel.as_str()),
            Destination::Webhook { .. } => None,
        }
    }

    /// Sends one alert, waiting out rate limits (the same message is resent).
    async fn deliver(&self, alert: &Alert) -> Result<(), SinkError> {
        self.deliver_body(&message::message(alert, self.channel_field()))
            .await
    }

    /// Sends one message body, waiting out rate limits.
    async fn deliver_body(&self, body: &serde_json::Value) -> Result<(), SinkError> {
        let mut asked = answer::DEFAULT_RETRY_AFTER;
        for tries in 1..=RATE_LIMIT_TRIES {
            let (answer, _) = self
                .pacer
                .run(async {
                    let a = self.post(body).await;
                    let wait = match &a {
                        Answer::RateLimited(d) => Some(*d),
                        _ => None,
                    };
                    (a, wait)
                })
                .await;
            match answer {
                Answer::Delivered => return Ok(()),
                Answer::Failed(e) => return Err(e),
                Answer::RateLimited(d) => {
                    // The pacer holds the next request back by `d`.
                    asked = d;
                    tracing::warn!(sink = %self.name, to = %self.described, tries,
                        wait_ms = d.as_millis() as u64, "Slack rate limit; resending after Retry-After");
                }
            }
        }
        Err(SinkError::Retryable {
            reason: format!(
                "{}: still rate limited after {RATE_LIMIT_TRIES} tries",
                self.described
            ),
            retry_after: Some(asked),
        })
    }
}

/// `alerts` in order, cut into groups of at most `width` in which no finding
/// appears twice (a finding's second message starts the next group).
fn groups(alerts: &[Alert], width: usize) -> Vec<&[Alert]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, a) in alerts.iter().enumerate() {
        let full = i - start == width;
        if full || alerts[start..i].iter().any(|b| b.id == a.id) {
            out.push(&alerts[start..i]);
            start = i;
        }
    }
    if start < alerts.len() {
        out.push(&alerts[start..]);
    }
    out
}

#[async_trait]
impl Sink for SlackSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, change: &Change) -> bool {
        self.filter.accepts(change)
            && alert_for(change, self.min_severity, self.public_url.as_deref()).is_some()
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        let alerts: Vec<Alert> = changes
            .iter()
            .filter_map(|c| alert_for(c, self.min_severity, self.public_url.as_deref()))
            .collect();
        // Paced, messages go one at a time anyway, in the feed's order. Unpaced, a
        // few go side by side (one at a time, each would wait a whole round trip);
        // two about one finding never share a group, so its messages keep their
        // order. A group runs to its end even if one of it fails, so what went is
        // remembered; then the gravest failure ends the batch.
        let width = if self.pacer.interval().is_zero() {
            SIDE_BY_SIDE
        } else {
            1
        };
        for group in groups(&alerts, width) {
            let sent = futures::future::join_all(
                group
                    .iter()
                    .map(|a| once(&*self.dedup, &self.name, &a.key, self.deliver(a))),
            )
            .await;
            if let Some(e) = SinkError::gravest(sent.into_iter().filter_map(Result::err)) {
                return Err(e);
            }
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        // At one message a second, a bigger batch would hold the cursor for minutes.
        20
    }

    fn channel(&self) -> Option<&'static str> {
        Some("slack")
    }
}

#[async_trait]
impl crate::sinks::throttle::notice::Notify for SlackSink {
    async fn notify(&self, n: &crate::sinks::throttle::notice::Notice) -> Result<(), SinkError> {
        // A digest or follow-up sent before (a flush or send retried after the
        // message went) is not sent twice.
        let body = notice::message(n, self.channel_field());
        once(&*self.dedup, &self.name, n.key(), self.deliver_body(&body)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str) -> Alert {
        Alert {
            reason: super::super::alert::AlertReason::Reached,
            key: format!("{id}:1"),
            id: id.into(),
            title: String::new(),
            severity: Severity::High,
            account_id: String::new(),
            region: String::new(),
            resource: String::new(),
            generator_id: String::new(),
            when: chrono::DateTime::UNIX_EPOCH,
            caller: None,
            link: None,
        }
    }

    #[test]
    fn groups_are_at_most_width_long_and_never_hold_one_finding_twice() {
        let alerts: Vec<Alert> = ["a", "b", "c", "a", "d", "e", "f"]
            .iter()
            .map(|id| alert(id))
            .collect();
        let ids = |w| -> Vec<Vec<&str>> {
            groups(&alerts, w)
                .iter()
                .map(|g| g.iter().map(|a| a.id.as_str()).collect())
                .collect()
        };
        assert_eq!(ids(10), [vec!["a", "b", "c"], vec!["a", "d", "e", "f"]]);
        assert_eq!(
            ids(2),
            [vec!["a", "b"], vec!["c", "a"], vec!["d", "e"], vec!["f"]]
        );
        assert_eq!(ids(1).len(), 7);
        assert!(groups(&[], 3).is_empty());
    }
}
