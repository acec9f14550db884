//! Event sources. Each file turns one kind of document into `Finding`s; this module
//! detects which kind a document is and dispatches to it.

/// AWS Security Finding Format serde types (our own: the SDK's don't derive serde).
pub mod asff;
/// CloudTrail events, records and log files, through the detection rules.
pub mod cloudtrail;
/// CloudWatch alarm state changes (EventBridge and Lambda alarm actions).
pub mod cloudwatch_alarm;
/// Why a document was rejected (always for good: the fault is in the document).
pub mod error;
/// GuardDuty finding events and bare findings.
pub mod guardduty;
/// OCSF Detection and Compliance Findings: the new Security Hub's, Prowler's, our
/// own export read back.
pub mod ocsf;
/// Security Hub findings: bare, arrays, `{"Findings":[...]}` and EventBridge envelopes.
pub mod security_hub;

use crate::detect::finding::FindingSettings;
use crate::detect::on_demand::OnDemandRules;
use crate::detect::settings::DetectionSettings;
use crate::detect::suppress::Suppressions;
use chrono::Utc;
use cloudwatch_alarm::AlarmSeverityMap;
use serde_json::Value;
use shared_types::Finding;

pub use error::SourceError;

/// One finding (or document) that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The finding's own id when it could be read (ASFF `Id`, event id…).
    pub finding_id: Option<String>,
    /// Specific reason, e.g. `UpdatedAt: invalid timestamp "Jan 01, 2019 0:00:00 PM"`.
    pub reason: String,
}

/// Everything one input document yielded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentOutcome {
    /// Findings normalized from the document.
    pub findings: Vec<Finding>,
    /// Parts of the document that were rejected, each with its reason.
    pub rejected: Vec<Rejection>,
    /// Set when the document is valid but holds no findings by design
    /// (e.g. a Security Hub `Insight Results` event), saying so.
    pub note: Option<String>,
}

impl DocumentOutcome {
    /// The outcome of a document that is one finding, or one rejection.
    pub fn of(result: Result<Finding, Rejection>) -> DocumentOutcome {
        let mut out = DocumentOutcome::default();
        match result {
            Ok(f) => out.findings.push(f),
            Err(r) => out.rejected.push(r),
        }
        out
    }

    /// Each element of `items` (the list named `container` in reasons) normalized by
    /// `one` when it is an object, or rejected as "expected `what`"; an empty list
    /// is noted. One bad element rejects only itself.
    pub(crate) fn of_each(
        items: &[serde_json::Value],
        container: &str,
        what: &str,
        one: impl Fn(
            &serde_json::Map<String, serde_json::Value>,
            Option<usize>,
        ) -> Result<Finding, Rejection>,
    ) -> DocumentOutcome {
        let mut out = DocumentOutcome::default();
        if items.is_empty() {
            out.note = Some(format!("{container} is empty: no findings"));
        }
        for (i, item) in items.iter().enumerate() {
            let result = match item {
                serde_json::Value::Object(map) => one(map, Some(i)),
                other => Err(Rejection {
                    finding_id: None,
                    reason: format!(
                        "{container}[{i}]: expected {what}, got {}",
                        error::json_kind(other)
                    ),
                }),
            };
            match result {
                Ok(f) => out.findings.push(f),
                Err(r) => out.rejected.push(r),
            }
        }
        out
    }

    /// A document rejected as a whole, before any finding in it could be read.
    pub fn rejection(reason: String) -> DocumentOutcome {
        DocumentOutcome::of(Err(Rejection {
            finding_id: None,
            reason,
        }))
    }
}

/// Turns documents of any supported kind into findings. Holds what normalization
/// needs beyond the document itself (detection rules, suppressions, settings), built
/// once at start-up and shared by `cspm ingest`, the server and the Lambdas.
#[derive(Debug, Clone)]
pub struct Normalizer {
    /// Detection rules for CloudTrail (compiled on first use when they are the
    /// built-in pack).
    pub rules: OnDemandRules,
    /// Suppressions applied to every finding.
    pub suppressions: Suppressions,
    /// Severity mapping for alarms.
    pub alarm_severity: AlarmSeverityMap,
    /// Account override and other finding settings.
    pub settings: FindingSettings,
}

impl Default for Normalizer {
    /// The built-in rule pack and alarm mapping, no suppressions, no override.
    fn default() -> Self {
        Normalizer {
            // Both are compiled and tested by unit tests; failing here is a build defect.
            rules: OnDemandRules::builtin_with(DetectionSettings::builtin()),
            suppressions: Suppressions::default(),
            alarm_severity: AlarmSeverityMap::builtin().expect("built-in alarm mapping (tested)"),
            settings: FindingSettings::default(),
        }
    }
}

