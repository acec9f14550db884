//! Reading a `Condition` block: which entries really narrow a grant.
//!
//! An entry narrows a grant only if every request that passes it must carry a
//! key with one of the listed values. That rules out negated operators
//! (`StringNotEquals` lets every other value in), `...IfExists` (a request without
//! the key passes), `ForAllValues:` (a request without the key passes, as the set
//! of its values is empty) and wildcard-only values (`*`, `0.0.0.0/0`).
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>

use serde_json::{Map, Value};

/// One `operator: {key: values}` pair of a condition block.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The operator without set qualifier and `IfExists` (`StringLike`).
    pub base: String,
    /// `ForAllValues:` prefix.
    pub for_all: bool,
    /// `...IfExists` suffix.
    pub if_exists: bool,
    /// The condition key, lower case (keys are case-insensitive).
    pub key: String,
    /// The values (a single value becomes a one-element list).
    pub values: Vec<Value>,
}

impl Entry {
    /// Whether the operator admits requests by excluding values (`StringNotEquals`,
    /// `NotIpAddress`, `ArnNotLike`...).
    pub fn negated(&self) -> bool {
        self.base.contains("Not")
    }

    /// Whether the entry confines the grant to the listed values (see the module
    /// comment).
    pub fn confines(&self) -> bool {
        !self.negated()
            && !self.if_exists
            && !self.for_all
            && self.base != "Null"
            && !self.values.is_empty()
            && self.values.iter().all(concrete)
    }
}

/// Every entry of a condition block (malformed parts are skipped here; the
/// grammar check reports them).
pub fn entries(cond: Option<&Map<String, Value>>) -> Vec<Entry> {
    let Some(cond) = cond else {
        return vec![];
    };
    let mut out = Vec::new();
    for (operator, block) in cond {
        let Value::Object(keys) = block else {
            continue;
        };
        let (for_all, rest) = match operator.split_once(':') {
            Some((q, r)) => (q.eq_ignore_ascii_case("ForAllValues"), r),
            None => (false, operator.as_str()),
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b.to_string(), true),
            None => (rest.to_string(), false),
        };
        for (key, v) in keys {
            let values = match v {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            out.push(Entry {
                base: base.clone(),
                for_all,
                if_exists,
                key: key.trim().to_ascii_lowercase(),
                values,
            });
        }
    }
    out
}

/// Whether a condition value names something specific: not empty, not only
/// wildcards, not an all-addresses range, and for ARNs not wildcards in every
/// part that identifies the resource.
pub fn concrete(v: &Value) -> bool {
    let s = match v {
        Value::String(s) => s.trim(),
        Value::Number(_) | Value::Bool(_) => return true,
        _ => return false,
    };
    let only_wild = |t: &str| t.chars().all(|c| matches!(c, '*' | '?'));
    if s.is_empty() || only_wild(s) || s == "0.0.0.0/0" || s == "::/0" {
        return false;
    }
    if let Some(rest) = s.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let account = parts.get(3).copied().unwrap_or("");
        let resource = parts.get(4).copied().unwrap_or("");
        let names_something = |t: &str| t.chars().any(|c| c.is_ascii_alphanumeric());
        return names_something(account.trim_matches('*'))
            || names_something(resource.trim_matches(|c| matches!(c, '*' | '/' | ':')));
    }
    true
}

/// Whether some entry confines a key accepted by `key`.
pub fn confined_by(entries: &[Entry], key: impl Fn(&str) -> bool) -> bool {
    entries.iter().any(|e| e.confines() && key(&e.key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block(v: Value) -> Vec<Entry> {
        entries(v.as_object())
    }

    #[test]
    fn only_positive_present_specific_entries_confine_a_grant() {
        let e = block(json!({"StringEquals": {"aws:SourceVpce": "vpce-1"}}));
        assert!(e[0].confines());
        for loose in [
            json!({"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}),
            json!({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}),
            json!({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-1"}}),
            json!({"StringLike": {"aws:SourceAccount": "*"}}),
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:*:*:*:*"}}),
        ] {
            assert!(!block(loose.clone())[0].confines(), "{loose}");
        }
        let any =
            block(json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-1/r-2/*"]}}));
        assert!(any[0].confines() && any[0].key == "aws:principalorgpaths");
        let bucket = block(json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:*:*:examplebucket"}}));
        assert!(bucket[0].confines());
    }
}
