//! `iam-delete-inline-policy`: a dangerous inline policy written to a user, role
//! or group (`Put{User,Role,Group}Policy`) is deleted, after its document has
//! been kept in the remediation record with the `Put…Policy` call that puts it
//! back. Only while the policy analyzer still finds a risk in the document as
//! read now: a policy rewritten to a safe one since the finding is left alone.
//! The principal's other policies stay.

use super::call_error::failed;
use super::iam_document;
use super::iam_principal::{self, Kind, Principal};
use crate::remediate::action::{Action, ActionError, Observed, Proposal};
use crate::remediate::action_id::ActionId;
use crate::remediate::plan::ApiCall;
use crate::remediate::target::{NotApplicable, Target};
use async_trait::async_trait;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::Client;
use serde_json::{json, Value};
use shared_types::Finding;

/// The action, over the SDK configuration its client is built from.
#[derive(Debug, Clone)]
pub struct IamDeleteInlinePolicy {
    sdk: aws_config::SdkConfig,
}

/// What a finding says was written: the CloudTrail record's `Put…Policy` call
/// (inside an EventBridge envelope or bare), as (principal kind, policy name).
fn written(finding: &Finding) -> Option<(Kind, String)> {
    let record = super::event_record::of(finding)?;
    let kind = match record.get("eventName")?.as_str()? {
        "PutUserPolicy" => Kind::User,
        "PutRolePolicy" => Kind::Role,
        "PutGroupPolicy" => Kind::Group,
        _ => return None,
    };
    let name = record.pointer("/requestParameters/policyName")?.as_str()?;
    let valid = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    valid.then(|| (kind, name.to_string()))
}

/// `{Delete,Put}{User,Role,Group}Policy` for `p`'s policy `name`.
fn call(operation: &str, p: &Principal, name: &str, document: Option<&Value>) -> ApiCall {
    let mut params = p.params("PolicyName", json!(name));
    if let Some(doc) = document {
        params["PolicyDocument"] = json!(iam_document::as_text(doc));
    }
    ApiCall {
        service: "iam".into(),
        operation: format!("{operation}{}Policy", p.capital()),
        params,
    }
}

impl IamDeleteInlinePolicy {
    /// The action calling IAM with `sdk`.
    pub fn new(sdk: aws_config::SdkConfig) -> Self {
        IamDeleteInlinePolicy { sdk }
    }

    fn principal(target: &Target) -> Result<Principal, ActionError> {
        Principal::of_target(target).ok_or_else(|| ActionError {
            operation: "DeletePolicy",
            resource: target.resource.clone(),
            detail: "the target names no IAM user, role or group".into(),
            retryable: false,
        })
    }

    /// The inline policy's document, or `None` when `p` has no such policy.
    async fn document(
        &self,
        c: &Client,
        p: &Principal,
        policy: &str,
    ) -> Result<Option<Value>, ActionError> {
        let name = &p.name;
        match p.kind {
            Kind::User => found(
                "GetUserPolicy",
                name,
                c.get_user_policy()
                    .user_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map(|o| o.policy_document().to_string()),
            ),
            Kind::Role => found(
                "GetRolePolicy",
                name,
                c.get_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map(|o| o.policy_document().to_string()),
            ),
            Kind::Group => found(
                "GetGroupPolicy",
                name,
                c.get_group_policy()
                    .group_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map(|o| o.policy_document().to_string()),
            ),
        }
    }
}

/// A `Get…Policy` answer as the decoded document, `None` for `NoSuchEntity`.
fn found<E>(
    operation: &'static str,
    principal: &str,
    got: Result<String, SdkError<E, HttpResponse>>,
) -> Result<Option<Value>, ActionError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match got {
        Ok(doc) => Ok(Some(iam_document::decode(&doc))),
        Err(e) if e.code() == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(failed(operation, principal, &e)),
    }
}

#[async_trait]
impl Action for IamDeleteInlinePolicy {
    fn id(&self) -> ActionId {
        ActionId::IamDeleteInlinePolicy
    }

    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable> {
        let (kind, policy) = written(finding).ok_or(NotApplicable::NoResource(
            "inline policy (a PutUserPolicy, PutRolePolicy or PutGroupPolicy call)",
        ))?;
        let (p, arn_account) = iam_principal::of_finding(finding, &[kind]).ok_or(
            NotApplicable::NoResource("AwsIamUser, AwsIamRole or AwsIamGroup"),
        )?;
        let account = arn_account.as_deref().unwrap_or(&finding.account_id);
        Ok(Target::new(&policy, &finding.region, account)?.within(&p.parent()))
    }

