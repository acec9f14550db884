//! Export jobs: `POST /exports` starts one, `GET /exports/{id}` says how far it
//! got and, once done, where to download the file. The dashboard's Export menu
//! uses them so the download carries the user's credentials and, on AWS, does not
//! have to stream through API Gateway and Lambda.

use crate::{FindingFilter, Severity, WorkflowStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The file formats of an export (`GET /findings/export`'s `format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ExportFileFormat {
    /// RFC 4180 CSV with a header row.
    #[default]
    Csv,
    /// JSON Lines: one list item (or whole finding) per line.
    Jsonl,
    /// OCSF 1.5 Detection Findings as JSON Lines.
    Ocsf,
}

impl ExportFileFormat {
    /// Every format, in menu order.
    pub const ALL: [ExportFileFormat; 3] = [
        ExportFileFormat::Csv,
        ExportFileFormat::Jsonl,
        ExportFileFormat::Ocsf,
    ];

    /// The name used in `format=` and in bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFileFormat::Csv => "csv",
            ExportFileFormat::Jsonl => "jsonl",
            ExportFileFormat::Ocsf => "ocsf",
        }
    }

    /// What a person calls it (the dashboard's menu).
    pub fn label(self) -> &'static str {
        match self {
            ExportFileFormat::Csv => "CSV",
            ExportFileFormat::Jsonl => "JSON Lines",
            ExportFileFormat::Ocsf => "OCSF",
        }
    }
}

/// The list's filters in a request body: the query parameters of `GET /findings`
/// under the same names, the lists as arrays. Absent or empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportFilter {
    /// Any of these severities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    /// Any of these workflow statuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<WorkflowStatus>,
    /// AWS account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub account: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub region: Option<String>,
    /// Primary resource type, e.g. AwsS3Bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub resource_type: Option<String>,
    /// Product name, e.g. GuardDuty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub product: Option<String>,
    /// Generator id: the control, rule or detector (exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub generator: Option<String>,
    /// Primary resource id, e.g. an ARN (exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub resource: Option<String>,
    /// Text in title, description, resource id or ASFF id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub q: Option<String>,
    /// `updated_at` at or after this RFC 3339 time (or date `YYYY-MM-DD`,
    /// meaning its midnight UTC); before `until` when both are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = instant))]
    pub since: Option<String>,
    /// `updated_at` before this RFC 3339 time (or date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = instant))]
    pub until: Option<String>,
}

/// What `since`/`until` accept in a body: an RFC 3339 time, a date, or `null`.
#[cfg(feature = "openapi")]
fn instant() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let string = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    AnyOfBuilder::new()
        .item(string(KnownFormat::DateTime))
        .item(string(KnownFormat::Date))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some("An RFC 3339 time or a date (YYYY-MM-DD)"))
        .into()
}

impl From<&FindingFilter> for ExportFilter {
    /// The body form of a parsed filter (what the dashboard sends for its view).
    fn from(f: &FindingFilter) -> Self {
        let time = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        };
        ExportFilter {
            severity: f.severities.clone(),
            status: f.statuses.clone(),
            account: f.account.clone(),
            region: f.region.clone(),
            resource_type: f.resource_type.clone(),
            product: f.product.clone(),
            generator: f.generator.clone(),
            resource: f.resource.clone(),
            q: f.q.clone(),
            since: time(f.since),
            until: time(f.until),
        }
    }
}

/// `POST /exports` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The file format (default `csv`).
    #[serde(default)]
    pub format: ExportFileFormat,
    /// Which findings: the list's filters (default: all).
    #[serde(default)]
    pub filter: ExportFilter,
    /// `jsonl` only: whole findings instead of list items.
    #[serde(default)]
    pub detail: bool,
    /// `ocsf` only: the original document under `unmapped.original`.
    #[serde(default)]
    pub raw: bool,
}

/// Where an export job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ExportState {
    /// Recorded and handed to the worker (the `exporter` Lambda on AWS), which
    /// has not started writing it yet.
    Queued,
    /// Being written; `count` and `bytes` grow.
    Running,
    /// The file is complete; `url` downloads it.
    Done,
    /// It stopped; `error` says why. Start a new export.
    Failed,
}

/// `POST /exports` and `GET /exports/{id}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportJob {
    /// The job's id (unguessable; only its creator and admins may use it).
    pub id: String,
    /// Where it is.
    pub state: ExportState,
    /// The file format.
    pub format: ExportFileFormat,
    /// Findings written so far (all of them once done).
    pub count: u64,
    /// Bytes written so far (the file's size once done).
    pub bytes: u64,
    /// When the job was started.
    pub created_at: DateTime<Utc>,
    /// When it finished (done or failed).
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed (safe to show).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Once done: where to download the file. A path (`/exports/{id}/download`)
    /// is relative to the API and needs the same credentials; an `https://` URL
    /// is a presigned link valid for 15 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_becomes_the_body_the_api_documents() {
        let f = FindingFilter {
            severities: vec![Severity::Critical, Severity::High],
            statuses: vec![WorkflowStatus::New],
            q: Some("public bucket".into()),
            since: Some("2024-05-01T00:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        let body = ExportRequest {
            format: ExportFileFormat::Csv,
            filter: ExportFilter::from(&f),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({
                "format": "csv",
                "filter": {"severity": ["CRITICAL", "HIGH"], "status": ["NEW"],
                           "q": "public bucket", "since": "2024-05-01T00:00:00Z"},
                "detail": false, "raw": false
            })
        );
    }

    #[test]
    fn a_job_reads_back_with_its_optional_fields() {
        let job: ExportJob = serde_json::from_value(serde_json::json!({
            "id": "ab", "state": "done", "format": "ocsf", "count": 3, "bytes": 10,
            "created_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z",
            "url": "/exports/ab/download"
        }))
        .unwrap();
        assert_eq!(job.state, ExportState::Done);
        assert_eq!(job.format, ExportFileFormat::Ocsf);
        assert_eq!(job.error, None);
        assert_eq!(job.url.as_deref(), Some("/exports/ab/download"));
    }
}
