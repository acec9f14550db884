//! Checks that depend on who a statement speaks about: everyone (`*`), everyone
//! but someone (`NotPrincipal`), identity providers, other accounts, AWS services.

use super::conditions::{confined_by, Entry};
use super::statement::Statement;
use super::PolicyContext;

/// Condition keys that pin a public grant to known callers or networks: the
/// caller's organisation, account or ARN, the resource or account an AWS
/// service acts for, the VPC, endpoint or address range the call comes from.
/// Keys such as `aws:SecureTransport`, `aws:Referer` (set by the client),
/// `sts:ExternalId` (known to whoever was told it) or `aws:CurrentTime` leave the
/// grant open to anyone who meets them.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>,
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies-vpc-endpoint.html>
const CONFINING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:vpcsourceip",
    "aws:userid",
    "aws:username",
    "kms:calleraccount",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
    "elasticfilesystem:accesspointarn",
];

/// `Principal: "*"` (or `{"AWS": "*"}`) in an `Allow`, unless a condition
/// confines it (see [`CONFINING_KEYS`] and `conditions::Entry::confines`): anyone
/// with an AWS account, or anonymous callers for services that accept them.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous>
pub fn public_principal(st: &Statement, entries: &[Entry]) -> Option<String> {
    let p = st.principal.as_ref()?;
    if !st.is_allow() || !p.is_public() {
        return None;
    }
    if confined_by(entries, |k| CONFINING_KEYS.contains(&k)) {
        return None;
    }
    Some(if entries.is_empty() {
        "Principal * without a condition".into()
    } else {
        "Principal * with conditions that do not confine the caller (no organisation, account, source ARN, VPC or address condition with specific values)".into()
    })
}

/// `NotPrincipal` in an `Allow` grants everyone except the listed principals.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>
/// ("we strongly recommend that you do not use NotPrincipal with Allow").
pub fn not_principal_allow(st: &Statement) -> Option<String> {
    (st.is_allow() && st.not_principal.is_some())
        .then(|| "Allow with NotPrincipal grants everyone not listed".into())
}

const GITHUB: &str = "token.actions.githubusercontent.com";

/// The host of an OIDC provider principal (`arn:...:oidc-provider/HOST`, or a
/// bare host such as `cognito-identity.amazonaws.com`); `None` for SAML providers.
fn oidc_host(federated: &str) -> Option<&str> {
    if federated.contains(":saml-provider/") {
        return None;
    }
    Some(match federated.split_once(":oidc-provider/") {
        Some((_, host)) => host.trim_end_matches('/'),
        None => federated,
    })
}

/// Whether a GitHub `sub` value names one repository: `repo:ORG/REPO:...` with no
/// wildcard in the organisation or repository (branches, environments and tags
/// after them may be wildcards), or another claim form without any wildcard.
fn github_subject_is_specific(v: &serde_json::Value) -> bool {
    let Some(s) = v.as_str().map(str::trim) else {
        return false;
    };
    let wild = |t: &str| t.contains('*') || t.contains('?');
    match s.strip_prefix("repo:") {
        Some(rest) => {
            let repo = rest.split(':').next().unwrap_or("");
            match repo.split_once('/') {
                Some((org, name)) => {
                    !org.is_empty() && !name.is_empty() && !wild(org) && !wild(name)
                }
                None => false,
            }
        }
        None => !s.is_empty() && !wild(s),
    }
}

/// Web-identity trust that any token holder could satisfy:
/// - `Federated: "*"`;
/// - GitHub Actions (`token.actions.githubusercontent.com`) without an `aud`
///   condition, or without a `sub` condition naming one repository (a missing
///   `sub`, or a wildcard in its organisation or repository, lets workflows of
///   other repositories assume the role);
/// - any other OIDC provider without a condition on its own claims
///   (`HOST:aud`, `HOST:sub`...): conditions on another provider's keys never
///   apply to its tokens.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html>,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif>
pub fn oidc_trust(st: &Statement, entries: &[Entry]) -> Option<String> {
    let p = st.principal.as_ref()?;
    if !st.is_allow() {
        return None;
    }
    for f in &p.federated {
        if f == "*" {
            return Some("Federated principal * trusts every identity provider".into());
        }
        let Some(host) = oidc_host(f) else {
            continue;
        };
        let prefix = format!("{host}:");
        if host == GITHUB {
            let aud = confined_by(entries, |k| k == "token.actions.githubusercontent.com:aud");
            let sub_entries: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.key == "token.actions.githubusercontent.com:sub")
                .collect();
            let sub = sub_entries
                .iter()
                .any(|e| e.confines() && e.values.iter().all(github_subject_is_specific));
            if sub_entries.is_empty() {
                return Some(format!("GitHub Actions trust without a {GITHUB}:sub condition: any repository's workflow can assume the role"));
            }
            if !sub {
                return Some(format!("GitHub Actions trust whose {GITHUB}:sub condition has a wildcard in the organisation or repository"));
            }
            if !aud {
                return Some(format!(
                    "GitHub Actions trust without a {GITHUB}:aud condition"
                ));
            }
        } else if !confined_by(entries, |k| k.starts_with(&prefix)) {
            return Some(format!(
                "OIDC provider {host} trusted without a condition on its own claims ({host}:aud / {host}:sub)"
            ));
        }
    }
    None
}

