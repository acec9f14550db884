//! IAM policy analysis, used by the rules on `Put*Policy`, `CreatePolicy(Version)`,
//! trust and resource policies, and by `cspm rules eval-policies`.
//!
//! Every check follows a page of the IAM documentation (cited on the check). A
//! grant counts only if the policy's own unconditional `Deny` statements do not
//! take it back; a policy that breaks the grammar is reported as `malformed`, a
//! kind apart from the risks.

mod actions;
mod conditions;
mod grammar;
mod principals;
mod statement;

use actions::{covers, denied, is_star, is_type_wide};
use serde_json::Value;
use statement::Statement;

/// Most statements analyzed in one policy. The checks compare every `Allow`
/// with every `Deny` (quadratic), and no policy AWS accepts comes near this: the
/// largest, a 32 KiB KMS key policy, holds a few hundred statements at most.
pub const MAX_POLICY_STATEMENTS: usize = 1_000;
/// Most `Action`/`NotAction`/`Resource`/`NotResource` entries analyzed in one
/// policy, over all its statements (bounding the same comparisons).
pub const MAX_POLICY_ENTRIES: usize = 4_000;

/// One kind of problem (named in snake case in rule files: `policy_issues: [public_principal]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyIssue {
    /// Allow `*` actions on `*` in effect (full administrator).
    FullAdmin,
    /// Allow `service:*` on `*` in effect.
    ServiceWildcard,
    /// Allow with `NotAction` (grants everything not listed, including future actions).
    NotActionAllow,
    /// Allow with `NotResource`.
    NotResourceAllow,
    /// Allow with `NotPrincipal` (grants everyone not listed).
    NotPrincipalAllow,
    /// `iam:PassRole` on any role.
    PassRoleStar,
    /// An escalation action on any resource, or `iam:PassRole` with an action that
    /// runs something under the passed role.
    PrivilegeEscalation,
    /// `Principal: "*"` without a condition that confines the caller.
    PublicPrincipal,
    /// An action that rewrites a resource policy or ACL.
    PermissionsManagement,
    /// Reading every secret or parameter.
    SecretsReadAll,
    /// Reading every object of every bucket.
    DataReadAll,
    /// An action that returns someone else's credentials, on any resource.
    CredentialExposure,
    /// Web-identity trust any token holder can satisfy (GitHub without a
    /// repository-specific `sub`, `Federated: "*"`, an OIDC provider without
    /// conditions on its own claims).
    OidcTrustUnrestricted,
    /// Role trust to another account without `sts:ExternalId` (or an organisation
    /// or MFA condition).
    ExternalAccountTrust,
    /// A service principal granted access without `aws:SourceArn`/`aws:SourceAccount`.
    ConfusedDeputy,
    /// The document breaks the IAM policy grammar (a kind apart: not a risk).
    Malformed,
}

impl PolicyIssue {
    /// Whether the issue is a risk (every kind but `Malformed`).
    pub fn is_risk(self) -> bool {
        self != PolicyIssue::Malformed
    }
}

/// One issue with the statement it comes from and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFinding {
    /// The kind.
    pub issue: PolicyIssue,
    /// What in the policy shows it.
    pub detail: String,
}

/// What the analysis may know beyond the document: the account it lives in, and
/// accounts the organisation trusts (`detection-settings.yaml`).
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyContext<'a> {
    /// The account of the role or resource the policy belongs to.
    pub own_account: Option<&'a str>,
    /// Accounts trusted besides the own account.
    pub trusted_accounts: &'a [String],
}

/// The issue kinds of a policy (sorted, each once), without context.
pub fn analyze(doc: &Value) -> Vec<PolicyIssue> {
    analyze_with(doc, &PolicyContext::default())
}

