//! `iam-deactivate-access-key`: an access key created for an IAM user is made
//! inactive (`UpdateAccessKey Status=Inactive`), never deleted: a key in use by
//! something legitimate comes back with one call once a person has looked, and
//! its last use stays readable. The user is the changed principal, so the
//! `protected-principal` guard applies to it. A root user's key cannot be
//! changed by any role: its plan is not applicable and gives the manual steps.

use super::call_error::failed;
use super::iam_principal::{self, Kind, Principal};
use crate::remediate::action::{Action, ActionError, Observed, Proposal};
use crate::remediate::action_id::ActionId;
use crate::remediate::plan::ApiCall;
use crate::remediate::target::{NotApplicable, Target};
use async_trait::async_trait;
use aws_sdk_iam::types::StatusType;
use aws_sdk_iam::Client;
use serde_json::json;
use shared_types::Finding;

/// The ASFF resource type of an access key.
const KEY_TYPE: &str = "AwsIamAccessKey";

/// What a person does about a root user's key (no role can).
pub const ROOT_KEY_STEPS: &str = "a root user's access key can only be changed by the root user: \
sign in as root, open Security credentials, make the key inactive (then delete it unless a \
documented task needs it), confirm who created it, and keep the root credentials locked away \
with MFA";

/// The action, over the SDK configuration its client is built from.
#[derive(Debug, Clone)]
pub struct IamDeactivateAccessKey {
    sdk: aws_config::SdkConfig,
}

/// True for a long-term access key id (`AKIA…`).
fn is_key_id(id: &str) -> bool {
    id.len() >= 16
        && id.len() <= 128
        && id.starts_with("AKIA")
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// True for the root user's ARN (`arn:aws:iam::123456789012:root`).
fn is_root(id: &str) -> bool {
    id.starts_with("arn:") && id.ends_with(":root")
}

/// The fix as the plan shows it; apply rebuilds it from the target and compares.
fn deactivate_call(target: &Target, user: &str) -> ApiCall {
    ApiCall {
        service: "iam".into(),
        operation: "UpdateAccessKey".into(),
        params: json!({"UserName": user, "AccessKeyId": target.resource, "Status": "Inactive"}),
    }
}

impl IamDeactivateAccessKey {
    /// The action calling IAM with `sdk`.
    pub fn new(sdk: aws_config::SdkConfig) -> Self {
        IamDeactivateAccessKey { sdk }
    }

    fn client(&self) -> Client {
        iam_principal::client(&self.sdk)
    }

    /// The user of a target (its `parent`).
    fn user(target: &Target) -> Result<Principal, ActionError> {
        Principal::of_target(target)
            .filter(|p| p.kind == Kind::User)
            .ok_or_else(|| ActionError {
                operation: "UpdateAccessKey",
                resource: target.resource.clone(),
                detail: "the target names no IAM user".into(),
                retryable: false,
            })
    }

    /// The key's status (`Active`, `Inactive`), or `None` when the user has no
    /// such key (deleted since).
    async fn status(
        &self,
        client: &Client,
        user: &str,
        key: &str,
    ) -> Result<Option<String>, ActionError> {
        let keys = client
            .list_access_keys()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| failed("ListAccessKeys", user, &e))?;
        Ok(keys
            .iter()
            .find(|k| k.access_key_id() == Some(key))
            .map(|k| k.status().map_or("?", StatusType::as_str).to_string()))
    }
}

#[async_trait]
impl Action for IamDeactivateAccessKey {
    fn id(&self) -> ActionId {
        ActionId::IamDeactivateAccessKey
    }

    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable> {
        let key = finding
            .resources
            .iter()
            .find(|r| r.resource_type == KEY_TYPE)
            .ok_or(NotApplicable::NoResource(KEY_TYPE))?;
        // Root first: whatever its id looks like, no role can change that key.
        let root = finding.generator_id == "aws.iam.root-access-key-created"
            || finding.resources.iter().any(|r| is_root(&r.id));
        if root {
            return Err(NotApplicable::Manual {
                resource: format!("root access key {}", key.id),
                steps: ROOT_KEY_STEPS,
            });
        }
        if !is_key_id(&key.id) {
            return Err(NotApplicable::ResourceId {
                id: key.id.clone(),
                expected: "a long-term access key id (AKIA…)",
            });
        }
        let (user, arn_account) = iam_principal::of_finding(finding, &[Kind::User])
            .ok_or(NotApplicable::NoResource("AwsIamUser"))?;
        let account = arn_account.as_deref().unwrap_or(&finding.account_id);
        Ok(Target::new(&key.id, &finding.region, account)?.within(&user.parent()))
    }

    async fn observe(&self, target: &Target) -> Result<Observed, ActionError> {
        let user = Self::user(target)?;
        let client = self.client();
        let Some(read) = iam_principal::read(&client, &user, target).await? else {
            return Ok(Observed {
                state: json!({"user": user.name, "user_arn": null,
                              "access_key_id": target.resource, "status": null}),
                ..Observed::default()
            });
        };
        let status = self.status(&client, &user.name, &target.resource).await?;
        Ok(Observed {
            state: json!({"user": user.name, "user_arn": read.arn,
                          "access_key_id": target.resource, "status": status}),
            tags: read.tags,
            principals: vec![read.arn],
        })
    }

    fn plan(&self, target: &Target, observed: &Observed) -> Proposal {
        let key = &target.resource;
        let user = observed.state["user"].as_str().unwrap_or("?");
        match observed.state["status"].as_str() {
            Some("Active") => Proposal {
                calls: vec![deactivate_call(target, user)],
                after: format!(
                    "access key {key} of user {user} is inactive, not deleted (UpdateAccessKey \
                     Status=Active brings it back after review); the user's other keys, \
                     password and policies stay"
                ),
            },
            Some(status) => Proposal {
                calls: Vec::new(),
                after: format!("nothing left to do: access key {key} of user {user} is {status}"),
            },
            None => Proposal {
                calls: Vec::new(),
                after: format!("nothing left to do: user {user} has no access key {key} (deleted)"),
            },
        }
    }

    async fn apply(&self, target: &Target, proposal: &Proposal) -> Result<(), ActionError> {
        if proposal.calls.is_empty() {
            return Ok(());
        }
        let user = Self::user(target)?;
        if proposal.calls != [deactivate_call(target, &user.name)] {
            return Err(ActionError {
                operation: "UpdateAccessKey",
                resource: target.resource.clone(),
                detail: "the proposal is not this action's plan for this key".into(),
                retryable: false,
            });
        }
        self.client()
            .update_access_key()
            .user_name(&user.name)
            .access_key_id(&target.resource)
            .status(StatusType::Inactive)
            .send()
            .await
            .map_err(|e| failed("UpdateAccessKey", &target.resource, &e))?;
        Ok(())
    }

    async fn verify(&self, target: &Target) -> Result<Option<String>, ActionError> {
        let user = Self::user(target)?;
        let status = self
            .status(&self.client(), &user.name, &target.resource)
            .await?;
        Ok(match status.as_deref() {
            Some("Active") => Some(format!("access key {} is still Active", target.resource)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests;
