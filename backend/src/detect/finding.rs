//! A rule match becomes a [`Finding`]: deterministic id (rule id + event id, or
//! rule id + dedup key + window start), our own ProductArn, timestamps from the
//! event's `eventTime` (never the ingestion time).

use super::rule::Rule;
use crate::ids::short_id;
use crate::time::{parse_timestamp, TimeError};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use shared_types::{Finding, FindingSource, RecordState, Resource, WorkflowStatus};

/// Product name shown for our own detections.
pub const PRODUCT_NAME: &str = "cspm-monitor";

/// Settings that shape findings beyond the rule and the event.
#[derive(Debug, Clone, Default)]
pub struct FindingSettings {
    /// Replaces every finding's account id (multi-account display and testing).
    pub account_override: Option<String>,
}

/// Our ProductArn in the ASFF form Security Hub uses for custom products.
pub fn product_arn(region: &str, account: &str) -> String {
    format!("arn:aws:securityhub:{region}:{account}:product/{account}/default")
}

fn text<'a>(record: &'a Value, key: &str) -> &'a str {
    record.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The account a CloudTrail record is about: the recipient account, else the caller's.
pub fn record_account(record: &Value) -> String {
    let recipient = text(record, "recipientAccountId");
    if !recipient.is_empty() {
        return recipient.to_string();
    }
    record
        .pointer("/userIdentity/accountId")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string()
}

/// A stable stand-in for records without `eventID` (hand-written or trimmed events):
/// the hash of the record's text, so re-ingesting the same record gives the same id.
fn content_hash(record: &Value) -> String {
    let digest = Sha256::digest(record.to_string().as_bytes());
    hex::encode(&digest[..12])
}

/// Why a rule match could not become a finding. Templates always render (a
/// placeholder with no value renders empty), so only the event's time can be
/// lacking: a finding is timed by its event, never by when it happened to be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleFindingError {
    /// The record has no `eventTime`.
    #[error("eventTime: missing")]
    MissingEventTime,
    /// The record's `eventTime` is not a usable time.
    #[error("eventTime: {0}")]
    EventTime(#[source] TimeError),
}

impl RuleFindingError {
    /// Always false: the fault is in the record, which reads the same next time.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// Builds the finding for `rule` firing on `record` (`raw` is the document as
/// received: the EventBridge envelope or the record). Fails only when the record
/// has no usable `eventTime`.
pub fn rule_finding(
    rule: &Rule,
    record: &Value,
    raw: &Value,
    settings: &FindingSettings,
) -> Result<Finding, RuleFindingError> {
    let mut f = rule_finding_without_raw(rule, record, settings)?;
    f.raw = raw.clone();
    Ok(f)
}

/// [`rule_finding`] with `raw` left `null` for the caller to fill: a caller that
/// owns the record moves it in rather than copying it (copying a whole record per
/// match costs about as much as parsing it).
pub fn rule_finding_without_raw(
    rule: &Rule,
    record: &Value,
    settings: &FindingSettings,
) -> Result<Finding, RuleFindingError> {
    let when = record
        .get("eventTime")
        .ok_or(RuleFindingError::MissingEventTime)
        .and_then(|v| parse_timestamp(v).map_err(RuleFindingError::EventTime))?;
    let account = settings
        .account_override
        .clone()
        .unwrap_or_else(|| record_account(record));
    let region = match text(record, "awsRegion") {
        "" => "unknown".to_string(),
        r => r.to_string(),
    };
    let id = &rule.spec.id;
    let (asff_id, created_at) = match &rule.dedup {
        Some((key, window)) => {
            let start = Utc
                .timestamp_opt(window_start(when, *window), 0)
                .single()
                .unwrap_or(when);
            let key = key.render(record);
            (
                format!("{id}/{key}/{}", start.format("%Y%m%dT%H%M%SZ")),
                start,
            )
        }
        None => {
            let event_id = match text(record, "eventID") {
                "" => content_hash(record),
                e => e.to_string(),
            };
            (format!("{id}/{event_id}"), when)
        }
    };
    let product_arn = product_arn(&region, &account);
    let resources = resources(rule, record, &account, &region);
    let primary = resources.first().cloned().unwrap_or_default();
    Ok(Finding {
        id: short_id(&product_arn, &asff_id),
        asff_id,
        product_arn,
        product_name: PRODUCT_NAME.into(),
        company_name: Some(PRODUCT_NAME.into()),
        generator_id: id.clone(),
        source: FindingSource::Cloudtrail,
        account_id: account,
        region,
        title: rule.title.render(record),
        description: rule.description.render(record),
        severity: rule.spec.severity,
        workflow_status: WorkflowStatus::New,
        record_state: RecordState::Active,
        types: rule
            .spec
            .mitre
            .iter()
            .map(|t| format!("TTPs/MITRE ATT&CK/{t}"))
            .collect(),
        resource_type: primary.resource_type,
        resource_id: primary.id,
        resources,
        compliance_status: None,
        control_id: None,
        remediation_text: Some(rule.spec.remediation.text.clone()),
        remediation_url: rule.spec.remediation.url.clone(),
        source_url: None,
        mitre: rule.spec.mitre.clone(),
        // Dedup findings span a window: created at its start, updated by each repeat
        // (the store keeps the newest), so repeats update one finding.
        created_at,
        updated_at: when,
        first_observed_at: Some(when),
        last_observed_at: Some(when),
        raw: Value::Null,
        revision: 0,
        workflow_by_person: false,
    })
}

fn resources(rule: &Rule, record: &Value, account: &str, region: &str) -> Vec<Resource> {
    let res = |t: &str, id: String| Resource {
        resource_type: t.to_string(),
        id,
        partition: Some("aws".into()),
        region: Some(region.to_string()),
    };
    let from_rule: Vec<Resource> = rule
        .resources
        .iter()
        .map(|(t, tpl)| (t, tpl.render(record)))
        .filter(|(_, id)| !id.trim().is_empty())
        .map(|(t, id)| res(t, id))
        .collect();
    if !from_rule.is_empty() {
        return from_rule;
    }
    // CloudTrail's own `resources` list (ARN + type) when the service fills it.
    let from_event: Vec<Resource> = record
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let arn = r.get("ARN").and_then(Value::as_str)?;
            let t = r.get("type").and_then(Value::as_str).unwrap_or("Other");
            Some(res(&t.replace("::", ""), arn.to_string()))
        })
        .collect();
    if !from_event.is_empty() {
        return from_event;
    }
    vec![res("AwsAccount", format!("AWS::::Account:{account}"))]
}

/// Start (epoch seconds) of the dedup window holding `when`.
pub fn window_start(when: DateTime<Utc>, window_secs: i64) -> i64 {
    when.timestamp().div_euclid(window_secs) * window_secs
}
