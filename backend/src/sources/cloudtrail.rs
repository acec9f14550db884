//! CloudTrail → findings, through the detection rules. Accepts EventBridge
//! `AWS API Call via CloudTrail` (and `AWS Console Sign In via CloudTrail`) events,
//! raw records, and log files (`{"Records":[...]}` or a bare array of records; the
//! ingest reader streams large files record by record into [`evaluate_record`]).

use super::{DocumentOutcome, Rejection};
use crate::detect::finding::{rule_finding_without_raw, FindingSettings};
use crate::detect::ruleset::RuleSet;
use serde_json::Value;

/// EventBridge `detail-type`s whose `detail` is a CloudTrail record.
pub const EVENT_TYPES: [&str; 4] = [
    "AWS API Call via CloudTrail",
    "AWS Console Sign In via CloudTrail",
    "AWS Console Action via CloudTrail",
    "AWS Service Event via CloudTrail",
];

/// Whether an object is a CloudTrail record: an API call (`eventName` and an
/// `eventSource` like `iam.amazonaws.com`) or an Insights event.
pub fn is_record(v: &Value) -> bool {
    let s = |k: &str| v.get(k).and_then(Value::as_str).is_some();
    // S3 event notifications also have eventSource/eventName, but `aws:s3`-style.
    let api_call = s("eventName")
        && v.get("eventSource")
            .and_then(Value::as_str)
            .is_some_and(|src| src.ends_with(".amazonaws.com"));
    // Insights events keep source and name inside `insightDetails`.
    let insight = v.get("eventCategory").and_then(Value::as_str) == Some("Insight")
        && v.get("insightDetails").is_some_and(Value::is_object);
    api_call || insight
}

/// Why a `Records` element is not a CloudTrail record (SNS/SQS/S3 notifications
/// share the `Records` wrapper).
pub fn not_a_record_reason(v: &Value, index: usize) -> String {
    let source = v
        .get("EventSource")
        .or_else(|| v.get("eventSource"))
        .and_then(Value::as_str);
    match source {
        Some("aws:sns") => format!(
            "Records[{index}]: an SNS notification (EventSource aws:sns), not a CloudTrail log file"
        ),
        Some(s) if s.starts_with("aws:") => format!(
            "Records[{index}]: a {s} event notification, not a CloudTrail log record"
        ),
        _ => format!(
            "Records[{index}]: not a CloudTrail record (needs eventName and an eventSource like iam.amazonaws.com)"
        ),
    }
}

/// Evaluates every rule on one record; each match becomes a finding (or a
/// rejection when the record's `eventTime` is unusable). `raw` is what is kept as
/// the finding's raw document.
pub fn evaluate_record(
    rules: &RuleSet,
    settings: &FindingSettings,
    record: &Value,
    raw: &Value,
    out: &mut DocumentOutcome,
) {
    let first = out.findings.len();
    evaluate_without_raw(rules, settings, record, out);
    for f in &mut out.findings[first..] {
        f.raw = raw.clone();
    }
}

/// [`evaluate_record`] for a record the caller owns and keeps as the raw document
/// (a streamed log record): it is moved into the last finding and copied only into
/// the others, so the usual record (no match or one) is never copied.
pub fn evaluate_owned_record(
    rules: &RuleSet,
    settings: &FindingSettings,
    record: Value,
    out: &mut DocumentOutcome,
) {
    let first = out.findings.len();
    evaluate_without_raw(rules, settings, &record, out);
    if let Some((last, others)) = out.findings[first..].split_last_mut() {
        for f in others {
            f.raw = record.clone();
        }
        last.raw = record;
    }
}

/// The findings of every rule matching `record`, their `raw` left for the caller.
fn evaluate_without_raw(
    rules: &RuleSet,
    settings: &FindingSettings,
    record: &Value,
    out: &mut DocumentOutcome,
) {
    for rule in rules.matching(record) {
        match rule_finding_without_raw(rule, record, settings) {
            Ok(f) => out.findings.push(f),
            Err(e) => out.rejected.push(Rejection {
                finding_id: record
                    .get("eventID")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                reason: format!("rule {}: {e}", rule.spec.id),
            }),
        }
    }
}

/// An EventBridge CloudTrail event: the rules see `detail`, the finding keeps the
/// whole envelope.
pub fn parse_event(rules: &RuleSet, settings: &FindingSettings, event: &Value) -> DocumentOutcome {
    let mut out = DocumentOutcome::default();
    match event.get("detail") {
        Some(d) if is_record(d) => evaluate_record(rules, settings, d, event, &mut out),
        _ => out.rejected.push(Rejection {
            finding_id: event.get("id").and_then(Value::as_str).map(str::to_string),
            reason: "CloudTrail event without a CloudTrail record in detail".into(),
        }),
    }
    out
}

/// A list of records (the `Records` of a log file, or a bare array). Elements that
/// are not CloudTrail records are rejected one by one, saying what they are.
pub fn parse_records(
    rules: &RuleSet,
    settings: &FindingSettings,
    records: &[Value],
) -> DocumentOutcome {
    let mut out = DocumentOutcome::default();
    if records.is_empty() {
        out.note = Some("CloudTrail log file with no records".into());
    }
    for (i, r) in records.iter().enumerate() {
        if is_record(r) {
            evaluate_record(rules, settings, r, r, &mut out);
        } else {
            out.rejected.push(Rejection {
                finding_id: None,
                reason: not_a_record_reason(r, i),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> RuleSet {
        RuleSet::builtin().expect("built-in rules")
    }

    #[test]
    fn a_matching_record_without_a_usable_event_time_is_rejected_not_timestamped_now() {
        let rec = json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "eventID": "e1", "eventTime": "Jan 01, 2019 0:00:00 PM"});
        let out = parse_records(&rules(), &FindingSettings::default(), &[rec]);
        assert!(out.findings.is_empty());
        assert_eq!(out.rejected[0].finding_id.as_deref(), Some("e1"));
        assert!(
            out.rejected[0].reason.contains("eventTime"),
            "{:?}",
            out.rejected
        );
    }

    #[test]
    fn sns_and_s3_notification_records_are_named_in_the_rejection() {
        let sns = json!({"EventSource": "aws:sns", "Sns": {"Message": "{}"}});
        let s3 = json!({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": "2024-01-01T00:00:00Z"});
        let out = parse_records(&rules(), &FindingSettings::default(), &[sns, s3]);
        assert!(out.rejected[0].reason.contains("SNS notification"));
        assert!(out.rejected[1].reason.contains("aws:s3"));
        assert!(out.findings.is_empty());
    }
}
