//! Whether a policy follows the IAM JSON policy grammar. A malformed policy is
//! reported as its own kind (`malformed`), not as a risk: IAM rejects most of
//! these documents, and the rest do not mean what their author thinks.
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>

use super::statement::Statement;
use serde_json::Value;

/// Condition operators IAM knows (without `IfExists` and set qualifiers).
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// Global keys whose type fixes the operator family that can test them.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>
const TYPED_KEYS: &[(&str, &str)] = &[
    ("aws:currenttime", "Date"),
    ("aws:tokenissuetime", "Date"),
    ("aws:epochtime", "DateOrNumeric"),
    ("aws:multifactorauthage", "Numeric"),
    ("aws:sourceip", "Ip"),
    ("aws:securetransport", "Bool"),
    ("aws:multifactorauthpresent", "Bool"),
    ("aws:viaawsservice", "Bool"),
    ("aws:principalisawsservice", "Bool"),
];

/// Every grammar problem of a policy, one line each (empty when well formed).
pub fn problems(doc: &Value, statements: &[Statement]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(v) = doc.get("Version") {
        if !matches!(v.as_str(), Some("2012-10-17" | "2008-10-17")) {
            out.push(format!("Version {v} is not 2012-10-17 or 2008-10-17"));
        }
    }
    let mut sids = Vec::new();
    for st in statements {
        let at = |m: String| format!("statement {}: {m}", st.index + 1);
        if let Some(sid) = &st.sid {
            match sid.as_str() {
                // IAM: "ASCII uppercase letters (A-Z), lowercase letters (a-z), and numbers (0-9)".
                Some(s) if s.chars().all(|c| c.is_ascii_alphanumeric()) => {
                    if !s.is_empty() {
                        if sids.contains(&s) {
                            out.push(at(format!("Sid {s:?} is used twice (Sids must be unique)")));
                        }
                        sids.push(s);
                    }
                }
                _ => out.push(at(format!("Sid {sid} is not letters and digits only"))),
            }
        }
        match st.effect.as_deref() {
            Some("Allow" | "Deny") => {}
            Some(e) => out.push(at(format!("Effect {e:?} is not Allow or Deny"))),
            None => out.push(at("no Effect".into())),
        }
        let raw = &st.raw;
        let has = |k: &str| raw.get(k).is_some();
        match (has("Action"), has("NotAction")) {
            (false, false) => out.push(at("neither Action nor NotAction".into())),
            (true, true) => out.push(at("both Action and NotAction".into())),
            _ => {}
        }
        if has("Resource") && has("NotResource") {
            out.push(at("both Resource and NotResource".into()));
        }
        if has("Principal") && has("NotPrincipal") {
            out.push(at("both Principal and NotPrincipal".into()));
        }
        for key in ["Action", "NotAction"] {
            for a in raw_list(raw.get(key)) {
                match a.as_str() {
                    Some(s) if action_is_well_formed(s) => {}
                    _ => out.push(at(format!("{key} entry {a} is not service:action"))),
                }
            }
        }
        for key in ["Resource", "NotResource"] {
            for r in raw_list(raw.get(key)) {
                match r.as_str() {
                    Some(s) if resource_is_well_formed(s) => {}
                    _ => out.push(at(format!("{key} entry {r} is not * or an ARN"))),
                }
            }
        }
        match raw.get("Condition") {
            None => {}
            Some(Value::Object(ops)) => {
                for (op, block) in ops {
                    out.extend(condition_problems(op, block).into_iter().map(&at));
                }
            }
            Some(other) => out.push(at(format!("Condition {other} is not an object"))),
        }
    }
    out
}

fn raw_list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => vec![],
    }
}

/// `*`, or `service:action` where the action may hold wildcards.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>
fn action_is_well_formed(s: &str) -> bool {
    if s == "*" {
        return true;
    }
    let Some((service, action)) = s.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !action.is_empty()
        && action
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '-' | '_'))
}

/// `*`, or an ARN with its six parts (`arn:partition:service:region:account:resource`).
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>
fn resource_is_well_formed(s: &str) -> bool {
    s == "*" || (s.starts_with("arn:") && (s.splitn(6, ':').count() == 6 || s.ends_with('*')))
}

