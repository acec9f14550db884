//! `iam-detach-admin-policy`: a managed admin policy (AdministratorAccess,
//! IAMFullAccess, PowerUserAccess) attached to a user, role or group is
//! detached from that principal only; the policy itself, the principal's other
//! policies and every other attachment stay. The policy's default version
//! document goes into the remediation record with the call that restores the
//! attachment, so a person can put it back as it was.

use super::call_error::failed;
use super::iam_document;
use super::iam_principal::{self, Kind, Principal};
use crate::remediate::action::{Action, ActionError, Observed, Proposal};
use crate::remediate::action_id::ActionId;
use crate::remediate::plan::ApiCall;
use crate::remediate::target::{NotApplicable, Target};
use async_trait::async_trait;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::Client;
use serde_json::{json, Value};
use shared_types::Finding;

/// The ASFF resource type of a managed policy.
const POLICY_TYPE: &str = "AwsIamPolicy";

/// The action, over the SDK configuration its client is built from.
#[derive(Debug, Clone)]
pub struct IamDetachAdminPolicy {
    sdk: aws_config::SdkConfig,
}

/// True for a managed policy ARN (`arn:aws:iam::aws:policy/AdministratorAccess`,
/// or a customer policy `arn:aws:iam::123456789012:policy/path/name`).
fn is_policy_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(5, ':').collect();
    matches!(parts[..], ["arn", _, "iam", "", rest] if rest.split_once(":policy/").is_some_and(|(owner, name)| {
        (owner == "aws" || crate::remediate::target::is_account_id(owner)) && !name.is_empty()
    }))
}

/// `Detach{User,Role,Group}Policy` for `p` and `policy`.
fn call(operation: &str, p: &Principal, policy: &str) -> ApiCall {
    ApiCall {
        service: "iam".into(),
        operation: format!("{operation}{}Policy", p.capital()),
        params: p.params("PolicyArn", json!(policy)),
    }
}

impl IamDetachAdminPolicy {
    /// The action calling IAM with `sdk`.
    pub fn new(sdk: aws_config::SdkConfig) -> Self {
        IamDetachAdminPolicy { sdk }
    }

    fn principal(target: &Target) -> Result<Principal, ActionError> {
        Principal::of_target(target).ok_or_else(|| ActionError {
            operation: "DetachPolicy",
            resource: target.resource.clone(),
            detail: "the target names no IAM user, role or group".into(),
            retryable: false,
        })
    }

    /// True when `policy` is attached to `p`.
    async fn attached(&self, c: &Client, p: &Principal, policy: &str) -> Result<bool, ActionError> {
        let name = &p.name;
        let arns: Vec<String> = match p.kind {
            Kind::User => c
                .list_attached_user_policies()
                .user_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| failed("ListAttachedUserPolicies", name, &e))?,
            Kind::Role => c
                .list_attached_role_policies()
                .role_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| failed("ListAttachedRolePolicies", name, &e))?,
            Kind::Group => c
                .list_attached_group_policies()
                .group_name(name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| failed("ListAttachedGroupPolicies", name, &e))?,
        }
        .iter()
        .filter_map(|a| a.policy_arn().map(str::to_string))
        .collect();
        Ok(arns.iter().any(|a| a == policy))
    }

    /// The policy's default version id and document (`null`s when it is gone).
    async fn document(&self, c: &Client, policy: &str) -> Result<(Value, Value), ActionError> {
        let version = match c.get_policy().policy_arn(policy).send().await {
            Ok(o) => o
                .policy()
                .and_then(|p| p.default_version_id())
                .map(str::to_string),
            Err(e) if e.code() == Some("NoSuchEntity") => None,
            Err(e) => return Err(failed("GetPolicy", policy, &e)),
        };
        let Some(version) = version else {
            return Ok((Value::Null, Value::Null));
        };
        let out = c
            .get_policy_version()
            .policy_arn(policy)
            .version_id(&version)
            .send()
            .await
            .map_err(|e| failed("GetPolicyVersion", policy, &e))?;
        let doc = out
            .policy_version()
            .and_then(|v| v.document())
            .map_or(Value::Null, iam_document::decode);
        Ok((json!(version), doc))
    }
}

