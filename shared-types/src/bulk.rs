//! `POST /findings/workflow`: one workflow change for many findings at once,
//! named by id or by the list's filter.

use crate::{FindingFilter, WorkflowStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most ids one request may name.
pub const MAX_BULK_IDS: usize = 1000;
/// Most findings one request may change through a filter: beyond it the answer
/// would be too slow for one request, so the caller narrows the filter.
pub const MAX_BULK_MATCHES: u64 = 100_000;

/// One filter value: a string exactly as in the `GET /findings` query string
/// (`"HIGH,CRITICAL"`), or, for `severity` and `status`, a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterValue {
    /// One value (lists comma-separated).
    One(String),
    /// Several values of a list filter.
    Many(Vec<String>),
}

/// `POST /findings/workflow` body: `ids`, or `filter` with `expected_total`
/// (optionally in steps of `limit`, each going on from the last one's `cursor`).
/// (The API document describes it by hand, as the server reads it:
/// `backend/src/http/bulk_doc.rs`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkWorkflowRequest {
    /// Up to 1,000 finding ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    /// The list's filter, keyed by the `GET /findings` query parameter names
    /// (`severity`, `status`, `account`, `region`, `resource_type`, `product`,
    /// `q`, `since`, `until`) with the same meaning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<BTreeMap<String, FilterValue>>,
    /// How many findings the person saw matching `filter`; the request is
    /// refused (409) when the filter now matches a different number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_total: Option<u64>,
    /// With `filter`: change at most this many findings (whole pages of the
    /// list) in this request; the answer's `next_cursor` goes on from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// With `filter`: go on after the findings an earlier step changed (its
    /// answer's `next_cursor`); `expected_total` is checked by the first step only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// New status.
    pub workflow_status: WorkflowStatus,
    /// Why (kept in each finding's audit trail); up to 2,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl BulkWorkflowRequest {
    /// A request naming findings by id.
    pub fn for_ids(ids: Vec<String>, status: WorkflowStatus, note: Option<String>) -> Self {
        BulkWorkflowRequest {
            ids: Some(ids),
            filter: None,
            expected_total: None,
            limit: None,
            cursor: None,
            workflow_status: status,
            note,
        }
    }

    /// This filter request in steps of at most `limit` findings.
    pub fn in_steps(self, limit: u64) -> Self {
        BulkWorkflowRequest {
            limit: Some(limit),
            ..self
        }
    }

    /// The request of the step after the one whose answer gave `cursor`: the
    /// same change, going on from there (the count was checked by the first).
    pub fn next_step(self, cursor: String) -> Self {
        BulkWorkflowRequest {
            cursor: Some(cursor),
            expected_total: None,
            ..self
        }
    }

    /// A request for every finding `filter` matches, `expected_total` of them
    /// when the person looked.
    pub fn for_filter(
        filter: &FindingFilter,
        expected_total: u64,
        status: WorkflowStatus,
        note: Option<String>,
    ) -> Self {
        let fields = filter
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), FilterValue::One(v)))
            .collect();
        BulkWorkflowRequest {
            ids: None,
            filter: Some(fields),
            expected_total: Some(expected_total),
            limit: None,
            cursor: None,
            workflow_status: status,
            note,
        }
    }
}

/// A finding a bulk change did not change, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkFailure {
    /// The finding id as given (or as the filter found it).
    pub id: String,
    /// Why it was not changed; sending the same request again retries it.
    pub reason: String,
}

/// `POST /findings/workflow` answer. `changed + unchanged + failed.len()` is the
/// number of distinct findings the request named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkWorkflowResult {
    /// Findings moved to the new status (each with its audit entry and change record).
    pub changed: u64,
    /// Findings a person had already given that status: left as they were,
    /// nothing recorded (one the provider set is taken over and counted changed).
    pub unchanged: u64,
    /// Findings not changed: unknown ids, store failures, and those not tried
    /// after the store failed.
    pub failed: Vec<BulkFailure>,
    /// A filter request in steps (`limit`): where the next step goes on, absent
    /// when the filter's findings are all done. When `failed` is not empty,
    /// send this step again (it completes the rest) before going on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// A filter request with `expected_total` of which some failed: the
    /// `expected_total` that sends it again to complete the rest — how many
    /// findings it left matching the filter (the ones it changed leave a
    /// filter that names other statuses, `{"status":"NEW"}` → RESOLVED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_expected_total: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    #[test]
    fn a_filter_request_carries_the_query_parameter_names() {
        let filter = FindingFilter {
            severities: vec![Severity::High, Severity::Critical],
            account: Some("123456789012".into()),
            ..Default::default()
        };
        let req = BulkWorkflowRequest::for_filter(&filter, 7, WorkflowStatus::Resolved, None);
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "filter": {"severity": "HIGH,CRITICAL", "account": "123456789012"},
                "expected_total": 7,
                "workflow_status": "RESOLVED"
            })
        );
    }

    #[test]
    fn list_values_read_as_one_string_or_many() {
        let req: BulkWorkflowRequest = serde_json::from_str(
            r#"{"filter":{"severity":["HIGH","LOW"],"q":"s3"},"expected_total":2,"workflow_status":"NOTIFIED"}"#,
        )
        .unwrap();
        let filter = req.filter.unwrap();
        assert_eq!(
            filter["severity"],
            FilterValue::Many(vec!["HIGH".into(), "LOW".into()])
        );
        assert_eq!(filter["q"], FilterValue::One("s3".into()));
    }
}