fn condition_problems(op: &str, block: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let (qualifier, rest) = match op.split_once(':') {
        Some((q, r)) => (Some(q), r),
        None => (None, op),
    };
    if qualifier.is_some_and(|q| q != "ForAllValues" && q != "ForAnyValue") {
        out.push(format!(
            "condition operator {op:?} has an unknown set qualifier"
        ));
    }
    let base = rest.strip_suffix("IfExists").unwrap_or(rest);
    if !OPERATORS.contains(&base) || (base == "Null" && rest != "Null") {
        out.push(format!("unknown condition operator {op:?}"));
        return out;
    }
    let Value::Object(keys) = block else {
        out.push(format!("condition {op:?} is not an object of keys"));
        return out;
    };
    for (key, values) in keys {
        let lower = key.trim().to_ascii_lowercase();
        // Keys are `prefix:name` (global `aws:` or a service prefix).
        if !lower
            .split_once(':')
            .is_some_and(|(p, n)| !p.is_empty() && !n.is_empty())
        {
            out.push(format!("condition key {key:?} has no service prefix"));
            continue;
        }
        let list: Vec<&Value> = match values {
            Value::Array(items) => items.iter().collect(),
            v => vec![v],
        };
        let family = family(base);
        if let Some((_, kind)) = TYPED_KEYS.iter().find(|(k, _)| *k == lower) {
            let fits = match *kind {
                "DateOrNumeric" => matches!(family, "Date" | "Numeric"),
                k => family == k,
            };
            if !fits && family != "Null" {
                out.push(format!("{op} cannot test {key} (a {kind} key)"));
                continue;
            }
        }
        for v in list {
            if !value_fits(family, v) {
                out.push(format!(
                    "{op} value {v} for {key} is not a valid {family} value"
                ));
            }
        }
    }
    out
}

/// The type family of an operator: String, Numeric, Date, Bool, Binary, Ip, Arn, Null.
fn family(base: &str) -> &'static str {
    for f in ["String", "Numeric", "Date", "Bool", "Binary", "Arn", "Null"] {
        if base.starts_with(f) {
            return f;
        }
    }
    "Ip"
}

fn value_fits(family: &str, v: &Value) -> bool {
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    match family {
        "Numeric" => text.parse::<f64>().is_ok(),
        "Date" => text.parse::<f64>().is_ok() || is_iso_date(&text),
        "Bool" | "Null" => text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false"),
        "Ip" => text.parse::<ipnet::IpNet>().is_ok() || text.parse::<std::net::IpAddr>().is_ok(),
        _ => true,
    }
}

/// `YYYY-MM-DD`, optionally followed by `T` and a time (ISO 8601 as IAM accepts it).
fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && (b.len() == 10 || b.get(10) == Some(&b'T'))
}

#[cfg(test)]
mod tests {
    use super::super::statement::statements;
    use super::*;
    use serde_json::json;

    fn check(doc: Value) -> Vec<String> {
        let st = statements(&doc).expect("statements");
        problems(&doc, &st)
    }

    #[test]
    fn well_formed_policies_have_no_problems() {
        assert!(check(json!({"Version": "2012-10-17", "Statement": [{"Sid": "A1", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b", "Condition": {"StringEqualsIfExists": {"s3:prefix": ["home/"]}, "DateGreaterThan": {"aws:CurrentTime": "2019-07-16T12:00:00Z"}, "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}, "Null": {"aws:TokenIssueTime": true}, "ForAnyValue:StringLike": {"aws:TagKeys": "x*"}}}]})).is_empty());
        assert!(check(json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}})).is_empty());
    }

    #[test]
    fn grammar_errors_are_each_named() {
        let cases = [
            (
                json!({"Statement": {"Effect": "Allow", "Resource": "*"}}),
                "neither Action",
            ),
            (
                json!({"Statement": {"Sid": "has spaces!", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}}),
                "Sid",
            ),
            (
                json!({"Statement": [{"Sid": "s", "Effect": "Allow", "Action": "s3:x", "Resource": "*"}, {"Sid": "s", "Effect": "Allow", "Action": "s3:x", "Resource": "*"}]}),
                "twice",
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "s3:x", "Resource": "s3"}}),
                "not * or an ARN",
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "s3:x", "Resource": {"Fn::Sub": "arn:aws:ssm:*:${AWS::AccountId}:*"}}}),
                "not * or an ARN",
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "s3:x", "Resource": "*", "Condition": {"DateGreaterThan": {"bad": "2019-07-16T12:00:00Z"}}}}),
                "no service prefix",
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "s3:x", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "bad"}}}}),
                "not a valid Date",
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "s3:x", "Resource": "*", "Condition": {"NumericEquals": {"s3:prefix": "home/"}}}}),
                "not a valid Numeric",
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "s3:x", "Resource": "*", "Condition": {"StringEqualz": {"s3:prefix": "a"}}}}),
                "unknown condition operator",
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "s3:x", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceIp": "10.0.0.0/8"}}}}),
                "cannot test",
            ),
            (
                json!({"Statement": {"Effect": "Permit", "Action": "s3:x", "Resource": "*"}}),
                "Effect",
            ),
        ];
        for (doc, needle) in cases {
            let p = check(doc.clone());
            assert!(
                p.iter().any(|m| m.contains(needle)),
                "{needle}: {doc} -> {p:?}"
            );
        }
    }
}
