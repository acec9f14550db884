//! Reading and normalizing documents never panics, and what it produces is stable.

use crate::corpus::corpus;
use cspm::documents::{read_documents, Item};
use cspm::ids::short_id;
use cspm::sources::Normalizer;
use proptest::prelude::*;
use serde_json::Value;
use shared_types::Finding;
use std::sync::OnceLock;

fn normalizer() -> &'static Normalizer {
    static N: OnceLock<Normalizer> = OnceLock::new();
    N.get_or_init(Normalizer::default)
}

/// Reads `bytes` both ways (JSON and JSON Lines) and normalizes every item.
fn read_and_normalize(bytes: &[u8]) {
    for lines in [false, true] {
        read_documents(bytes, lines, &mut |item| match item {
            Item::Document { value, .. } => {
                normalizer().parse_document(&value);
            }
            Item::Record { value, record, .. } => {
                normalizer().parse_log_record(&value, record);
            }
            Item::Unreadable { reason, .. } => assert!(!reason.is_empty()),
        })
        .expect("reading from memory has no I/O error");
    }
}

/// Arbitrary JSON values, a few levels deep, with the keys sources look at.
pub(super) fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("detail-type".to_string()),
        Just("detail".to_string()),
        Just("Records".to_string()),
        Just("Findings".to_string()),
        Just("eventName".to_string()),
        Just("eventSource".to_string()),
        Just("eventTime".to_string()),
        Just("SchemaVersion".to_string()),
        Just("Id".to_string()),
        Just("ProductArn".to_string()),
        Just("UpdatedAt".to_string()),
        Just("Severity".to_string()),
        Just("requestParameters".to_string()),
        "[a-zA-Z]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,24}".prop_map(Value::from),
        Just(Value::from("iam.amazonaws.com")),
        Just(Value::from("2024-01-01T00:00:00Z")),
        Just(Value::from("AWS API Call via CloudTrail")),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every finding the normalizer makes of the Security Hub corpus.
fn corpus_findings() -> &'static [Finding] {
    static F: OnceLock<Vec<Finding>> = OnceLock::new();
    F.get_or_init(|| {
        corpus("asff")
            .into_iter()
            .flat_map(|(_, doc)| normalizer().parse_document(&doc).findings)
            .collect()
    })
}

proptest! {
    #![proptest_config(super::config(256))]

    #[test]
    fn reading_and_normalizing_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        read_and_normalize(&bytes);
    }

    #[test]
    fn reading_and_normalizing_arbitrary_json_never_panics(v in json_value()) {
        read_and_normalize(v.to_string().as_bytes());
        let wrapped = serde_json::json!({"Records": [v.clone()], "detail-type": "AWS API Call via CloudTrail", "detail": v});
        read_and_normalize(wrapped.to_string().as_bytes());
    }

    #[test]
    fn normalize_serialize_normalize_is_stable_on_corpus_findings(
        pick in any::<prop::sample::Index>(),
        title in "[ -~]{1,64}",
    ) {
        let findings = corpus_findings();
        prop_assume!(!findings.is_empty());
        // A blank title is a missing required field: rejected, not a version.
        prop_assume!(!title.trim().is_empty());
        let f = &findings[pick.index(findings.len())];
        // The raw document with another title, as a provider's next version may carry.
        let mut raw = f.raw.clone();
        if raw.get("Title").is_some() {
            raw["Title"] = Value::from(title.clone());
        }
        let first = normalizer().parse_document(&raw).findings;
        prop_assert_eq!(first.len(), 1);
        let text = serde_json::to_string(&first[0]).unwrap();
        let back: Finding = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &first[0]);
        let again = normalizer().parse_document(&back.raw).findings;
        prop_assert_eq!(&again, &first);
        // The key depends only on ProductArn and Id, never on the title.
        prop_assert_eq!(&first[0].id, &f.id);
    }

    #[test]
    // Without NUL: the id hashes `product NUL id`, so parts that themselves hold NUL
    // can meet at another boundary (known; ARNs and ASFF ids carry no NUL).
    fn short_id_is_stable_url_safe_and_separates_its_parts(a in "[^\\x00]{0,40}", b in "[^\\x00]{0,40}") {
        let id = short_id(&a, &b);
        prop_assert_eq!(&id, &short_id(&a, &b));
        prop_assert!(cspm::ids::is_short_id(&id));
        // Moving the boundary between the parts changes the id.
        if !b.is_empty() {
            let first = b.chars().next().unwrap();
            let moved = short_id(&format!("{a}{first}"), &b[first.len_utf8()..]);
            prop_assert_ne!(id, moved);
        }
    }
}
