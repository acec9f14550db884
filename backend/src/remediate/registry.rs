//! Which action fixes which finding (one line per rule or control), and which
//! actions this build can run. An action listed but not implemented yet makes a
//! plan that says so (`applicable: false`), never a silent dry run.

use super::action::Action;
use super::action_id::ActionId;
#[cfg(feature = "aws")]
use super::config::RemediationConfig;
use super::finding_key::FindingKey;
use shared_types::Finding;
use std::sync::Arc;

/// Detection rule ids (a finding's `generator_id`) and the action that fixes them.
pub const RULE_ACTIONS: &[(&str, ActionId)] = &[
    (
        "aws.ec2.security-group-open-to-world",
        ActionId::Ec2RevokeWorldIngress,
    ),
    ("aws.s3.bucket-acl-public", ActionId::S3BlockPublicAccess),
    ("aws.s3.bucket-policy-public", ActionId::S3BlockPublicAccess),
    (
        "aws.s3.public-access-block-removed",
        ActionId::S3BlockPublicAccess,
    ),
    (
        "aws.iam.access-key-created",
        ActionId::IamDeactivateAccessKey,
    ),
    (
        "aws.iam.access-key-created-for-another-user",
        ActionId::IamDeactivateAccessKey,
    ),
    (
        "aws.iam.root-access-key-created",
        ActionId::IamDeactivateAccessKey,
    ),
    (
        "aws.iam.admin-policy-attached",
        ActionId::IamDetachAdminPolicy,
    ),
    (
        "aws.iam.dangerous-policy-written",
        ActionId::IamDeleteInlinePolicy,
    ),
    (
        "aws.cloudtrail.stopped-or-deleted",
        ActionId::CloudtrailStartLogging,
    ),
    (
        "aws.kms.key-scheduled-for-deletion",
        ActionId::KmsCancelKeyDeletion,
    ),
    ("aws.lambda.made-public", ActionId::LambdaRemovePublicAccess),
];

/// Security Hub control ids (a finding's `control_id`) and the action that fixes them.
pub const CONTROL_ACTIONS: &[(&str, ActionId)] = &[
    // S3.2 / S3.3: public read / write prohibited; S3.8: block public access.
    ("S3.2", ActionId::S3BlockPublicAccess),
    ("S3.3", ActionId::S3BlockPublicAccess),
    ("S3.8", ActionId::S3BlockPublicAccess),
    // Security groups open to the world: EC2.13 / EC2.14 (0.0.0.0/0 to 22 /
    // 3389), EC2.18 (unrestricted ports other than the authorized ones), EC2.19
    // (high-risk ports), EC2.53 / EC2.54 (0.0.0.0/0 / ::/0 to remote
    // administration ports). EC2.2 (the default group admits anything at all)
    // is left out: revoking the world-open rules does not make it pass.
    ("EC2.13", ActionId::Ec2RevokeWorldIngress),
    ("EC2.14", ActionId::Ec2RevokeWorldIngress),
    ("EC2.18", ActionId::Ec2RevokeWorldIngress),
    ("EC2.19", ActionId::Ec2RevokeWorldIngress),
    ("EC2.53", ActionId::Ec2RevokeWorldIngress),
    ("EC2.54", ActionId::Ec2RevokeWorldIngress),
    // KMS.3: keys should not be deleted unintentionally (a key pending deletion).
    ("KMS.3", ActionId::KmsCancelKeyDeletion),
    // Lambda.1: function policies should prohibit public access.
    ("Lambda.1", ActionId::LambdaRemovePublicAccess),
];

/// The action id that fixes `finding`, if any, by its [`FindingKey`].
pub fn action_for(finding: &Finding) -> Option<ActionId> {
    let (table, key) = match FindingKey::of(finding) {
        FindingKey::Control(c) => (CONTROL_ACTIONS, c),
        FindingKey::Rule(r) => (RULE_ACTIONS, r),
    };
    table.iter().find(|(k, _)| *k == key).map(|(_, a)| *a)
}

/// The actions this build can run.
pub struct Registry {
    actions: Vec<Arc<dyn Action>>,
    /// With `assume_role` in the file: the same actions with each account's
    /// credentials.
    #[cfg(feature = "aws")]
    members: Option<super::member_accounts::MemberAccounts>,
}