/// A role trust (`sts:AssumeRole`) naming an account other than the role's own
/// (and not in `trusted_accounts`) without `sts:ExternalId`, an organisation
/// condition or an MFA requirement: the confused-deputy setup AWS warns about
/// for third parties. Without knowing the role's account, a trust naming two or
/// more accounts necessarily names a foreign one.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html>,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_aws-accounts.html>
pub fn external_trust(
    st: &Statement,
    entries: &[Entry],
    ctx: &PolicyContext<'_>,
) -> Option<String> {
    let p = st.principal.as_ref()?;
    if !st.is_allow() || !st.is_trust() || p.is_public() {
        return None;
    }
    let mitigated = confined_by(entries, |k| {
        matches!(
            k,
            "sts:externalid" | "aws:principalorgid" | "aws:principalorgpaths"
        )
    }) || entries.iter().any(|e| {
        e.key == "aws:multifactorauthpresent"
            && e.base == "Bool"
            && !e.if_exists
            && e.values.iter().all(|v| {
                v.as_str().map_or(v.as_bool() == Some(true), |s| {
                    s.eq_ignore_ascii_case("true")
                })
            })
    });
    if mitigated {
        return None;
    }
    let foreign: Vec<&str> = p
        .aws_accounts()
        .into_iter()
        .filter(|a| !ctx.trusted_accounts.iter().any(|t| t == a))
        .collect();
    match ctx.own_account {
        Some(own) => {
            let outside: Vec<&str> = foreign.into_iter().filter(|a| *a != own).collect();
            (!outside.is_empty()).then(|| {
                format!(
                    "trusts account(s) {} without sts:ExternalId, an organisation or an MFA condition",
                    outside.join(", ")
                )
            })
        }
        None => (foreign.len() >= 2).then(|| {
            format!(
                "trusts {} accounts ({}), so at least one outside the role's own, without sts:ExternalId, an organisation or an MFA condition",
                foreign.len(),
                foreign.join(", ")
            )
        }),
    }
}

/// An AWS service principal granted access to a resource (anything but
/// `sts:AssumeRole*`) without `aws:SourceArn`, `aws:SourceAccount`,
/// `aws:SourceOrgID` or `aws:SourceOrgPaths`: another account's use of the same
/// service can reach the resource (cross-service confused deputy).
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html#cross-service-confused-deputy-prevention>
pub fn confused_deputy(st: &Statement, entries: &[Entry]) -> Option<String> {
    let p = st.principal.as_ref()?;
    if !st.is_allow() || p.service.is_empty() {
        return None;
    }
    let grants_resource = match &st.actions {
        Some(a) => a.iter().any(|x| !x.starts_with("sts:")),
        None => st.not_actions.is_some(),
    };
    let pinned = confined_by(entries, |k| {
        matches!(
            k,
            "aws:sourcearn"
                | "aws:sourceaccount"
                | "aws:sourceorgid"
                | "aws:sourceorgpaths"
                | "aws:sourceowner"
        )
    });
    (grants_resource && !pinned).then(|| {
        format!(
            "service principal {} granted access without aws:SourceArn / aws:SourceAccount",
            p.service.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn github_subjects_must_name_one_repository() {
        for ok in [
            "repo:org/repo:*",
            "repo:org/repo:environment:prod",
            "repo:org/repo:ref:refs/heads/main",
        ] {
            assert!(github_subject_is_specific(&json!(ok)), "{ok}");
        }
        for loose in [
            "*",
            "repo:*",
            "repo:org/*",
            "repo:*/repo:*",
            "repo:org",
            "repo:org/re?o:*",
        ] {
            assert!(!github_subject_is_specific(&json!(loose)), "{loose}");
        }
    }
}
