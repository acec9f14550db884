//! IAM policy analysis used by rules on `Put*Policy`, `CreatePolicy(Version)` and
//! resource policies: which statements grant dangerously broad access.

use serde_json::Value;

/// One reason a policy is dangerous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyIssue {
    /// Allow `*` actions on `*` resources (full admin).
    FullAdmin,
    /// Allow `service:*` on `*` resources.
    ServiceWildcard,
    /// Allow with `NotAction` (grants everything not listed).
    NotActionAllow,
    /// Allow with `NotResource`.
    NotResourceAllow,
    /// `iam:PassRole` (or `iam:*`) on `*`.
    PassRoleStar,
    /// A known privilege-escalation action on `*`.
    PrivilegeEscalation,
    /// `Principal: "*"` (or `{"AWS":"*"}`) without a restricting condition.
    PublicPrincipal,
}

/// Actions that let a principal grant itself more rights (Rhino Security's list).
const PRIVESC_ACTIONS: &[&str] = &[
    "iam:createpolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:attachuserpolicy",
    "iam:attachgrouppolicy",
    "iam:attachrolepolicy",
    "iam:putuserpolicy",
    "iam:putgrouppolicy",
    "iam:putrolepolicy",
    "iam:addusertogroup",
    "iam:updateassumerolepolicy",
    "lambda:updatefunctioncode",
    "glue:updatedevendpoint",
];

fn as_list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Null) | None => vec![],
        Some(other) => vec![other],
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    as_list(v)
        .into_iter()
        .filter_map(|x| x.as_str().map(|s| s.trim().to_ascii_lowercase()))
        .collect()
}

fn is_public_principal(p: &Value) -> bool {
    match p {
        Value::String(s) => s.trim() == "*",
        Value::Object(m) => m
            .get("AWS")
            .is_some_and(|a| strings(Some(a)).iter().any(|s| s == "*")),
        _ => false,
    }
}

/// Condition keys that pin who (or from where) can use a public grant. Others, such
/// as `sts:ExternalId` or `aws:SecureTransport`, leave the grant open to anyone who
/// meets them, so they do not make `Principal: "*"` safe.
const RESTRICTING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:userid",
    "aws:username",
    "aws:calledvia",
    "kms:calleraccount",
    "kms:viaservice",
    "lambda:functionarn",
    "s3:dataaccesspointaccount",
    "elasticfilesystem:accesspointarn",
];

/// Whether a condition block restricts who can use the grant: some operator tests
/// one of [`RESTRICTING_KEYS`] (an empty block, or only other keys, does not).
fn has_restricting_condition(c: Option<&Value>) -> bool {
    let Some(Value::Object(ops)) = c else {
        return false;
    };
    ops.values().any(|block| match block {
        Value::Object(keys) => keys
            .keys()
            .any(|k| RESTRICTING_KEYS.contains(&k.trim().to_ascii_lowercase().as_str())),
        _ => false,
    })
}

/// Finds the issues in a policy document (object, or statement list, or one statement).
pub fn analyze(doc: &Value) -> Vec<PolicyIssue> {
    let statements = match doc.get("Statement") {
        Some(s) => as_list(Some(s)),
        None if doc.get("Effect").is_some() => vec![doc],
        None => vec![],
    };
    let mut out = Vec::new();
    let mut push = |i: PolicyIssue| {
        if !out.contains(&i) {
            out.push(i);
        }
    };
    for st in statements {
        let allow = st
            .get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("allow"));
        if !allow {
            continue;
        }
        let restricted = has_restricting_condition(st.get("Condition"));
        if st.get("Principal").is_some_and(is_public_principal) && !restricted {
            push(PolicyIssue::PublicPrincipal);
        }
        if st.get("NotAction").is_some() {
            push(PolicyIssue::NotActionAllow);
        }
        if st.get("NotResource").is_some() {
            push(PolicyIssue::NotResourceAllow);
        }
        let resources = strings(st.get("Resource"));
        // Resource policies name no Resource list per principal; treat absent as "*".
        let star_resource = resources.is_empty() || resources.iter().any(|r| r == "*");
        if !star_resource {
            continue;
        }
        for action in strings(st.get("Action")) {
            if action == "*" {
                push(PolicyIssue::FullAdmin);
            } else if action.ends_with(":*") {
                push(PolicyIssue::ServiceWildcard);
            }
            if action == "iam:passrole" || action == "iam:*" || action == "iam:pass*" {
                push(PolicyIssue::PassRoleStar);
            }
            if PRIVESC_ACTIONS.contains(&action.as_str()) {
                push(PolicyIssue::PrivilegeEscalation);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn broad_grants_are_found_and_narrow_or_denied_ones_are_not() {
        let admin = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        assert_eq!(analyze(&admin), vec![PolicyIssue::FullAdmin]);
        let deny = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]});
        assert!(analyze(&deny).is_empty());
        let narrow = json!({"Statement": {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}});
        assert!(analyze(&narrow).is_empty());
        let public = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
        assert_eq!(analyze(&public), vec![PolicyIssue::PublicPrincipal]);
        let conditioned = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "x", "Condition": {"StringEquals": {"aws:SourceVpce": "v"}}}]});
        assert!(analyze(&conditioned).is_empty());
        let external_id = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "1"}}}]});
        assert_eq!(analyze(&external_id), vec![PolicyIssue::PublicPrincipal]);
        let pass = json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]});
        assert_eq!(
            analyze(&pass),
            vec![PolicyIssue::NotActionAllow, PolicyIssue::PassRoleStar]
        );
    }
}
