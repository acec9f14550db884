//! IAM policy analysis used by rules on `Put*Policy`, `CreatePolicy(Version)` and
//! resource policies: which statements grant dangerously broad access.

use serde_json::Value;

/// One reason a policy is dangerous (named in snake case in rule files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// An action that rewrites a resource policy or ACL (on any resource): the holder
    /// can grant anyone, itself included, access to the resource.
    PermissionsManagement,
    /// Reading every secret or parameter (`ssm:GetParameter*`,
    /// `secretsmanager:GetSecretValue` on `*`).
    SecretsReadAll,
    /// A GitHub Actions OIDC trust without both `aud` and `sub` conditions: any
    /// repository's workflow can assume the role.
    OidcTrustUnrestricted,
    /// A service principal granted access without `aws:SourceArn`/`aws:SourceAccount`
    /// (confused deputy: another account's use of the service reaches the resource).
    ConfusedDeputy,
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

/// Actions that write resource policies or ACLs.
const PERMISSIONS_MANAGEMENT_ACTIONS: &[&str] = &[
    "s3:putbucketpolicy",
    "s3:putbucketacl",
    "s3:putobjectacl",
    "s3:putaccesspointpolicy",
    "lambda:addpermission",
    "ram:createresourceshare",
    "kms:putkeypolicy",
    "sqs:addpermission",
    "sns:addpermission",
    "ecr:setrepositorypolicy",
    "secretsmanager:putresourcepolicy",
    "glacier:setvaultaccesspolicy",
];

/// Actions that read secret values.
const SECRET_READ_ACTIONS: &[&str] = &[
    "ssm:getparameter",
    "ssm:getparameters",
    "ssm:getparametersbypath",
    "secretsmanager:getsecretvalue",
];

/// Whether an action pattern (`s3:Put*`, `*`, exact) covers `action` (both lower case).
fn covers(pattern: &str, action: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == action,
        Some((before, after)) => {
            // One or more `*`: check the literal pieces appear in order.
            let mut rest = match action.strip_prefix(before) {
                Some(r) => r,
                None => return false,
            };
            let pieces: Vec<&str> = after.split('*').collect();
            for (i, piece) in pieces.iter().enumerate() {
                if i == pieces.len() - 1 {
                    return rest.ends_with(piece);
                }
                match rest.find(piece) {
                    Some(at) => rest = &rest[at + piece.len()..],
                    None => return false,
                }
            }
            true
        }
    }
}

fn covers_any(pattern: &str, list: &[&str]) -> bool {
    list.iter().any(|a| covers(pattern, a))
}

fn condition_keys(c: Option<&Value>) -> Vec<String> {
    match c {
        Some(Value::Object(ops)) => ops
            .values()
            .filter_map(Value::as_object)
            .flat_map(|keys| keys.keys().map(|k| k.trim().to_ascii_lowercase()))
            .collect(),
        _ => vec![],
    }
}

/// Issues of trust and service grants, which depend on the principal.
fn principal_issues(st: &Value, actions: &[String], push: &mut impl FnMut(PolicyIssue)) {
    let Some(Value::Object(p)) = st.get("Principal") else {
        return;
    };
    let keys = condition_keys(st.get("Condition"));
    let federated = strings(p.get("Federated"));
    if federated
        .iter()
        .any(|f| f.ends_with("token.actions.githubusercontent.com"))
    {
        let has = |suffix: &str| keys.iter().any(|k| k.ends_with(suffix));
        if !(has("githubusercontent.com:aud") && has("githubusercontent.com:sub")) {
            push(PolicyIssue::OidcTrustUnrestricted);
        }
    }
    let services = strings(p.get("Service"));
    let grants_resource_access = actions.iter().any(|a| !a.starts_with("sts:"));
    let pinned = keys.iter().any(|k| {
        matches!(
            k.as_str(),
            "aws:sourcearn" | "aws:sourceaccount" | "aws:sourceorgid" | "aws:sourceorgpaths"
        )
    });
    if !services.is_empty() && grants_resource_access && !pinned {
        push(PolicyIssue::ConfusedDeputy);
    }
}

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
        let actions = strings(st.get("Action"));
        principal_issues(st, &actions, &mut push);
        let resources = strings(st.get("Resource"));
        // Resource policies name no Resource list per principal; treat absent as "*".
        let star_resource = resources.is_empty() || resources.iter().any(|r| r == "*");
        // Naming a policy-writing action grants it wherever it applies; a wildcard
        // (`s3:*` on one bucket) is ordinary ownership of that resource, so it only
        // counts on `*`. Object ACLs are routine per object, so they too need `*`.
        let manages = actions.iter().any(|a| {
            let explicit = !a.contains('*')
                && a != "s3:putobjectacl"
                && PERMISSIONS_MANAGEMENT_ACTIONS.contains(&a.as_str());
            explicit || (star_resource && a != "*" && covers_any(a, PERMISSIONS_MANAGEMENT_ACTIONS))
        });
        if manages {
            push(PolicyIssue::PermissionsManagement);
        }
        if !star_resource {
            continue;
        }
        for action in actions {
            if action != "*" && covers_any(&action, SECRET_READ_ACTIONS) {
                push(PolicyIssue::SecretsReadAll);
            }
            if action == "*" {
                push(PolicyIssue::FullAdmin);
            } else if action.ends_with(":*") {
                push(PolicyIssue::ServiceWildcard);
            }
            if action == "iam:passrole" || action == "iam:*" || action == "iam:pass*" {
                push(PolicyIssue::PassRoleStar);
            }
            if covers_any(&action, PRIVESC_ACTIONS) && action != "*" {
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
        let put_star =
            json!({"Statement": {"Effect": "Allow", "Action": "s3:Put*", "Resource": "*"}});
        assert_eq!(analyze(&put_star), vec![PolicyIssue::PermissionsManagement]);
        let own_bucket = json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}});
        assert!(analyze(&own_bucket).is_empty());
        let policy_writer = json!({"Statement": {"Effect": "Allow", "Action": "s3:PutBucketPolicy", "Resource": "arn:aws:s3:::b"}});
        assert_eq!(
            analyze(&policy_writer),
            vec![PolicyIssue::PermissionsManagement]
        );
        let secrets = json!({"Statement": {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"}});
        assert_eq!(analyze(&secrets), vec![PolicyIssue::SecretsReadAll]);
        let gh = json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}, "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}});
        assert_eq!(analyze(&gh), vec![PolicyIssue::OidcTrustUnrestricted]);
        let deputy = json!({"Statement": {"Effect": "Allow", "Action": "s3:PutObject", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Resource": "arn:aws:s3:::b/*"}});
        assert_eq!(analyze(&deputy), vec![PolicyIssue::ConfusedDeputy]);
        let ec2_trust = json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}});
        assert!(analyze(&ec2_trust).is_empty());
        let pass = json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]});
        assert_eq!(
            analyze(&pass),
            vec![PolicyIssue::NotActionAllow, PolicyIssue::PassRoleStar]
        );
    }
}