#[async_trait]
impl Action for IamDetachAdminPolicy {
    fn id(&self) -> ActionId {
        ActionId::IamDetachAdminPolicy
    }

    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable> {
        let policy = finding
            .resources
            .iter()
            .find(|r| r.resource_type == POLICY_TYPE)
            .ok_or(NotApplicable::NoResource(POLICY_TYPE))?;
        if !is_policy_arn(&policy.id) {
            return Err(NotApplicable::ResourceId {
                id: policy.id.clone(),
                expected: "a managed policy ARN",
            });
        }
        let (p, arn_account) =
            iam_principal::of_finding(finding, &[Kind::User, Kind::Role, Kind::Group]).ok_or(
                NotApplicable::NoResource("AwsIamUser, AwsIamRole or AwsIamGroup"),
            )?;
        let account = arn_account.as_deref().unwrap_or(&finding.account_id);
        Ok(Target::new(&policy.id, &finding.region, account)?.within(&p.parent()))
    }

    async fn observe(&self, target: &Target) -> Result<Observed, ActionError> {
        let p = Self::principal(target)?;
        let c = iam_principal::client(&self.sdk);
        let policy = &target.resource;
        let read = iam_principal::read(&c, &p, target).await?;
        let attached = match &read {
            Some(_) => self.attached(&c, &p, policy).await?,
            None => false,
        };
        let (version, doc) = self.document(&c, policy).await?;
        let (tags, principals, arn) = match read {
            Some(r) => (r.tags, vec![r.arn.clone()], json!(r.arn)),
            None => (Default::default(), Vec::new(), Value::Null),
        };
        Ok(Observed {
            state: json!({"principal": p.parent(), "principal_arn": arn, "policy_arn": policy,
                          "attached": attached, "policy_version": version,
                          "policy_document": doc}),
            tags,
            principals,
        })
    }

    fn plan(&self, target: &Target, observed: &Observed) -> Proposal {
        let policy = &target.resource;
        let Some(p) = Principal::of_target(target) else {
            return Proposal {
                calls: Vec::new(),
                after: "nothing to do: the target names no principal".into(),
            };
        };
        let who = format!("{} {}", p.kind.as_str(), p.name);
        if observed.state["attached"] != Value::Bool(true) {
            return Proposal {
                calls: Vec::new(),
                after: format!("nothing left to do: {policy} is not attached to {who}"),
            };
        }
        Proposal {
            calls: vec![call("Detach", &p, policy)],
            after: format!(
                "{policy} is detached from {who}; the policy itself, its other attachments and \
                 the {}'s other policies stay; its document is kept in the remediation record \
                 with the Attach{}Policy call that restores it",
                p.kind.as_str(),
                p.capital()
            ),
        }
    }

    fn record(&self, target: &Target, observed: &Observed) -> Option<Value> {
        let p = Principal::of_target(target)?;
        let mut saved = observed.state.clone();
        saved["restore"] = serde_json::to_value(call("Attach", &p, &target.resource)).ok()?;
        Some(saved)
    }

    async fn apply(&self, target: &Target, proposal: &Proposal) -> Result<(), ActionError> {
        if proposal.calls.is_empty() {
            return Ok(());
        }
        let p = Self::principal(target)?;
        let policy = &target.resource;
        if proposal.calls != [call("Detach", &p, policy)] {
            return Err(ActionError {
                operation: "DetachPolicy",
                resource: policy.clone(),
                detail: "the proposal is not this action's plan for this principal".into(),
                retryable: false,
            });
        }
        let c = iam_principal::client(&self.sdk);
        let name = &p.name;
        match p.kind {
            Kind::User => c
                .detach_user_policy()
                .user_name(name)
                .policy_arn(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| failed("DetachUserPolicy", name, &e)),
            Kind::Role => c
                .detach_role_policy()
                .role_name(name)
                .policy_arn(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| failed("DetachRolePolicy", name, &e)),
            Kind::Group => c
                .detach_group_policy()
                .group_name(name)
                .policy_arn(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| failed("DetachGroupPolicy", name, &e)),
        }
    }

    async fn verify(&self, target: &Target) -> Result<Option<String>, ActionError> {
        let p = Self::principal(target)?;
        let c = iam_principal::client(&self.sdk);
        let still = self.attached(&c, &p, &target.resource).await?;
        Ok(still.then(|| format!("{} is still attached to {}", target.resource, p.parent())))
    }
}

#[cfg(test)]
mod tests;
