//! `kms-cancel-key-deletion`: a customer managed key scheduled for deletion
//! (`ScheduleKeyDeletion`) has the deletion cancelled (`CancelKeyDeletion`).
//! AWS leaves a key whose deletion was cancelled `Disabled`; whether it was in
//! use before is not known here, so enabling it is left to a person (the plan
//! says so). A key only disabled (`DisableKey`, the same rule) has nothing to
//! cancel: its plan is not applicable and names `EnableKey`.

use super::call_error::failed;
use super::event_record;
use crate::remediate::action::{Action, ActionError, Observed, Proposal};
use crate::remediate::action_id::ActionId;
use crate::remediate::plan::ApiCall;
use crate::remediate::target::{NotApplicable, Target};
use async_trait::async_trait;
use aws_sdk_kms::Client;
use serde_json::json;
use shared_types::Finding;
use std::collections::BTreeMap;

/// The ASFF resource type of a KMS key.
const KEY_TYPE: &str = "AwsKmsKey";

/// What a person does about a disabled key.
pub const DISABLED_KEY_STEPS: &str = "a disabled key has no deletion to cancel: if it is \
still needed, enable it (EnableKey) after finding out who disabled it";

/// The action, over the SDK configuration its clients are built from.
#[derive(Debug, Clone)]
pub struct KmsCancelKeyDeletion {
    sdk: aws_config::SdkConfig,
}

