//! A finding item as the attribute map a write sends, built field by field.
//!
//! `serde_dynamo::to_item` lays the item out from its `Serialize` derive, which the
//! reads (`from_item`) keep using. On the write path it was 9 % of a first insert's
//! client CPU (`perf`: a generic serializer into its own map, then a second map of
//! SDK values). [`FindingItem::attributes`] builds the SDK map directly; the test
//! below holds it equal to `to_item`, and the exhaustive destructuring makes a new
//! field a compile error here until it is written.

use super::FindingItem;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value;
use std::collections::HashMap;

impl FindingItem {
    /// The item's attributes, exactly as `serde_dynamo::to_item(self)` gives them.
    /// Fails only if a value serialized through `serde_dynamo` (the times, the enums,
    /// the audit trail, the last change) does not serialize, which none of them does.
    pub fn attributes(&self) -> Result<HashMap<String, AttributeValue>, serde_dynamo::Error> {
        let FindingItem {
            id,
            severity,
            updated_at,
            updated_exact,
            expires_at,
            rev,
            workflow_status,
            status_by_analyst,
            record_state,
            created_at,
            asff_id,
            title,
            account_id,
            region,
            resource_type,
            resource_id,
            generator_id,
            product_name,
            source,
            compliance_status,
            control_id,
            search,
            docz,
            doc,
            audit,
            last_change,
            changed_at,
            controls,
            gen_counted,
            res_counted,
            counter_shard,
            amend_mark,
        } = self;
        let text = |s: &str| AttributeValue::S(s.to_owned());
        let mut m = HashMap::with_capacity(30);
        let mut put = |name: &str, value: AttributeValue| {
            m.insert(name.to_owned(), value);
        };
        put("id", text(id));
        put("severity", text(severity.as_str()));
        put("updated_at", text(updated_at));
        // chrono's own text form (what its `Serialize` writes), nanoseconds kept.
        put("updated_exact", to_attribute_value(updated_exact)?);
        put("expires_at", AttributeValue::N(expires_at.to_string()));
        put("rev", AttributeValue::N(rev.to_string()));
        put("workflow_status", to_attribute_value(workflow_status)?);
        put(
            "status_by_analyst",
            AttributeValue::Bool(*status_by_analyst),
        );
        put("record_state", to_attribute_value(record_state)?);
        put("created_at", to_attribute_value(created_at)?);
        put("asff_id", text(asff_id));
        put("title", text(title));
        put("account_id", text(account_id));
        put("region", text(region));
        put("resource_type", text(resource_type));
        put("resource_id", text(resource_id));
        put("generator_id", text(generator_id));
        put("product_name", text(product_name));
        put("source", to_attribute_value(source)?);
        if let Some(c) = compliance_status {
            put("compliance_status", text(c));
        }
        if let Some(c) = control_id {
            put("control_id", text(c));
        }
        put("search", text(search));
        if let Some(z) = docz {
            put("docz", AttributeValue::B(Blob::new(z.as_slice())));
        }
        if let Some(d) = doc {
            put("doc", text(d));
        }
        put("audit", to_attribute_value(audit)?);
        if let Some(c) = last_change {
            put("last_change", to_attribute_value(c)?);
        }
        if let Some(c) = changed_at {
            put("changed_at", text(c));
        }
        if let Some(c) = controls {
            put("controls", to_attribute_value(c)?);
        }
        put("gen_counted", AttributeValue::Bool(*gen_counted));
        put("res_counted", AttributeValue::Bool(*res_counted));
        if let Some(shard) = counter_shard {
            put("counter_shard", AttributeValue::N(shard.to_string()));
        }
        if let Some(mark) = amend_mark {
            put("amend_mark", AttributeValue::N(mark.to_string()));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LastChange, Recorded};
    use super::*;
    use chrono::TimeZone;
    use shared_types::{AuditEntry, ChangeKind, WorkflowStatus};

    fn same_as_serde(item: &FindingItem) {
        let expected = serde_dynamo::aws_sdk_dynamodb_1::to_item(item).unwrap();
        assert_eq!(item.attributes().unwrap(), expected);
    }

    #[test]
    fn the_attributes_equal_what_serde_dynamo_writes_for_every_shape_of_item() {
        let anchor = crate::demo::default_anchor();
        for (n, f) in crate::demo::generate(40, anchor, 9).enumerate() {
            let change = LastChange {
                kind: ChangeKind::Inserted,
                at: f.updated_at,
                actor: None,
                note: None,
                quiet: n % 2 == 0,
            };
            let item = FindingItem::new(
                &f,
                &Recorded {
                    workflow_status: f.workflow_status,
                    workflow_by_person: false,
                    revision: 1,
                },
                1_900_000_000,
                Vec::new(),
                change,
                (n % 3 != 0).then_some(n as u64),
            )
            .unwrap();
            same_as_serde(&item);
        }

        // Every optional attribute present, an audit trail, a person's change,
        // nanosecond times, and an item in the old layout (JSON text, no `docz`).
        let f = crate::demo::generate(1, anchor, 4).next().unwrap();
        let at = chrono::Utc
            .timestamp_opt(1_714_564_800, 123_456_789)
            .unwrap();
        let entry = AuditEntry {
            at,
            actor: "alice@example.com".into(),
            from_status: WorkflowStatus::New,
            to_status: WorkflowStatus::Suppressed,
            note: Some("accepted <risk> \"ok\"".into()),
        };
        let change = LastChange {
            kind: ChangeKind::WorkflowChanged,
            at,
            actor: Some("alice@example.com".into()),
            note: Some("accepted".into()),
            quiet: false,
        };
        let mut item = FindingItem::new(
            &f,
            &Recorded {
                workflow_status: WorkflowStatus::Suppressed,
                workflow_by_person: true,
                revision: u64::MAX,
            },
            -1,
            vec![entry.clone(), entry],
            change,
            Some(u64::MAX),
        )
        .unwrap();
        item.compliance_status = Some("FAILED".into());
        item.control_id = Some("S3.8".into());
        item.updated_exact = at;
        same_as_serde(&item);
        item.controls = Some(vec![crate::store::dynamo::controls::StoredResult {
            slug: "aws-fsbp".into(),
            control_id: "S3.8".into(),
            verdict: 0,
            standard_name: "AWS Foundational Security Best Practices".into(),
        }]);
        same_as_serde(&item);
        item.docz = None;
        item.doc = Some("{\"id\":\"x\"}".into());
        item.compliance_status = None;
        item.control_id = None;
        item.last_change = None;
        item.changed_at = None;
        item.controls = None;
        same_as_serde(&item);
    }
}