/// What kind of document something is, decided from its shape alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// EventBridge CloudTrail event.
    CloudTrailEvent,
    /// One raw CloudTrail record.
    CloudTrailRecord,
    /// `{"Records":[...]}` (CloudTrail log file, or a near miss such as SNS).
    RecordsFile,
    /// A bare array of CloudTrail records.
    CloudTrailArray,
    /// CloudWatch alarm event or alarm-action payload.
    Alarm,
    /// GuardDuty finding event or bare finding.
    GuardDuty,
    /// OCSF: a `Findings Imported V2` event, a finding (`class_uid`), an array or
    /// `{"Findings":[...]}` of them.
    Ocsf,
    /// Anything else: Security Hub decides (and rejects what it does not know).
    SecurityHub,
}

/// Detects a document's kind.
pub fn document_kind(doc: &Value) -> DocumentKind {
    if let Some(dt) = doc.get("detail-type").and_then(Value::as_str) {
        return match dt {
            _ if cloudtrail::EVENT_TYPES.contains(&dt) => DocumentKind::CloudTrailEvent,
            cloudwatch_alarm::STATE_CHANGE | cloudwatch_alarm::CONFIG_CHANGE => DocumentKind::Alarm,
            guardduty::EVENT_TYPE => DocumentKind::GuardDuty,
            ocsf::EVENT_TYPE => DocumentKind::Ocsf,
            _ => DocumentKind::SecurityHub,
        };
    }
    match doc {
        Value::Object(m) if m.get("Records").is_some_and(Value::is_array) => {
            DocumentKind::RecordsFile
        }
        Value::Array(items) if items.first().is_some_and(cloudtrail::is_record) => {
            DocumentKind::CloudTrailArray
        }
        _ if ocsf::holds_events(doc) => DocumentKind::Ocsf,
        _ if cloudtrail::is_record(doc) => DocumentKind::CloudTrailRecord,
        _ if cloudwatch_alarm::is_alarm_action(doc) => DocumentKind::Alarm,
        _ if guardduty::is_finding(doc) || doc.get("detail").is_some_and(guardduty::is_finding) => {
            DocumentKind::GuardDuty
        }
        _ => DocumentKind::SecurityHub,
    }
}

impl Normalizer {
    /// Normalizes one parsed JSON document, detecting its kind.
    pub fn parse_document(&self, doc: &Value) -> DocumentOutcome {
        let over = self.settings.account_override.as_deref();
        let mut out = match document_kind(doc) {
            DocumentKind::CloudTrailEvent => {
                cloudtrail::parse_event(self.rules.get(), &self.settings, doc)
            }
            DocumentKind::CloudTrailRecord => {
                let mut out = DocumentOutcome::default();
                cloudtrail::evaluate_record(self.rules.get(), &self.settings, doc, doc, &mut out);
                out
            }
            DocumentKind::RecordsFile => {
                let records = doc["Records"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                cloudtrail::parse_records(self.rules.get(), &self.settings, records)
            }
            DocumentKind::CloudTrailArray => {
                let records = doc.as_array().map(Vec::as_slice).unwrap_or(&[]);
                cloudtrail::parse_records(self.rules.get(), &self.settings, records)
            }
            DocumentKind::Alarm => cloudwatch_alarm::parse(doc, &self.alarm_severity, over),
            DocumentKind::GuardDuty => guardduty::parse(doc, over),
            DocumentKind::Ocsf => ocsf::parse_document(doc),
            DocumentKind::SecurityHub => security_hub::parse_document(doc),
        };
        self.finish(&mut out.findings);
        out
    }

    /// One element of a streamed `Records` array (see the ingest reader): a
    /// CloudTrail record is evaluated, anything else rejected saying what it is.
    pub fn parse_log_record(&self, record: &Value, index: usize) -> DocumentOutcome {
        let mut out = DocumentOutcome::default();
        if cloudtrail::is_record(record) {
            cloudtrail::evaluate_record(self.rules.get(), &self.settings, record, record, &mut out);
        } else {
            out.rejected.push(Rejection {
                finding_id: None,
                reason: cloudtrail::not_a_record_reason(record, index),
            });
        }
        self.finish(&mut out.findings);
        out
    }

    /// [`Normalizer::parse_log_record`] for a record the caller hands over: it
    /// becomes the findings' raw document without being copied for the first one.
    pub fn parse_log_value(&self, record: Value, index: usize) -> DocumentOutcome {
        if !cloudtrail::is_record(&record) {
            return self.parse_log_record(&record, index);
        }
        let mut out = DocumentOutcome::default();
        cloudtrail::evaluate_owned_record(self.rules.get(), &self.settings, record, &mut out);
        self.finish(&mut out.findings);
        out
    }

    /// Applies settings and suppressions shared by every source.
    fn finish(&self, findings: &mut [Finding]) {
        let now = Utc::now();
        for f in findings {
            if let Some(acct) = &self.settings.account_override {
                f.account_id.clone_from(acct);
            }
            self.suppressions.apply(f, now);
        }
    }
}