/// The issue kinds of a policy (sorted, each once).
pub fn analyze_with(doc: &Value, ctx: &PolicyContext<'_>) -> Vec<PolicyIssue> {
    let mut kinds: Vec<PolicyIssue> = analyze_detailed(doc, ctx)
        .into_iter()
        .map(|f| f.issue)
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Every issue of a policy with its explanation.
pub fn analyze_detailed(doc: &Value, ctx: &PolicyContext<'_>) -> Vec<PolicyFinding> {
    let mut out = Vec::new();
    let Some(statements) = statement::statements(doc) else {
        out.push(PolicyFinding {
            issue: PolicyIssue::Malformed,
            detail: "not a policy document (no Statement)".into(),
        });
        return out;
    };
    if let Some(detail) = too_large(&statements) {
        // Reported like a grammar break: the document is not analyzed, and says why.
        out.push(PolicyFinding {
            issue: PolicyIssue::Malformed,
            detail,
        });
        return out;
    }
    for problem in grammar::problems(doc, &statements) {
        out.push(PolicyFinding {
            issue: PolicyIssue::Malformed,
            detail: problem,
        });
    }
    let mut push = |issue, st: &Statement, detail: String| {
        out.push(PolicyFinding {
            issue,
            detail: format!("statement {}: {detail}", st.index + 1),
        })
    };
    for st in statements.iter().filter(|s| s.is_allow()) {
        let entries = conditions::entries(st.condition.as_ref());
        let principal_checks: [(PolicyIssue, Option<String>); 5] = [
            (
                PolicyIssue::PublicPrincipal,
                principals::public_principal(st, &entries),
            ),
            (
                PolicyIssue::NotPrincipalAllow,
                principals::not_principal_allow(st),
            ),
            (
                PolicyIssue::OidcTrustUnrestricted,
                principals::oidc_trust(st, &entries),
            ),
            (
                PolicyIssue::ExternalAccountTrust,
                principals::external_trust(st, &entries, ctx),
            ),
            (
                PolicyIssue::ConfusedDeputy,
                principals::confused_deputy(st, &entries),
            ),
        ];
        for (issue, found) in principal_checks {
            if let Some(detail) = found {
                push(issue, st, detail);
            }
        }
        if st.not_actions.is_some() {
            push(
                PolicyIssue::NotActionAllow,
                st,
                "Allow with NotAction grants every action not listed, including ones added later"
                    .into(),
            );
        }
        if st.not_resources.is_some() {
            push(
                PolicyIssue::NotResourceAllow,
                st,
                "Allow with NotResource grants every resource not listed".into(),
            );
        }
        for (issue, detail) in action_issues(st, &statements) {
            push(issue, st, detail);
        }
    }
    for detail in passrole_combinations(&statements) {
        out.push(PolicyFinding {
            issue: PolicyIssue::PrivilegeEscalation,
            detail,
        });
    }
    out
}

/// Why a policy is too large to analyze, if it is.
fn too_large(statements: &[Statement]) -> Option<String> {
    if statements.len() > MAX_POLICY_STATEMENTS {
        return Some(format!(
            "{} statements: more than {MAX_POLICY_STATEMENTS}, the most analyzed (no IAM policy holds that many)",
            statements.len()
        ));
    }
    let len = |v: &Option<Vec<String>>| v.as_ref().map_or(0, Vec::len);
    let entries: usize = statements
        .iter()
        .map(|s| len(&s.actions) + len(&s.not_actions) + len(&s.resources) + len(&s.not_resources))
        .sum();
    (entries > MAX_POLICY_ENTRIES).then(|| {
        format!("{entries} action and resource entries: more than {MAX_POLICY_ENTRIES}, the most analyzed (no IAM policy holds that many)")
    })
}

/// A granted action on a resource, unless a `Deny` in the same policy takes it back.
fn granted(statements: &[Statement], action: &str, resource: &str) -> bool {
    !denied(statements, action, resource)
}

/// The action-based issues of one `Allow` statement.
///
/// - full administrator / service wildcard: `*` or `service:*` on `*` in effect
///   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege>);
/// - `iam:PassRole` on any role
///   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html>);
/// - privilege escalation, secret reads and credential exposure on any resource of
///   the type, object reads on every bucket (lists in `actions.rs`);
/// - permissions management: a policy-writing action named explicitly (on any
///   resource), or reached by a wildcard on `*`.
fn action_issues(st: &Statement, all: &[Statement]) -> Vec<(PolicyIssue, String)> {
    let mut out = Vec::new();
    let Some(patterns) = &st.actions else {
        return out;
    };
    let resources = st.resource_list();
    let star: Vec<&str> = resources.iter().copied().filter(|r| is_star(r)).collect();
    let wide: Vec<&str> = resources
        .iter()
        .copied()
        .filter(|r| is_type_wide(r))
        .collect();
    // Whether some listed action covered by `pattern` stays granted on one of `on`.
    let reaches = |pattern: &str, list: &[&str], on: &[&str]| -> Option<String> {
        list.iter()
            .filter(|a| covers(pattern, a))
            .find(|a| on.iter().any(|r| granted(all, a, r)))
            .map(|a| a.to_string())
    };
    for p in patterns {
        let p = p.as_str();
        if p == "*" || p == "*:*" {
            if star.iter().any(|r| granted(all, "*", r)) {
                out.push((PolicyIssue::FullAdmin, "Allow * on *".into()));
            }
            continue;
        }
        let mut service_wide = false;
        if let Some((service, rest)) = p.split_once(':') {
            if rest == "*"
                && star
                    .iter()
                    .any(|r| granted(all, &format!("{service}:*"), r))
            {
                out.push((PolicyIssue::ServiceWildcard, format!("Allow {p} on *")));
                service_wide = true;
            }
        }
        if covers(p, "iam:passrole") && wide.iter().any(|r| granted(all, "iam:passrole", r)) {
            out.push((
                PolicyIssue::PassRoleStar,
                format!("{p} lets the holder pass any role"),
            ));
        }
        if let Some(a) = reaches(p, actions::PRIVESC_ACTIONS, &wide) {
            out.push((
                PolicyIssue::PrivilegeEscalation,
                format!("{p} grants {a} on any resource"),
            ));
        }
        // A service-wide grant already says it reaches every action of the
        // service; escalation (above) is still named, being worse than the rest.
        if service_wide {
            continue;
        }
        if let Some(a) = reaches(p, actions::SECRET_READ_ACTIONS, &wide) {
            out.push((
                PolicyIssue::SecretsReadAll,
                format!("{p} grants {a} on every secret"),
            ));
        }
        if let Some(a) = reaches(p, actions::DATA_READ_ACTIONS, &star) {
            out.push((
                PolicyIssue::DataReadAll,
                format!("{p} grants {a} on every bucket"),
            ));
        }
        if let Some(a) = reaches(p, actions::CREDENTIAL_ACTIONS, &wide) {
            out.push((
                PolicyIssue::CredentialExposure,
                format!("{p} grants {a}, which returns credentials, on any resource"),
            ));
        }
        // Naming a policy-writing action grants it wherever it applies; a wildcard
        // (`s3:*` on one bucket) is ordinary ownership, so it counts only on `*`.
        // Object ACLs are routine per object, so they too count only on `*`
        // (every object of every bucket).
        let explicit = !p.contains(['*', '?'])
            && p != "s3:putobjectacl"
            && actions::PERMISSIONS_MANAGEMENT_ACTIONS.contains(&p)
            && resources.iter().any(|r| granted(all, p, r));
        let on_star = reaches(p, actions::PERMISSIONS_MANAGEMENT_ACTIONS, &star).is_some();
        if explicit || on_star {
            out.push((
                PolicyIssue::PermissionsManagement,
                format!("{p} can rewrite who may access a resource"),
            ));
        }
    }
    out
}

/// `iam:PassRole` on any role together with an action that starts something
/// running under the passed role (EC2, Lambda, Glue, CloudFormation, ...),
/// anywhere in the policy.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html>
fn passrole_combinations(statements: &[Statement]) -> Vec<String> {
    let allows: Vec<&Statement> = statements.iter().filter(|s| s.is_allow()).collect();
    let grants = |action: &str, wide_only: bool| {
        allows.iter().any(|st| {
            let resources = st.resource_list();
            st.actions
                .as_ref()
                .is_some_and(|ps| ps.iter().any(|p| covers(p, action) && p != "*"))
                && resources
                    .iter()
                    .any(|r| (!wide_only || is_type_wide(r)) && granted(statements, action, r))
        })
    };
    if !grants("iam:passrole", true) {
        return vec![];
    }
    actions::PASSROLE_PARTNERS
        .iter()
        .filter(|a| grants(a, false))
        .map(|a| format!("iam:PassRole on any role with {a}: runs code as any role"))
        .collect()
}

#[cfg(test)]
mod tests;
