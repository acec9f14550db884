//! The `POST /exports` body, checked field by field so that every refusal names
//! the field at fault (`format`, `filter.severity`, `raw`…), with the same rules
//! as `GET /findings/export`'s query: the list's filters parsed by the list's own
//! parser, and an option that does nothing for the chosen format refused.

use super::error::ApiError;
use super::filter_params::list_of_names;
use super::findings::FILTER_KEYS;
use crate::export::jobs::JobSpec;
use serde_json::Value;
use shared_types::{ExportFileFormat, FindingFilter};

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_body",
        message: message.into(),
        field: Some(field.into()),
    }
}

/// The job a body asks for.
pub(super) fn parse(body: &Value) -> Result<JobSpec, ApiError> {
    let body = body.as_object().ok_or(ApiError::BadRequest {
        code: "invalid_body",
        message: "the body must be a JSON object".into(),
        field: None,
    })?;
    let mut spec = JobSpec {
        filter: FindingFilter::default(),
        format: ExportFileFormat::default(),
        detail: false,
        raw: false,
    };
    for (key, value) in body {
        match key.as_str() {
            "format" => {
                spec.format = value
                    .as_str()
                    .and_then(|s| ExportFileFormat::ALL.into_iter().find(|f| f.as_str() == s))
                    .ok_or_else(|| invalid("format", "must be one of csv, jsonl, ocsf"))?
            }
            "filter" => spec.filter = parse_filter(value)?,
            "detail" => spec.detail = flag(key, value)?,
            "raw" => spec.raw = flag(key, value)?,
            other => return Err(invalid(other, format!("unknown field {other:?}"))),
        }
    }
    if spec.detail && spec.format != ExportFileFormat::Jsonl {
        return Err(invalid("detail", "applies to format jsonl only"));
    }
    if spec.raw && spec.format != ExportFileFormat::Ocsf {
        return Err(invalid("raw", "applies to format ocsf only"));
    }
    Ok(spec)
}

fn flag(key: &str, value: &Value) -> Result<bool, ApiError> {
    value
        .as_bool()
        .ok_or_else(|| invalid(key, "must be true or false"))
}

/// The filter object: the list's query parameters as keys, the lists as arrays
/// of names, the others as strings (`null`: absent) — exactly what the document
/// describes, so nothing it calls invalid is accepted.
fn parse_filter(value: &Value) -> Result<FindingFilter, ApiError> {
    let Value::Object(object) = value else {
        return Err(invalid("filter", "must be an object of the list's filters"));
    };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for (key, value) in object {
        let field = format!("filter.{key}");
        let Some(key) = FILTER_KEYS.iter().copied().find(|k| k == key) else {
            return Err(invalid(field, format!("unknown filter {key:?}")));
        };
        let list = matches!(key, "severity" | "status");
        let text = match value {
            Value::Array(items) if list => {
                let names = items
                    .iter()
                    .map(|i| i.as_str().ok_or_else(|| invalid(&field, "must list names")))
                    .collect::<Result<Vec<_>, _>>()?;
                list_of_names(names).map_err(|m| invalid(&field, m))?
            }
            _ if list => return Err(invalid(field, "must be an array of names")),
            Value::Null => continue,
            // The query's "empty means no bound" has `null` for it in a body, and
            // padding is no part of a time: the document allows neither.
            Value::String(s)
                if matches!(key, "since" | "until") && (s.is_empty() || s.trim() != s) =>
            {
                return Err(invalid(
                    field,
                    "must be an RFC 3339 time or a date (YYYY-MM-DD), or null",
                ))
            }
            Value::String(s) => s.clone(),
            _ => return Err(invalid(field, "must be a string")),
        };
        pairs.push((key, text));
    }
    FindingFilter::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .map_err(|e| invalid(format!("filter.{}", e.field), e.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared_types::{ExportFilter, ExportRequest, Severity, WorkflowStatus};

    fn field_of(body: Value) -> Option<String> {
        match parse(&body).unwrap_err() {
            ApiError::BadRequest { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_dashboards_body_reads_back_as_its_filter() {
        let filter = FindingFilter {
            severities: vec![Severity::Critical, Severity::High],
            statuses: vec![WorkflowStatus::New],
            account: Some("123456789012".into()),
            generator: Some("aws-foundational-security-best-practices/v/1.0.0/S3.8".into()),
            resource: Some("arn:aws:s3:::example-bucket".into()),
            q: Some("public, bucket".into()),
            until: Some("2026-01-02T00:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        let body = ExportRequest {
            format: ExportFileFormat::Ocsf,
            filter: ExportFilter::from(&filter),
            detail: false,
            raw: true,
        };
        let spec = parse(&serde_json::to_value(&body).unwrap()).unwrap();
        assert_eq!(spec.filter, filter);
        assert_eq!((spec.format, spec.raw), (ExportFileFormat::Ocsf, true));
        // Defaults: every finding as CSV; a null text filter is no filter.
        assert_eq!(parse(&json!({})).unwrap().format, ExportFileFormat::Csv);
        let spec = parse(&json!({"filter": {"severity": ["high", "LOW"], "q": null}})).unwrap();
        assert_eq!(spec.filter.severities, vec![Severity::High, Severity::Low]);
        assert_eq!(spec.filter.q, None);
    }

    #[test]
    fn bad_bodies_name_their_field() {
        for (body, field) in [
            (json!({"format": "xml"}), "format"),
            (json!({"format": 1}), "format"),
            (json!({"format": "csv", "detail": true}), "detail"),
            (json!({"format": "jsonl", "raw": true}), "raw"),
            (json!({"format": "jsonl", "detail": "yes"}), "detail"),
            (json!({"limit": 10}), "limit"),
            (json!({"filter": []}), "filter"),
            (json!({"filter": null}), "filter"),
            (json!({"filter": {"severity": "HIGH"}}), "filter.severity"),
            (json!({"filter": {"status": null}}), "filter.status"),
            (json!({"filter": {"severty": ["HIGH"]}}), "filter.severty"),
            (
                json!({"filter": {"severity": ["SEVERE"]}}),
                "filter.severity",
            ),
            (json!({"filter": {"severity": [1]}}), "filter.severity"),
            (json!({"filter": {"status": ["", ""]}}), "filter.status"),
            (json!({"filter": {"status": [" NEW"]}}), "filter.status"),
            (
                json!({"filter": {"severity": ["HIGH,LOW"]}}),
                "filter.severity",
            ),
            (json!({"filter": {"account": ["1"]}}), "filter.account"),
            (json!({"filter": {"since": "yesterday"}}), "filter.since"),
            (json!({"filter": {"until": ""}}), "filter.until"),
            (json!({"filter": {"until": " 2026-01-01"}}), "filter.until"),
            (
                json!({"filter": {"since": "2026-02-01", "until": "2026-01-01"}}),
                "filter.since",
            ),
        ] {
            assert_eq!(field_of(body.clone()).as_deref(), Some(field), "{body}");
        }
        assert!(matches!(
            parse(&json!([1])),
            Err(ApiError::BadRequest { field: None, .. })
        ));
    }
}
