use crate::{RecordState, Severity, WorkflowStatus};
use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};
use std::cell::Cell;

thread_local! {
    /// True while [`without_raw`] runs on this thread.
    static SKIP_RAW: Cell<bool> = const { Cell::new(false) };
}

/// Runs `read` with every [`Finding`] deserialized on this thread leaving `raw`
/// `null`: the document is still read through (a malformed one still fails),
/// but not built. For readers that never look at it: building the maps of a
/// million raw documents is about a third of a CSV export's work.
pub fn without_raw<T>(read: impl FnOnce() -> T) -> T {
    /// Puts the flag back as it was, even when `read` panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SKIP_RAW.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SKIP_RAW.with(|s| s.replace(true)));
    read()
}

/// `raw` as read: the whole document, or `null` inside [`without_raw`].
fn raw_document<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
    if SKIP_RAW.with(Cell::get) {
        IgnoredAny::deserialize(d)?;
        Ok(serde_json::Value::Null)
    } else {
        serde_json::Value::deserialize(d)
    }
}

/// Which kind of signal produced a finding. Every source normalizes to the same
/// [`Finding`]; this only says where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FindingSource {
    /// An AWS Security Hub finding (ASFF), imported or synced.
    #[default]
    SecurityHub,
    /// A detection rule matched a CloudTrail event.
    Cloudtrail,
    /// A CloudWatch alarm changed state.
    CloudwatchAlarm,
    /// A GuardDuty finding event.
    Guardduty,
    /// An OCSF finding: the new Security Hub's (`Findings Imported V2`), Prowler's
    /// JSON-OCSF output, or an OCSF export read back.
    Ocsf,
    /// Synthetic data from `cspm demo`.
    Demo,
}

/// One resource a finding is about (ASFF `Resources[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resource {
    /// ASFF resource type, e.g. `AwsS3Bucket`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Resource identifier, usually an ARN.
    pub id: String,
    /// AWS partition (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`…), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Region of the resource, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The one normalized finding model. Every source (Security Hub, CloudTrail rules,
/// alarms, GuardDuty, OCSF) produces this; it is stored, listed, alerted, archived and
/// pushed the same way whatever its origin.
///
/// Timestamps are the finding's own (never the time it was ingested).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    /// Short, URL-safe, stable id derived from `product_arn` + `asff_id`.
    pub id: String,
    /// The original ASFF `Id` (searchable with `q`).
    pub asff_id: String,
    /// ASFF `ProductArn`.
    pub product_arn: String,
    /// Product name, e.g. `Security Hub`, `GuardDuty`, `Inspector`.
    pub product_name: String,
    /// Company that makes the product, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// ASFF `GeneratorId`: the control, rule or detector that produced it.
    pub generator_id: String,
    /// Where the finding came from.
    #[serde(default)]
    pub source: FindingSource,
    /// AWS account id the finding is about (as given: real data is not always 12 digits).
    pub account_id: String,
    /// Region the finding was reported in.
    pub region: String,
    /// Short title.
    pub title: String,
    /// Longer description.
    pub description: String,
    /// Severity label (derived from `Normalized` for old findings).
    pub severity: Severity,
    /// Triage status.
    pub workflow_status: WorkflowStatus,
    /// Provider's record state.
    #[serde(default)]
    pub record_state: RecordState,
    /// ASFF `Types` (namespace/category/classifier paths).
    #[serde(default)]
    pub types: Vec<String>,
    /// Type of the primary (first) resource.
    pub resource_type: String,
    /// Id of the primary (first) resource.
    pub resource_id: String,
    /// Every resource named by the finding.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// Compliance status (`PASSED`, `FAILED`, `WARNING`, `NOT_AVAILABLE`), when a control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_status: Option<String>,
    /// Security control id (e.g. `S3.8`), when a control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_id: Option<String>,
    /// How to fix it, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation_text: Option<String>,
    /// Link to the fix documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation_url: Option<String>,
    /// Link to the finding in the provider's console, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// MITRE ATT&CK technique/tactic tags, for detections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mitre: Vec<String>,
    /// When the provider created the finding.
    pub created_at: DateTime<Utc>,
    /// When the provider last updated the finding (drives newer-wins and archival).
    pub updated_at: DateTime<Utc>,
    /// When the issue was first observed, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_observed_at: Option<DateTime<Utc>>,
    /// When the issue was last observed, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_observed_at: Option<DateTime<Utc>>,
    /// The original document as received (ASFF finding, CloudTrail event…).
    #[serde(default, deserialize_with = "raw_document")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub raw: serde_json::Value,
    /// The stored record's revision: 1 when first stored, one more on every change
    /// to it (a newer provider version, a workflow change, a delete). Kept apart from
    /// `updated_at`, which is only ever the provider's own time, so an analyst's
    /// change never makes a later-arriving provider version look older. Set by the
    /// store; 0 on a finding that was never stored.
    #[serde(default)]
    pub revision: u64,
    /// True when a person set `workflow_status` (through the API); false when the
    /// provider or an automatic rule did. A provider's plain `NEW` never undoes a
    /// person's triage.
    #[serde(default, skip_serializing_if = "is_false")]
    pub workflow_by_person: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The fields of a finding shown in lists: everything but the raw document and
/// long texts, so a page of 1,000 stays small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingListItem {
    /// Short URL-safe id (use it in `/findings/{id}`).
    pub id: String,
    /// Original ASFF `Id`.
    pub asff_id: String,
    /// Severity label.
    pub severity: Severity,
    /// Short title.
    pub title: String,
    /// Triage status.
    pub workflow_status: WorkflowStatus,
    /// AWS account id.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Primary resource type.
    pub resource_type: String,
    /// Primary resource id.
    pub resource_id: String,
    /// Product name.
    pub product_name: String,
    /// Where it came from.
    pub source: FindingSource,
    /// Compliance status, when a control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_status: Option<String>,
    /// Control id, when a control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_id: Option<String>,
    /// Provider creation time.
    pub created_at: DateTime<Utc>,
    /// Provider update time.
    pub updated_at: DateTime<Utc>,
}

impl From<&Finding> for FindingListItem {
    fn from(f: &Finding) -> Self {
        FindingListItem {
            id: f.id.clone(),
            asff_id: f.asff_id.clone(),
            severity: f.severity,
            title: f.title.clone(),
            workflow_status: f.workflow_status,
            account_id: f.account_id.clone(),
            region: f.region.clone(),
            resource_type: f.resource_type.clone(),
            resource_id: f.resource_id.clone(),
            product_name: f.product_name.clone(),
            source: f.source,
            compliance_status: f.compliance_status.clone(),
            control_id: f.control_id.clone(),
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}
