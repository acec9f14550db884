//! How a list request reads the severity/time index: its filter expression,
//! read budget, the severity partitions it merges and where each one starts.

use super::cursor::{self, Pos};
use super::query::{Filter, ReadBudget};
use super::DynamoStore;
use crate::store::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value;
use shared_types::{FindingFilter, Severity};
use std::collections::BTreeMap;

impl DynamoStore {
    pub(super) fn list_filter(filter: &FindingFilter) -> StoreResult<Filter> {
        let mut f = Filter::default();
        let mut parts = Vec::new();
        let av = |v: &str| -> StoreResult<AttributeValue> {
            to_attribute_value(v).map_err(|e| StoreError::Backend(Box::new(e)))
        };
        if !filter.statuses.is_empty() {
            f.names.insert("#st".into(), "workflow_status".into());
            let mut ph = Vec::new();
            for (i, s) in filter.statuses.iter().enumerate() {
                let p = format!(":st{i}");
                f.values.insert(p.clone(), av(s.as_str())?);
                ph.push(p);
            }
            parts.push(format!("#st IN ({})", ph.join(", ")));
        }
        let exact = [
            ("account_id", &filter.account),
            ("region", &filter.region),
            ("resource_type", &filter.resource_type),
            ("product_name", &filter.product),
            ("generator_id", &filter.generator),
            ("resource_id", &filter.resource),
        ];
        for (i, (attr, value)) in exact.into_iter().enumerate() {
            if let Some(v) = value {
                f.names.insert(format!("#f{i}"), attr.to_string());
                f.values.insert(format!(":f{i}"), av(v)?);
                parts.push(format!("#f{i} = :f{i}"));
            }
        }
        if let Some(q) = &filter.q {
            f.names.insert("#q".into(), "search".into());
            f.values.insert(":q".into(), av(&q.to_lowercase())?);
            parts.push("contains(#q, :q)".into());
        }
        f.expr = (!parts.is_empty()).then(|| parts.join(" AND "));
        Ok(f)
    }

    pub(super) fn budget(&self, limit: u32) -> ReadBudget {
        match self.settings.read_budget {
            Some(items) => ReadBudget { items },
            None => ReadBudget::for_limit(limit),
        }
    }

    pub(super) fn partitions(filter: &FindingFilter) -> Vec<Severity> {
        if filter.severities.is_empty() {
            Severity::ALL_DESC.to_vec()
        } else {
            filter.severities.clone()
        }
    }

    pub(super) fn start_positions(
        cursor: Option<&str>,
        query_id: &str,
        parts: &[Severity],
    ) -> StoreResult<BTreeMap<Severity, Pos>> {
        match cursor {
            Some(c) => cursor::decode(c, query_id, parts),
            None => Ok(parts.iter().map(|s| (*s, Pos::Start)).collect()),
        }
    }
}
