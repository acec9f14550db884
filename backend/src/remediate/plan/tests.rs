//! The plan's documented JSON shape, guard names and state hash, pinned by hand.

use super::*;
use serde_json::json;

#[test]
fn json_has_exactly_the_documented_keys() {
    let plan = Plan {
        finding_id: "abc".into(),
        action: Some("s3-block-public-access".into()),
        applicable: true,
        calls: vec![ApiCall {
            service: "s3".into(),
            operation: "PutPublicAccessBlock".into(),
            params: json!({"Bucket": "b"}),
        }],
        current_state: json!({"bucket": "b"}),
        after: "all four settings on".into(),
        guards: vec![GuardResult {
            name: GuardName::ProtectedTag,
            passed: true,
            reason: "untagged".into(),
        }],
    };
    let v = serde_json::to_value(&plan).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "action",
            "after",
            "applicable",
            "calls",
            "current_state",
            "finding_id",
            "guards"
        ]
    );
    assert_eq!(
        v["calls"][0],
        json!({"service": "s3", "operation": "PutPublicAccessBlock", "params": {"Bucket": "b"}})
    );
    assert_eq!(
        v["guards"][0],
        json!({"name": "protected-tag", "passed": true, "reason": "untagged"})
    );
}

#[test]
fn the_state_hash_is_pinned_and_independent_of_key_order() {
    // Pinned: `printf '%s' '{"a":1,"b":[true,null]}' | sha256sum`.
    let pinned = "1cc69c7fa23616ca2ec3ee70d24390a6225c8832db8a4c814c7e0e7f942f8668";
    let a: Value = serde_json::from_str(r#"{"b":[true,null],"a":1}"#).unwrap();
    assert_eq!(state_hash(&a), pinned);
    assert_eq!(state_hash(&json!({"a": 1, "b": [true, null]})), pinned);
    assert_ne!(state_hash(&json!({"a": 2, "b": [true, null]})), pinned);
    assert!(is_state_hash(pinned));
    assert!(!is_state_hash(&pinned.to_uppercase()) && !is_state_hash("abc"));
    let plan = Plan::applicable(
        "f",
        "s3-block-public-access",
        Vec::new(),
        &a,
        "x".into(),
        Vec::new(),
    );
    assert_eq!(plan.state_hash(), Some(pinned));
    assert_eq!(plan.current_state["a"], 1);
}

#[test]
fn guard_names_are_the_documented_ones() {
    let documented = [
        "not-enabled",
        "not-allowlisted",
        "protected-principal",
        "protected-tag",
        "out-of-scope",
        "rate-limited",
        "changed-since-plan",
        "suppressed-or-resolved",
    ];
    for (g, name) in GuardName::ALL.iter().zip(documented) {
        assert_eq!(g.as_str(), name);
        assert_eq!(serde_json::to_value(g).unwrap(), name);
    }
}