    async fn observe(&self, target: &Target) -> Result<Observed, ActionError> {
        let p = Self::principal(target)?;
        let c = iam_principal::client(&self.sdk);
        let Some(read) = iam_principal::read(&c, &p, target).await? else {
            return Ok(Observed {
                state: json!({"principal": p.parent(), "principal_arn": null,
                              "policy_name": target.resource, "policy_document": null,
                              "risks": []}),
                ..Observed::default()
            });
        };
        let doc = self.document(&c, &p, &target.resource).await?;
        let risks = doc
            .as_ref()
            .map(|d| iam_document::risks(d, &target.account))
            .unwrap_or_default();
        Ok(Observed {
            state: json!({"principal": p.parent(), "principal_arn": read.arn,
                          "policy_name": target.resource, "policy_document": doc,
                          "risks": risks}),
            tags: read.tags,
            principals: vec![read.arn],
        })
    }

    fn plan(&self, target: &Target, observed: &Observed) -> Proposal {
        let name = &target.resource;
        let Some(p) = Principal::of_target(target) else {
            return Proposal {
                calls: Vec::new(),
                after: "nothing to do: the target names no principal".into(),
            };
        };
        let who = format!("{} {}", p.kind.as_str(), p.name);
        let s = &observed.state;
        if s["policy_document"].is_null() {
            return Proposal {
                calls: Vec::new(),
                after: format!("nothing left to do: {who} has no inline policy {name}"),
            };
        }
        let risks: Vec<&str> = s["risks"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if risks.is_empty() {
            return Proposal {
                calls: Vec::new(),
                after: format!(
                    "nothing left to do: inline policy {name} of {who} no longer grants too much"
                ),
            };
        }
        Proposal {
            calls: vec![call("Delete", &p, name, None)],
            after: format!(
                "inline policy {name} ({}) of {who} is deleted; its document is kept in the \
                 remediation record with the Put{}Policy call that restores it; the {}'s other \
                 policies stay",
                risks.join(", "),
                p.capital(),
                p.kind.as_str()
            ),
        }
    }

    fn record(&self, target: &Target, observed: &Observed) -> Option<Value> {
        let p = Principal::of_target(target)?;
        let doc = observed
            .state
            .get("policy_document")
            .filter(|d| !d.is_null())?;
        let mut saved = observed.state.clone();
        saved["restore"] =
            serde_json::to_value(call("Put", &p, &target.resource, Some(doc))).ok()?;
        Some(saved)
    }

    async fn apply(&self, target: &Target, proposal: &Proposal) -> Result<(), ActionError> {
        if proposal.calls.is_empty() {
            return Ok(());
        }
        let p = Self::principal(target)?;
        let policy = &target.resource;
        if proposal.calls != [call("Delete", &p, policy, None)] {
            return Err(ActionError {
                operation: "DeletePolicy",
                resource: policy.clone(),
                detail: "the proposal is not this action's plan for this principal".into(),
                retryable: false,
            });
        }
        let c = iam_principal::client(&self.sdk);
        let name = &p.name;
        match p.kind {
            Kind::User => c
                .delete_user_policy()
                .user_name(name)
                .policy_name(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| failed("DeleteUserPolicy", name, &e)),
            Kind::Role => c
                .delete_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| failed("DeleteRolePolicy", name, &e)),
            Kind::Group => c
                .delete_group_policy()
                .group_name(name)
                .policy_name(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| failed("DeleteGroupPolicy", name, &e)),
        }
    }

    async fn verify(&self, target: &Target) -> Result<Option<String>, ActionError> {
        let p = Self::principal(target)?;
        let c = iam_principal::client(&self.sdk);
        let left = self.document(&c, &p, &target.resource).await?;
        Ok(left.map(|_| {
            format!(
                "inline policy {} of {} is still there",
                target.resource,
                p.parent()
            )
        }))
    }
}

#[cfg(test)]
mod tests;