/// The key id in a resource id (a key id or key ARN; an alias names no key for
/// good, so it is refused) with the ARN's region and account.
pub fn key_id(id: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let valid = |k: &str| {
        (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let Some(rest) = id.strip_prefix("arn:") else {
        return valid(id).then_some((id, None, None));
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [_, "kms", region, account, resource] = parts[..] else {
        return None;
    };
    let key = resource.strip_prefix("key/")?;
    valid(key).then_some((key, Some(region), Some(account)))
}

fn cancel_call(target: &Target) -> ApiCall {
    ApiCall {
        service: "kms".into(),
        operation: "CancelKeyDeletion".into(),
        params: json!({"KeyId": target.resource}),
    }
}

impl KmsCancelKeyDeletion {
    /// The action calling KMS with `sdk`.
    pub fn new(sdk: aws_config::SdkConfig) -> Self {
        KmsCancelKeyDeletion { sdk }
    }

    fn client(&self, target: &Target) -> Client {
        let conf = aws_sdk_kms::config::Builder::from(&self.sdk)
            .region(aws_sdk_kms::config::Region::new(target.region.clone()))
            .build();
        Client::from_conf(conf)
    }

    /// The key's state (`PendingDeletion`, `Disabled`, …) and ARN, after
    /// checking it is the target account's.
    async fn state(&self, c: &Client, target: &Target) -> Result<(String, String), ActionError> {
        let key = &target.resource;
        let out = c
            .describe_key()
            .key_id(key)
            .send()
            .await
            .map_err(|e| failed("DescribeKey", key, &e))?;
        let meta = out.key_metadata().ok_or_else(|| ActionError {
            operation: "DescribeKey",
            resource: key.clone(),
            detail: "no key metadata in the answer".into(),
            retryable: false,
        })?;
        if meta.aws_account_id() != Some(target.account.as_str()) {
            return Err(ActionError {
                operation: "DescribeKey",
                resource: key.clone(),
                detail: format!(
                    "belongs to account {:?}, not the finding's {}",
                    meta.aws_account_id().unwrap_or("?"),
                    target.account
                ),
                retryable: false,
            });
        }
        let state = meta.key_state().map_or("?", |s| s.as_str()).to_string();
        Ok((state, meta.arn().unwrap_or_default().to_string()))
    }
}

#[async_trait]
impl Action for KmsCancelKeyDeletion {
    fn id(&self) -> ActionId {
        ActionId::KmsCancelKeyDeletion
    }

    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable> {
        let resource = finding
            .resources
            .iter()
            .find(|r| r.resource_type == KEY_TYPE)
            .ok_or(NotApplicable::NoResource(KEY_TYPE))?;
        if event_record::event_name(finding) == Some("DisableKey") {
            return Err(NotApplicable::Manual {
                resource: format!("disabled key {}", resource.id),
                steps: DISABLED_KEY_STEPS,
            });
        }
        let (key, arn_region, arn_account) =
            key_id(&resource.id).ok_or_else(|| NotApplicable::ResourceId {
                id: resource.id.clone(),
                expected: "a KMS key id or key ARN",
            })?;
        let region = arn_region
            .or(resource.region.as_deref())
            .unwrap_or(&finding.region);
        Target::new(key, region, arn_account.unwrap_or(&finding.account_id))
    }

    async fn observe(&self, target: &Target) -> Result<Observed, ActionError> {
        let c = self.client(target);
        let (state, arn) = self.state(&c, target).await?;
        let key = &target.resource;
        let tags: BTreeMap<String, String> = c
            .list_resource_tags()
            .key_id(key)
            .send()
            .await
            .map_err(|e| failed("ListResourceTags", key, &e))?
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
            .collect();
        Ok(Observed {
            state: json!({"key_id": key, "key_arn": arn, "key_state": state}),
            tags,
            principals: Vec::new(),
        })
    }

    fn plan(&self, target: &Target, observed: &Observed) -> Proposal {
        let key = &target.resource;
        match observed.state["key_state"].as_str() {
            Some("PendingDeletion") => Proposal {
                calls: vec![cancel_call(target)],
                after: format!(
                    "key {key} is no longer scheduled for deletion; AWS leaves it Disabled: \
                     EnableKey makes it usable again if it was in use"
                ),
            },
            state => Proposal {
                calls: Vec::new(),
                after: format!(
                    "nothing left to do: key {key} is {} (not pending deletion)",
                    state.unwrap_or("?")
                ),
            },
        }
    }

    async fn apply(&self, target: &Target, proposal: &Proposal) -> Result<(), ActionError> {
        if proposal.calls.is_empty() {
            return Ok(());
        }
        if proposal.calls != [cancel_call(target)] {
            return Err(ActionError {
                operation: "CancelKeyDeletion",
                resource: target.resource.clone(),
                detail: "the proposal is not this action's plan for this key".into(),
                retryable: false,
            });
        }
        self.client(target)
            .cancel_key_deletion()
            .key_id(&target.resource)
            .send()
            .await
            .map_err(|e| failed("CancelKeyDeletion", &target.resource, &e))?;
        Ok(())
    }

    async fn verify(&self, target: &Target) -> Result<Option<String>, ActionError> {
        let (state, _) = self.state(&self.client(target), target).await?;
        Ok((state == "PendingDeletion")
            .then(|| format!("key {} is still pending deletion", target.resource)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_come_from_ids_or_key_arns_never_aliases() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(key_id(id), Some((id, None, None)));
        assert_eq!(
            key_id(&format!("arn:aws:kms:us-west-2:111122223333:key/{id}")),
            Some((id, Some("us-west-2"), Some("111122223333")))
        );
        assert_eq!(key_id("alias/prod"), None);
        assert_eq!(
            key_id("arn:aws:kms:us-west-2:111122223333:alias/prod"),
            None
        );
    }

    #[test]
    fn a_disabled_key_is_manual_a_scheduled_one_the_target() {
        let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
            .next()
            .expect("one demo finding");
        f.account_id = "111122223333".into();
        f.region = "us-east-1".into();
        f.resources = vec![shared_types::Resource {
            resource_type: KEY_TYPE.into(),
            id: "arn:aws:kms:us-west-2:111122223333:key/k-1".into(),
            partition: None,
            region: None,
        }];
        let a = KmsCancelKeyDeletion::new(aws_config::SdkConfig::builder().build());
        f.raw = json!({"eventName": "ScheduleKeyDeletion"});
        assert_eq!(
            a.target(&f),
            Target::new("k-1", "us-west-2", "111122223333")
        );
        f.raw = json!({"eventName": "DisableKey"});
        let err = a.target(&f).unwrap_err();
        assert!(err.to_string().contains("EnableKey"), "{err}");
    }

    #[test]
    fn only_a_key_pending_deletion_plans_a_cancel() {
        let a = KmsCancelKeyDeletion::new(aws_config::SdkConfig::builder().build());
        let t = Target::new("k-1", "us-east-1", "111122223333").unwrap();
        let o = |s: &str| Observed {
            state: json!({"key_id": "k-1", "key_state": s}),
            ..Observed::default()
        };
        let p = a.plan(&t, &o("PendingDeletion"));
        assert_eq!(p.calls, vec![cancel_call(&t)]);
        assert!(p.after.contains("Disabled"), "{}", p.after);
        for done in ["Enabled", "Disabled"] {
            assert!(a.plan(&t, &o(done)).calls.is_empty(), "{done}");
        }
    }
}
