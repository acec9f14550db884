//! The OCSF reader on hostile input: OCSF-shaped JSON of any structure, and real
//! published findings with any one node replaced by anything. Never a panic; every
//! rejection says why; every finding it makes has a short id, a title and a
//! resource. And any finding exported as OCSF reads back with what identifies it.

use crate::ocsf::{
    sample, sample_lines, OCSF_EXAMPLES_PCI, SECURITY_HUB_V2_CONTROLS, SECURITY_HUB_V2_EVENT,
    SECURITY_HUB_V2_EXPOSURE,
};
use cspm::ids::is_short_id;
use cspm::sources::{ocsf, DocumentOutcome, Normalizer};
use proptest::prelude::*;
use serde_json::Value;
use shared_types::Finding;
use std::sync::OnceLock;

fn normalizer() -> &'static Normalizer {
    static N: OnceLock<Normalizer> = OnceLock::new();
    N.get_or_init(Normalizer::default)
}

/// Real findings of three producers and two classes.
fn real_findings() -> &'static [Value] {
    static F: OnceLock<Vec<Value>> = OnceLock::new();
    F.get_or_init(|| {
        let mut all = vec![
            sample(SECURITY_HUB_V2_EVENT)["detail"]["findings"][0].clone(),
            sample(SECURITY_HUB_V2_EXPOSURE),
            sample(OCSF_EXAMPLES_PCI),
            sample("prowler__example_output_gcp.ocsf.json")[0].clone(),
        ];
        all.extend(sample_lines(SECURITY_HUB_V2_CONTROLS).into_iter().take(1));
        all
    })
}

/// What every outcome must satisfy.
fn well_formed(out: &DocumentOutcome) -> Result<(), TestCaseError> {
    for r in &out.rejected {
        prop_assert!(!r.reason.trim().is_empty());
    }
    for f in &out.findings {
        well_formed_finding(f)?;
    }
    Ok(())
}

fn well_formed_finding(f: &Finding) -> Result<(), TestCaseError> {
    prop_assert!(is_short_id(&f.id), "{}", f.id);
    prop_assert!(!f.title.trim().is_empty());
    prop_assert!(!f.asff_id.trim().is_empty());
    prop_assert!(!f.account_id.trim().is_empty());
    prop_assert!(!f.region.trim().is_empty());
    prop_assert!(!f.resources.is_empty());
    prop_assert_eq!(&f.resource_id, &f.resources[0].id);
    Ok(())
}

/// JSON a few levels deep, built from the attributes the reader looks at and
/// values of every type, including the ones those attributes expect.
fn ocsf_shaped() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("class_uid".to_string()),
        Just("finding_info".to_string()),
        Just("uid".to_string()),
        Just("uid_alt".to_string()),
        Just("title".to_string()),
        Just("metadata".to_string()),
        Just("product".to_string()),
        Just("name".to_string()),
        Just("cloud".to_string()),
        Just("account".to_string()),
        Just("region".to_string()),
        Just("severity_id".to_string()),
        Just("severity".to_string()),
        Just("status_id".to_string()),
        Just("status".to_string()),
        Just("activity_id".to_string()),
        Just("resources".to_string()),
        Just("resource".to_string()),
        Just("type".to_string()),
        Just("time".to_string()),
        Just("time_dt".to_string()),
        Just("modified_time".to_string()),
        Just("created_time_dt".to_string()),
        Just("unmapped".to_string()),
        Just("asff_id".to_string()),
        Just("compliance".to_string()),
        Just("status_code".to_string()),
        Just("detail-type".to_string()),
        Just("detail".to_string()),
        Just("findings".to_string()),
        Just("Findings".to_string()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,24}".prop_map(Value::from),
        "[A-Za-z0-9_-]{22}".prop_map(Value::from),
        (0u64..8).prop_map(Value::from),
        prop_oneof![Just(2003u64), Just(2004), Just(2002), Just(6003)].prop_map(Value::from),
        Just(Value::from(ocsf::EVENT_TYPE)),
        Just(Value::from("2024-01-01T00:00:00Z")),
        Just(Value::from(1_753_153_354_272u64)),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every node's JSON pointer, the root's (`""`) first.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(super::config(256))]

    #[test]
    fn ocsf_shaped_json_is_read_or_rejected_with_a_reason_and_never_panics(v in ocsf_shaped()) {
        well_formed(&normalizer().parse_document(&v))?;
        well_formed(&ocsf::parse_document(&v))?;
        // The same as a finding of a class that is read, and inside an event.
        if let Value::Object(mut m) = v.clone() {
            m.insert("class_uid".into(), Value::from(2004));
            let f = Value::Object(m);
            well_formed(&normalizer().parse_document(&f))?;
            let event = serde_json::json!({"detail-type": ocsf::EVENT_TYPE, "detail": {"findings": [f]}});
            well_formed(&normalizer().parse_document(&event))?;
        }
    }

    #[test]
    fn a_real_finding_with_any_node_replaced_is_read_or_rejected_with_a_reason(
        pick in any::<prop::sample::Index>(),
        node in any::<prop::sample::Index>(),
        replacement in ocsf_shaped(),
    ) {
        let findings = real_findings();
        let mut f = findings[pick.index(findings.len())].clone();
        let mut all = Vec::new();
        pointers(&f, String::new(), &mut all);
        let at = &all[node.index(all.len())];
        match f.pointer_mut(at) {
            Some(slot) => *slot = replacement,
            None => prop_assert!(false, "{at} was listed"),
        }
        match ocsf::normalize_finding(&f) {
            Ok(found) => well_formed_finding(&found)?,
            Err(r) => prop_assert!(!r.reason.trim().is_empty()),
        }
        well_formed(&normalizer().parse_document(&f))?;
    }

    #[test]
    fn any_finding_exported_as_ocsf_reads_back_with_what_identifies_it(
        seed in any::<u64>(),
        n in 1usize..40,
    ) {
        let anchor = "2026-06-01T12:00:00Z".parse().unwrap();
        for f in cspm::demo::generate(n, anchor, seed) {
            let mut line = Vec::new();
            cspm::export::ocsf::write_line(&f, false, &mut line).unwrap();
            let doc: Value = serde_json::from_slice(&line).unwrap();
            let out = normalizer().parse_document(&doc);
            prop_assert!(out.rejected.is_empty(), "{:?}", out.rejected);
            let back = &out.findings[0];
            prop_assert_eq!(&back.id, &f.id);
            prop_assert_eq!(&back.asff_id, &f.asff_id);
            prop_assert_eq!(back.severity, f.severity);
            prop_assert_eq!(back.workflow_status, f.workflow_status);
            prop_assert_eq!(&back.account_id, &f.account_id);
            prop_assert_eq!(&back.region, &f.region);
            prop_assert_eq!(&back.resource_type, &f.resource_type);
            prop_assert_eq!(&back.resource_id, &f.resource_id);
            prop_assert_eq!(&back.compliance_status, &f.compliance_status);
            prop_assert_eq!(back.updated_at.timestamp_millis(), f.updated_at.timestamp_millis());
        }
    }
}
