//! Remediation across accounts: with `assume_role` in the remediation file
//! (`arn:aws:iam::{account}:role/cspm-remediator`), an action on a finding's
//! resource calls AWS as that role in the finding's account, through STS
//! `AssumeRole` from the worker's own credentials. The role must exist in every
//! account remediated (the worker's own included) and trust the worker's role;
//! its permissions are the enabled actions' (`backend/remediation_actions.json`).
//! The actions of one account are built once and kept: their credentials
//! provider renews the role's session itself.

use super::action::Action;
use super::action_id::ActionId;
use super::config::RemediationConfig;
use aws_config::SdkConfig;
// The SDK crates re-export the credential types aws-config builds on.
use aws_sdk_s3::config::SharedCredentialsProvider;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// What the role's sessions are named in the member accounts' CloudTrail:
/// the worker's, which apply.
pub const SESSION_NAME: &str = "cspm-remediator";
/// The sessions of a process that only shows plans and approves (the `api`
/// and `fanout` Lambdas).
pub const PLANNER_SESSION_NAME: &str = "cspm-planner";

/// What the sessions in member accounts may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions {
    /// Whatever the role may (the worker applies).
    Apply,
    /// Only the actions' reads, whatever the role may: a session policy
    /// (which can only narrow the role's permissions) lists them, so a
    /// process that shows plans cannot change a member account even though
    /// the role it assumes can.
    ReadOnly,
}

/// The session policy of [`Sessions::ReadOnly`].
pub fn read_only_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": super::action_id::every_read(),
            "Resource": "*",
        }],
    })
    .to_string()
}

/// The actions per account, built on first use.
pub struct MemberAccounts {
    base: SdkConfig,
    config: RemediationConfig,
    role_pattern: String,
    sessions: Sessions,
    built: Mutex<HashMap<String, Vec<Arc<dyn Action>>>>,
}

impl MemberAccounts {
    /// Actions assuming `role_pattern` (`{account}` standing for the account
    /// id) from `base`'s credentials, set up by `config`, in `sessions`.
    pub fn new(
        base: SdkConfig,
        config: RemediationConfig,
        role_pattern: &str,
        sessions: Sessions,
    ) -> MemberAccounts {
        MemberAccounts {
            base,
            config,
            role_pattern: role_pattern.to_string(),
            sessions,
            built: Mutex::new(HashMap::new()),
        }
    }

    /// The role assumed in `account`: the planner role, if the file names
    /// one, for read-only sessions; else the role that applies.
    pub fn role_in(&self, account: &str) -> String {
        let pattern = match (self.sessions, &self.config.plan_role) {
            (Sessions::ReadOnly, Some(planner)) => planner,
            _ => &self.role_pattern,
        };
        pattern.replace("{account}", account)
    }

    /// Action `id` calling AWS as the role in `account`. The account id was
    /// checked by the target (twelve digits), so it cannot change the role's
    /// ARN beyond its account.
    pub async fn action(&self, id: ActionId, account: &str) -> Option<Arc<dyn Action>> {
        let mut built = self.built.lock().await;
        if !built.contains_key(account) {
            let role = aws_config::sts::AssumeRoleProvider::builder(self.role_in(account))
                .configure(&self.base);
            let role = match self.sessions {
                Sessions::Apply => role.session_name(SESSION_NAME),
                Sessions::ReadOnly => role
                    .session_name(PLANNER_SESSION_NAME)
                    .policy(read_only_policy()),
            };
            let provider = role.build().await;
            let sdk = self
                .base
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
            built.insert(account.to_string(), super::actions::all(&sdk, &self.config));
        }
        built.get(account)?.iter().find(|a| a.id() == id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planner_session_may_read_every_action_and_change_nothing() {
        let policy: serde_json::Value = serde_json::from_str(&read_only_policy()).unwrap();
        let allowed: Vec<&str> = policy["Statement"][0]["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        for id in ActionId::ALL {
            for a in id.iam_actions() {
                let read = super::super::action_id::is_read(a);
                assert_eq!(allowed.contains(a), read, "{id}: {a}");
            }
        }
        assert!(allowed.contains(&"s3:GetBucketPublicAccessBlock"));
        assert!(!allowed.contains(&"s3:PutBucketPublicAccessBlock"));
        // STS refuses a packed session policy over 2,048 characters.
        assert!(
            read_only_policy().len() < 2048,
            "{}",
            read_only_policy().len()
        );
    }
}
