//! The CloudTrail record a detection finding was made from, for the actions
//! that need more than its resources say (which call made the change, the name
//! of an inline policy): the finding's raw document, bare or inside an
//! EventBridge envelope.

use serde_json::Value;
use shared_types::Finding;

/// The record behind `finding`, or `None` when its raw document is not one
/// (a Security Hub finding, say).
pub fn of(finding: &Finding) -> Option<&Value> {
    let raw = &finding.raw;
    let record = raw
        .get("detail")
        .filter(|d| d.get("eventName").is_some())
        .unwrap_or(raw);
    record.get("eventName").is_some().then_some(record)
}

/// The record's `eventName`.
pub fn event_name(finding: &Finding) -> Option<&str> {
    of(finding)?.get("eventName")?.as_str()
}
