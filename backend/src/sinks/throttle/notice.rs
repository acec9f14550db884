//! What an alerting channel posts besides alerts: a digest at the end of a window,
//! and a "✓ resolved by …" follow-up for a finding it alerted on. Channels that
//! take part in throttling (Slack, e-mail) implement [`Notify`] and render these
//! in their own format, escaping every finding text there.

use super::digest::Digest;
use crate::sinks::alert::finding_link;
use crate::sinks::SinkError;
use crate::store::Change;
use async_trait::async_trait;
use shared_types::Severity;

/// A finding this channel alerted on was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedNote {
    /// The change key (`<id>:<revision>`).
    pub key: String,
    /// The finding's title (attacker-controlled text).
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// Account.
    pub account_id: String,
    /// Primary resource (`type id`).
    pub resource: String,
    /// Who resolved it: the person, or the provider that reported it passing.
    pub by: String,
    /// The finding in the dashboard, when the public URL is configured.
    pub link: Option<String>,
}

impl ResolvedNote {
    /// The follow-up for a resolving `change`.
    pub fn of(change: &Change, public_url: Option<&str>) -> ResolvedNote {
        let item = &change.finding.item;
        ResolvedNote {
            key: change.key.clone(),
            title: item.title.clone(),
            severity: item.severity,
            account_id: item.account_id.clone(),
            resource: format!("{} {}", item.resource_type, item.resource_id)
                .trim()
                .to_string(),
            by: change
                .actor
                .clone()
                .unwrap_or_else(|| item.product_name.clone()),
            link: public_url.map(|b| finding_link(b, &item.id)),
        }
    }

    /// The headline, unescaped: `✓ resolved by Security Hub: <title>`.
    pub fn headline(&self) -> String {
        format!("✓ resolved by {}: {}", self.by, self.title)
    }
}

/// A message that is not one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The held messages of a window.
    Digest(Digest),
    /// A follow-up for a resolved finding.
    Resolved(ResolvedNote),
}

impl Notice {
    /// Names the message (e-mail boundaries, logs).
    pub fn key(&self) -> &str {
        match self {
            Notice::Digest(d) => &d.key,
            Notice::Resolved(r) => &r.key,
        }
    }
}

/// A channel that can post notices (Slack, e-mail).
#[async_trait]
pub trait Notify: Send + Sync {
    /// Posts one notice, paced and classified like the channel's alerts.
    async fn notify(&self, notice: &Notice) -> Result<(), SinkError>;
}
