//! The rule pack on hostile events: real CloudTrail events with one node changed.

use super::documents::json_value;
use crate::corpus::corpus;
use cspm::sources::Normalizer;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

fn normalizer() -> &'static Normalizer {
    static N: OnceLock<Normalizer> = OnceLock::new();
    N.get_or_init(Normalizer::default)
}

/// Every CloudTrail record of the corpus: single events, EventBridge events' `detail`
/// and the `Records` of log files.
fn records() -> &'static [Value] {
    static R: OnceLock<Vec<Value>> = OnceLock::new();
    R.get_or_init(|| {
        let mut out = Vec::new();
        for folder in ["cloudtrail", "cloudtrail-records"] {
            for (_, doc) in corpus(folder) {
                if let Some(records) = doc.get("Records").and_then(Value::as_array) {
                    out.extend(records.iter().cloned());
                } else if let Some(detail) =
                    doc.get("detail").filter(|d| d.get("eventName").is_some())
                {
                    out.push(detail.clone());
                } else if doc.get("eventName").is_some() {
                    out.push(doc);
                }
            }
        }
        out
    })
}

/// Every JSON pointer inside `v` (the root included).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{escaped}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// `record` with the node at `pick` replaced by `with`, or removed when `with` is None.
fn mutate(record: &Value, pick: prop::sample::Index, with: Option<Value>) -> Value {
    let mut out = record.clone();
    let mut all = Vec::new();
    pointers(record, String::new(), &mut all);
    let at = &all[pick.index(all.len())];
    match (with, at.rsplit_once('/')) {
        (Some(v), _) => {
            if let Some(node) = out.pointer_mut(at) {
                *node = v;
            }
        }
        (None, Some((parent, key))) => match out.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.remove(&key.replace("~1", "/").replace("~0", "~"));
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = key.parse::<usize>() {
                    items.remove(i);
                }
            }
            _ => {}
        },
        (None, None) => {}
    }
    out
}

proptest! {
    #![proptest_config(super::config(256))]

    /// Conditions, paths (`@json` included), templates and finding construction never
    /// panic on a real event whose node has another type, another value or is gone,
    /// and give the same answer twice (a finding's id must not depend on the run).
    #[test]
    fn the_rule_pack_on_a_real_event_with_one_node_changed_never_panics_and_is_deterministic(
        pick_record in any::<prop::sample::Index>(),
        pick_node in any::<prop::sample::Index>(),
        with in prop::option::weighted(0.85, json_value()),
    ) {
        let all = records();
        prop_assume!(!all.is_empty());
        let record = mutate(&all[pick_record.index(all.len())], pick_node, with);
        let first = normalizer().parse_log_record(&record, 0);
        let again = normalizer().parse_log_record(&record, 0);
        prop_assert_eq!(&first.findings, &again.findings);
        prop_assert_eq!(first.rejected.len(), again.rejected.len());
        let event = json!({
            "version": "0", "id": "prop", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.iam", "account": "123456789012", "time": "2024-01-01T00:00:00Z",
            "region": "us-east-1", "resources": [], "detail": record,
        });
        normalizer().parse_document(&event);
    }
}

#[test]
fn the_corpus_has_cloudtrail_records_to_mutate() {
    // Without records the property above would pass by assuming nothing away.
    assert!(records().len() >= 50, "{} records", records().len());
}
