//! CloudWatch alarms → findings. Accepts EventBridge `CloudWatch Alarm State Change`
//! events (`detail`) and the payload a Lambda alarm action receives (`alarmData`).
//!
//! One alarm period is one finding: its ASFF id is the alarm ARN plus the time the
//! alarm entered ALARM. An `OK` event carries that time as `previousState.timestamp`,
//! so it re-emits the same id with workflow RESOLVED and a newer `updated_at`, and
//! the store's newer-wins upsert resolves the open finding instead of adding one.

mod severity;

pub use severity::{AlarmSeverityError, AlarmSeverityMap};

use super::{DocumentOutcome, Rejection};
use crate::detect::finding::{product_arn, PRODUCT_NAME};
use crate::ids::short_id;
use crate::time::parse_timestamp;
use serde_json::Value;
use shared_types::{Finding, FindingSource, RecordState, Resource, WorkflowStatus};

/// The state-change `detail-type`.
pub const STATE_CHANGE: &str = "CloudWatch Alarm State Change";
/// A configuration change: valid, but not a state change, so no finding.
pub const CONFIG_CHANGE: &str = "CloudWatch Alarm Configuration Change";

/// Whether a document is a Lambda alarm-action payload (no `detail-type` needed).
pub fn is_alarm_action(doc: &Value) -> bool {
    doc.get("alarmData").is_some_and(Value::is_object)
        && (doc.get("alarmArn").is_some()
            || doc.get("source").and_then(Value::as_str) == Some("aws.cloudwatch"))
}

fn s<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|x| !x.is_empty())
}

fn note(text: String) -> DocumentOutcome {
    DocumentOutcome {
        note: Some(text),
        ..DocumentOutcome::default()
    }
}

fn reject(id: Option<&str>, reason: String) -> DocumentOutcome {
    DocumentOutcome {
        rejected: vec![Rejection {
            finding_id: id.map(str::to_string),
            reason,
        }],
        ..DocumentOutcome::default()
    }
}

/// Normalizes an alarm event or alarm-action payload.
pub fn parse(
    doc: &Value,
    map: &AlarmSeverityMap,
    account_override: Option<&str>,
) -> DocumentOutcome {
    if doc.get("detail-type").and_then(Value::as_str) == Some(CONFIG_CHANGE) {
        return note(format!(
            "{CONFIG_CHANGE}: the alarm's settings changed, not its state; no finding"
        ));
    }
    let Some(data) = doc
        .get("detail")
        .filter(|d| d.is_object())
        .or_else(|| doc.get("alarmData").filter(|d| d.is_object()))
    else {
        return reject(None, "alarm event without detail or alarmData".into());
    };
    let Some(name) = s(data, "/alarmName") else {
        return reject(None, "alarm event without alarmName".into());
    };
    let account = account_override
        .or_else(|| s(doc, "/account"))
        .or_else(|| s(doc, "/accountId"))
        .unwrap_or("unknown");
    let region = s(doc, "/region").unwrap_or("unknown");
    let arn = s(doc, "/alarmArn")
        .or_else(|| s(doc, "/resources/0"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}"));
    let state = s(data, "/state/value").unwrap_or("");
    let (period_start, workflow) = match state {
        "ALARM" => ("/state/timestamp", WorkflowStatus::New),
        "OK" if s(data, "/previousState/value") == Some("ALARM") => {
            ("/previousState/timestamp", WorkflowStatus::Resolved)
        }
        "OK" => {
            return note(format!(
                "alarm {name} is OK and was not in ALARM before: nothing to resolve"
            ))
        }
        "INSUFFICIENT_DATA" => {
            return note(format!("alarm {name} has insufficient data: no finding"))
        }
        other => {
            return reject(
                Some(&arn),
                format!("alarm {name}: unknown state value {other:?}"),
            )
        }
    };
    let time = |ptr: &str| {
        data.pointer(ptr)
            .ok_or_else(|| format!("{}: missing", ptr.trim_start_matches('/')))
            .and_then(|v| {
                parse_timestamp(v).map_err(|e| format!("{}: {e}", ptr.trim_start_matches('/')))
            })
    };
    let (started, changed) = match (time(period_start), time("/state/timestamp")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return reject(Some(&arn), format!("alarm {name}: {e}")),
    };
    let asff_id = format!("{arn}/{}", started.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
    let product_arn = product_arn(region, account);
    let metric = data.pointer("/configuration/metrics/0/metricStat/metric");
    let namespace = metric.and_then(|m| s(m, "/namespace")).unwrap_or("");
    let metric_name = metric.and_then(|m| s(m, "/name")).unwrap_or("");
    let description = s(data, "/configuration/description").unwrap_or("");
    let severity = map.severity_for(name, namespace, metric_name, description);
    let reason = s(data, "/state/reason").unwrap_or("");
    let verb = if workflow == WorkflowStatus::Resolved {
        "recovered (OK)"
    } else {
        "is in ALARM"
    };
    let finding = Finding {
        id: short_id(&product_arn, &asff_id),
        asff_id,
        product_arn,
        product_name: PRODUCT_NAME.into(),
        company_name: Some(PRODUCT_NAME.into()),
        generator_id: format!("cloudwatch-alarm/{name}"),
        source: FindingSource::CloudwatchAlarm,
        account_id: account.to_string(),
        region: region.to_string(),
        title: format!("CloudWatch alarm {name} {verb}"),
        description: [description, reason]
            .iter()
            .filter(|x| !x.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n"),
        severity,
        workflow_status: workflow,
        record_state: RecordState::Active,
        types: vec!["Unusual Behaviors/CloudWatch Alarm".into()],
        resource_type: "AwsCloudWatchAlarm".into(),
        resource_id: arn.clone(),
        resources: vec![Resource {
            resource_type: "AwsCloudWatchAlarm".into(),
            id: arn,
            partition: Some("aws".into()),
            region: Some(region.to_string()),
        }],
        compliance_status: None,
        control_id: None,
        remediation_text: None,
        remediation_url: None,
        source_url: None,
        mitre: vec![],
        created_at: started,
        updated_at: changed,
        first_observed_at: Some(started),
        last_observed_at: Some(changed),
        raw: doc.clone(),
        revision: 0,
        workflow_by_person: false,
    };
    DocumentOutcome {
        findings: vec![finding],
        ..DocumentOutcome::default()
    }
}