impl Registry {
    /// Every implemented action, calling AWS with `sdk` and set up by `config`.
    /// With `assume_role` in `config`, an action on a finding's resource calls
    /// AWS with that role in the finding's account instead. Every action calls
    /// AWS, so a build without the `aws` feature has no registry but a test's.
    #[cfg(feature = "aws")]
    pub fn new(sdk: &aws_config::SdkConfig, config: &RemediationConfig) -> Registry {
        Self::with_sessions(sdk, config, super::member_accounts::Sessions::Apply)
    }

    /// [`Registry::new`] whose sessions in member accounts may only read
    /// (for a process that shows plans and never applies).
    #[cfg(feature = "aws")]
    pub fn for_plans(sdk: &aws_config::SdkConfig, config: &RemediationConfig) -> Registry {
        Self::with_sessions(sdk, config, super::member_accounts::Sessions::ReadOnly)
    }

    #[cfg(feature = "aws")]
    fn with_sessions(
        sdk: &aws_config::SdkConfig,
        config: &RemediationConfig,
        sessions: super::member_accounts::Sessions,
    ) -> Registry {
        Registry {
            actions: super::actions::all(sdk, config),
            members: config.assume_role.as_ref().map(|role| {
                super::member_accounts::MemberAccounts::new(
                    sdk.clone(),
                    config.clone(),
                    role,
                    sessions,
                )
            }),
        }
    }

    /// A registry of exactly `actions` (tests use stand-ins that make no calls).
    pub fn from_actions(actions: Vec<Arc<dyn Action>>) -> Registry {
        Registry {
            actions,
            #[cfg(feature = "aws")]
            members: None,
        }
    }

    /// The implementation of `id`, or `None` when it is not available yet.
    pub fn get(&self, id: ActionId) -> Option<Arc<dyn Action>> {
        self.actions.iter().find(|a| a.id() == id).cloned()
    }

    /// `action` as it must run in `account`: itself, or, with `assume_role`,
    /// the same action calling AWS as that role in the account.
    pub async fn in_account(&self, action: Arc<dyn Action>, account: &str) -> Arc<dyn Action> {
        #[cfg(feature = "aws")]
        if let Some(m) = &self.members {
            return m.action(action.id(), account).await.unwrap_or(action);
        }
        let _ = account;
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_in_the_table_is_in_the_built_in_pack() {
        let pack = crate::detect::ruleset::RuleSet::builtin().unwrap();
        for (rule, _) in RULE_ACTIONS {
            assert!(
                pack.rules().iter().any(|r| r.spec.id == *rule),
                "{rule} is not a built-in rule"
            );
        }
    }

    #[cfg(feature = "aws")]
    #[test]
    fn every_action_is_available() {
        let sdk = aws_config::SdkConfig::builder().build();
        let registry = Registry::new(&sdk, &RemediationConfig::default());
        for id in ActionId::ALL {
            assert!(registry.get(id).is_some(), "{id}");
        }
    }

    #[test]
    fn findings_map_by_control_first_then_rule() {
        let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 5)
            .next()
            .expect("one demo finding");
        f.control_id = None;
        f.generator_id = "aws.s3.bucket-policy-public".into();
        assert_eq!(action_for(&f), Some(ActionId::S3BlockPublicAccess));
        f.generator_id = "aws.kms.key-scheduled-for-deletion".into();
        assert_eq!(action_for(&f), Some(ActionId::KmsCancelKeyDeletion));
        f.generator_id = "aws.s3.bucket-deleted".into();
        assert_eq!(action_for(&f), None);
        f.control_id = Some("S3.8".into());
        assert_eq!(action_for(&f), Some(ActionId::S3BlockPublicAccess));
        f.control_id = Some("EC2.19".into());
        assert_eq!(action_for(&f), Some(ActionId::Ec2RevokeWorldIngress));
        f.control_id = Some("Lambda.1".into());
        assert_eq!(action_for(&f), Some(ActionId::LambdaRemovePublicAccess));
        // The default group must lose every rule: not this action's fix.
        f.control_id = Some("EC2.2".into());
        assert_eq!(action_for(&f), None);
        f.control_id = Some("IAM.1".into());
        assert_eq!(action_for(&f), None);
    }
}
