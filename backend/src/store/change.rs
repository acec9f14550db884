//! The change record: what every write that changes a finding leaves behind, in the
//! same transaction (SQLite's `changes` table) or as the same write (a DynamoDB
//! Streams record decoded into this type). Everything that reacts to findings —
//! sinks — reads these, never the writes themselves.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared_types::{ChangeKind, FindingListItem, RecordState, Severity, WorkflowStatus};

/// Where a write came from, as far as the changes it records care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Real events (ingest, `POST /events`, the scanner, the sync, a person).
    #[default]
    Events,
    /// Synthetic demo data: its changes are quiet (never alert).
    Demo,
    /// Findings read back from the archive: quiet (old news).
    Restore,
}

impl Origin {
    /// Quiet changes are recorded but never alert.
    pub fn is_quiet(self) -> bool {
        !matches!(self, Origin::Events)
    }
}

/// One change to one finding.
///
/// `key` (`"<finding id>:<revision>"`) is the idempotency key: delivery is at least
/// once, and a consumer that sees a key twice has seen the same change twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Position in the store's feed: monotonic per SQLite store (the commit order);
    /// 0 on DynamoDB, whose stream has no global order (order by `revision` per
    /// finding there).
    pub seq: u64,
    /// `"<finding id>:<revision>"`.
    pub key: String,
    /// What the change did.
    pub kind: ChangeKind,
    /// The record's revision after the change.
    pub revision: u64,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// Who made it, for a person's workflow change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Demo data and archival: recorded, never alerted on.
    #[serde(default, skip_serializing_if = "is_false")]
    pub quiet: bool,
    /// What routing and display need, without another read.
    pub finding: ChangeFinding,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The finding as a change carries it: the list item plus what routing needs.
/// Sinks that need the whole finding (raw document included) read it by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeFinding {
    /// The list item (id, title, severity, status after the change, account…).
    #[serde(flatten)]
    pub item: FindingListItem,
    /// The control, rule or detector that produced it.
    pub generator_id: String,
    /// The provider's record state.
    pub record_state: RecordState,
    /// Severity before an update (absent for inserts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_before: Option<Severity>,
    /// Workflow status before the change (absent for inserts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_before: Option<WorkflowStatus>,
    /// The note a person gave with a workflow change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who made the API call, for CloudTrail detections (alerts show it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<Caller>,
}

/// Who made a CloudTrail API call, from where and how: what an alert about a
/// detection must show at a glance. Every field is the event's own text
/// (attacker-controlled: a user agent is whatever the caller sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Caller {
    /// `userIdentity.arn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_arn: Option<String>,
    /// `sourceIPAddress` (an address, or a service name such as `ec2.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// `userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `userIdentity.accessKeyId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
}

impl Caller {
    /// The caller of a CloudTrail detection, from its raw document (an EventBridge
    /// envelope's `detail`, or the record itself); `None` for other sources and
    /// for records that name none of the four.
    pub fn of(f: &shared_types::Finding) -> Option<Caller> {
        if f.source != shared_types::FindingSource::Cloudtrail {
            return None;
        }
        let record = f.raw.get("detail").unwrap_or(&f.raw);
        let text = |ptr: &str| {
            record
                .pointer(ptr)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let c = Caller {
            user_arn: text("/userIdentity/arn"),
            source_ip: text("/sourceIPAddress"),
            user_agent: text("/userAgent"),
            access_key_id: text("/userIdentity/accessKeyId"),
        };
        (c != Caller::default()).then_some(c)
    }
}

impl Change {
    /// The idempotency key of `revision` of finding `id`.
    pub fn key_of(id: &str, revision: u64) -> String {
        format!("{id}:{revision}")
    }

    /// The finding's short id.
    pub fn finding_id(&self) -> &str {
        &self.finding.item.id
    }

    /// True when the finding is at least `min` severe after the change.
    pub fn at_least(&self, min: Severity) -> bool {
        self.finding.item.severity >= min
    }
}
