//! What a statement's `Action` and `Resource` reach: wildcard matching, resources
//! that are `*` in effect, the action families that make a grant dangerous, and
//! whether a `Deny` takes a grant back.

use super::statement::Statement;

/// Whether an IAM pattern (`s3:Put*`, `iam:*Policy*`, `*`, exact; `?` is one
/// character) covers `text`. Both sides are compared lower case: action names are
/// case-insensitive in IAM.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>
/// ("You can use wildcards (* or ?) as part of the action name").
pub fn covers(pattern: &str, text: &str) -> bool {
    wildcard(pattern.as_bytes(), text.as_bytes())
}

fn wildcard(p: &[u8], t: &[u8]) -> bool {
    // Iterative glob with backtracking to the last `*` (linear in practice).
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// Whether a `Resource` entry is `*` in effect: `*`, or an ARN whose service,
/// region, account and resource parts are all wildcards or empty (`arn:*`,
/// `arn:aws:*:*:*:*`, `arn:aws:s3:::*`, `arn:aws:iam::*:*`).
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>
/// (wildcards in any ARN segment; a segment of `*` matches every value of it).
pub fn is_star(resource: &str) -> bool {
    let r = resource.trim();
    if r.chars().all(|c| c == '*') && !r.is_empty() {
        return true;
    }
    let Some(rest) = r.strip_prefix("arn:") else {
        return false;
    };
    // partition:service:region:account:resource (the resource may hold ':' and '/').
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let wild = |s: &str| s.chars().all(|c| matches!(c, '*' | '?' | ':' | '/'));
    match parts.as_slice() {
        // `arn:*` and `arn:aws:*`: a trailing `*` swallows every later segment.
        [p] => p.ends_with('*'),
        [_, s] => wild(s),
        [_, s, r] | [_, s, r, _] => wild(s) && wild(r) && r.ends_with('*'),
        [_, _, region, account, res] => {
            wild(region) && wild(account) && wild(res) && res.contains('*')
        }
        _ => false,
    }
}

/// Whether a `Resource` entry reaches every resource of one type: `*` in effect,
/// or `type/*` / `type:*` in any account (`arn:aws:iam::*:role/*`,
/// `arn:aws:iam::111122223333:user/*`). An action scoped like that (passing any
/// role, writing any user's policy) is as open as one on `*`.
pub fn is_type_wide(resource: &str) -> bool {
    if is_star(resource) {
        return true;
    }
    let Some(rest) = resource.trim().strip_prefix("arn:") else {
        return false;
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let Some(res) = parts.get(4) else {
        return false;
    };
    let Some((kind, tail)) = res.split_once(['/', ':']) else {
        return false;
    };
    !kind.is_empty() && !kind.contains('*') && tail.chars().all(|c| c == '*') && !tail.is_empty()
}

/// Single actions that let their holder raise its own privileges when they are
/// not scoped to specific resources (Rhino Security Labs' AWS privilege escalation
/// methods, as used by Parliament and Cloudsplaining): rewrite a policy, attach
/// one, give someone (yourself) credentials, or run code as another role.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_manage-attach-detach.html>
pub const PRIVESC_ACTIONS: &[&str] = &[
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
    "iam:deleteuserpermissionsboundary",
    "iam:deleterolepermissionsboundary",
    "lambda:updatefunctioncode",
    "glue:updatedevendpoint",
];

/// Actions that start something running under a role the caller passes with
/// `iam:PassRole`: with both granted (and `PassRole` open to any role), the caller
/// acts with any role's permissions.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html>
pub const PASSROLE_PARTNERS: &[&str] = &[
    "ec2:runinstances",
    "ec2:associateiaminstanceprofile",
    "ec2:replaceiaminstanceprofileassociation",
    "lambda:createfunction",
    "glue:createdevendpoint",
    "glue:createjob",
    "cloudformation:createstack",
    "datapipeline:createpipeline",
    "sagemaker:createnotebookinstance",
    "sagemaker:createtrainingjob",
    "sagemaker:createprocessingjob",
    "codebuild:createproject",
    "ecs:registertaskdefinition",
    "autoscaling:createlaunchconfiguration",
    "ec2:createlaunchtemplate",
];

/// Actions that write a resource policy or ACL: their holder can open the resource
/// to anyone, itself included (Parliament's and Cloudsplaining's "permissions
/// management" / resource exposure).
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html>
pub const PERMISSIONS_MANAGEMENT_ACTIONS: &[&str] = &[
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

/// Actions that return a secret value: unscoped, they read every secret.
///
/// <https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html>,
/// <https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html>
pub const SECRET_READ_ACTIONS: &[&str] = &[
    "ssm:getparameter",
    "ssm:getparameters",
    "ssm:getparametersbypath",
    "secretsmanager:getsecretvalue",
    "secretsmanager:batchgetsecretvalue",
];

/// Actions that read stored data: unscoped, they read every object of every
/// bucket the account can reach (Cloudsplaining's "data exfiltration" risk).
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-policies-s3.html>
pub const DATA_READ_ACTIONS: &[&str] = &["s3:getobject", "s3:getobjectversion"];

/// Actions whose response holds credentials for someone or something else (a
/// Windows administrator password, a database password, another user's key, role
/// credentials). `ecr:GetAuthorizationToken` and `sts:GetServiceBearerToken` are
/// left out on purpose: they return a token for the caller's own access and
/// cannot be scoped, so every registry or package reader needs them on `*`.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html>,
/// <https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetPasswordData.html>,
/// <https://docs.aws.amazon.com/redshift/latest/APIReference/API_GetClusterCredentials.html>
pub const CREDENTIAL_ACTIONS: &[&str] = &[
    "ec2:getpassworddata",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:createservicespecificcredential",
    "iam:resetservicespecificcredential",
    "lightsail:getinstanceaccessdetails",
    "lightsail:getrelationaldatabasemasteruserpassword",
    "redshift:getclustercredentials",
    "redshift:getclustercredentialswithiam",
    "sso:getrolecredentials",
    "cognito-identity:getcredentialsforidentity",
    "codepipeline:pollforjobs",
    "gamelift:requestuploadcredentials",
    "chime:createapikey",
];

/// Whether the policy's `Deny` statements take back `action` on `resource` for
/// every caller: an unconditional `Deny` whose actions cover it (or whose
/// `NotAction` leaves it out) and whose resources cover the resource.
///
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
/// ("an explicit deny in any of these policies overrides the allow").
pub fn denied(statements: &[Statement], action: &str, resource: &str) -> bool {
    statements
        .iter()
        .filter(|s| s.is_deny() && s.condition.is_none())
        .any(|d| {
            let action_hit = match (&d.actions, &d.not_actions) {
                (Some(a), _) => a.iter().any(|p| covers(p, action)),
                (None, Some(na)) => !na.iter().any(|p| covers(p, action)),
                _ => false,
            };
            let resource_hit = match (&d.resources, &d.not_resources) {
                (Some(r), _) => r.iter().any(|p| is_star(p) || covers(p, resource)),
                (None, Some(nr)) => !nr.iter().any(|p| covers(p, resource)),
                // Trust policies and some resource policies name no Resource.
                (None, None) => true,
            };
            // A Deny naming specific principals only takes the grant back from them.
            let everyone = d.principal.as_ref().is_none_or(|p| p.is_public());
            action_hit && resource_hit && everyone
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_case_insensitively_with_star_and_question_mark() {
        assert!(covers("s3:Put*", "s3:putbucketpolicy"));
        assert!(covers("s3:*Policy*", "s3:putbucketpolicy"));
        assert!(covers("*", "iam:passrole"));
        assert!(covers("iam:Pass?ole", "iam:passrole"));
        assert!(!covers("s3:Get*", "s3:putbucketpolicy"));
        assert!(!covers("iam:PassRole", "iam:passroles"));
        assert!(covers("a*b*c", "axxbyyc"));
        assert!(!covers("a*b*c", "axxcyyb"));
    }

    #[test]
    fn star_in_effect_and_type_wide_resources_are_told_from_scoped_ones() {
        for star in [
            "*",
            "arn:*",
            "arn:aws:*",
            "arn:aws:*:*:*:*",
            "arn:aws:s3:::*",
            "arn:aws:iam::*:*",
        ] {
            assert!(is_star(star), "{star}");
        }
        for scoped in [
            "arn:aws:s3:::bucket/*",
            "arn:aws:iam::*:role/ci-*",
            "S3*",
            "arn:aws:iam::111122223333:role/*",
        ] {
            assert!(!is_star(scoped), "{scoped}");
        }
        assert!(is_type_wide("arn:aws:iam::*:role/*"));
        assert!(is_type_wide("arn:aws:iam::111122223333:user/*"));
        assert!(!is_type_wide(
            "arn:aws:iam::*:role/service-role/Evidently-*"
        ));
        assert!(!is_type_wide("arn:aws:iam::*:mfa/${aws:username}"));
    }
}
