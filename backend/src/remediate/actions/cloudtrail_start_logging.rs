//! `cloudtrail-start-logging`: a trail whose logging was stopped (`StopLogging`)
//! logs again (`StartLogging`); its configuration (bucket, selectors, regions)
//! stays as it was. A deleted trail (`DeleteTrail`) cannot be started: its plan
//! is not applicable and says how to recreate it. What happened while it was
//! stopped is not in the trail, whatever the fix.

use super::call_error::failed;
use super::event_record;
use crate::remediate::action::{Action, ActionError, Observed, Proposal};
use crate::remediate::action_id::ActionId;
use crate::remediate::plan::ApiCall;
use crate::remediate::target::{NotApplicable, Target};
use async_trait::async_trait;
use aws_sdk_cloudtrail::Client;
use serde_json::{json, Value};
use shared_types::Finding;
use std::collections::BTreeMap;

/// The ASFF resource type of a trail.
const TRAIL_TYPE: &str = "AwsCloudTrailTrail";

/// What a person does about a deleted trail.
pub const DELETED_TRAIL_STEPS: &str = "a deleted trail cannot be restarted: recreate it \
(CreateTrail with its former bucket and settings, then StartLogging), and find out who deleted it";

/// The action, over the SDK configuration its clients are built from.
#[derive(Debug, Clone)]
pub struct CloudtrailStartLogging {
    sdk: aws_config::SdkConfig,
}

/// The trail name in a resource id (a name or a trail ARN) with the ARN's
/// region and account.
pub fn trail_name(id: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let valid = |n: &str| {
        (3..=128).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    let Some(rest) = id.strip_prefix("arn:") else {
        return valid(id).then_some((id, None, None));
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [_, "cloudtrail", region, account, resource] = parts[..] else {
        return None;
    };
    let name = resource.strip_prefix("trail/")?;
    valid(name).then_some((name, Some(region), Some(account)))
}

fn start_call(target: &Target) -> ApiCall {
    ApiCall {
        service: "cloudtrail".into(),
        operation: "StartLogging".into(),
        params: json!({"Name": target.resource}),
    }
}

impl CloudtrailStartLogging {
    /// The action calling CloudTrail with `sdk`.
    pub fn new(sdk: aws_config::SdkConfig) -> Self {
        CloudtrailStartLogging { sdk }
    }

    /// A client for the trail's region (a trail is stopped and started in its
    /// home region).
    fn client(&self, target: &Target) -> Client {
        let conf = aws_sdk_cloudtrail::config::Builder::from(&self.sdk)
            .region(aws_sdk_cloudtrail::config::Region::new(
                target.region.clone(),
            ))
            .build();
        Client::from_conf(conf)
    }

    /// True when the trail is logging.
    async fn is_logging(&self, c: &Client, target: &Target) -> Result<bool, ActionError> {
        let out = c
            .get_trail_status()
            .name(&target.resource)
            .send()
            .await
            .map_err(|e| failed("GetTrailStatus", &target.resource, &e))?;
        Ok(out.is_logging() == Some(true))
    }
}

#[async_trait]
impl Action for CloudtrailStartLogging {
    fn id(&self) -> ActionId {
        ActionId::CloudtrailStartLogging
    }

    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable> {
        let resource = finding
            .resources
            .iter()
            .find(|r| r.resource_type == TRAIL_TYPE)
            .ok_or(NotApplicable::NoResource(TRAIL_TYPE))?;
        if event_record::event_name(finding) == Some("DeleteTrail") {
            return Err(NotApplicable::Manual {
                resource: format!("deleted trail {}", resource.id),
                steps: DELETED_TRAIL_STEPS,
            });
        }
        let (name, arn_region, arn_account) =
            trail_name(&resource.id).ok_or_else(|| NotApplicable::ResourceId {
                id: resource.id.clone(),
                expected: "a trail name or trail ARN",
            })?;
        let region = arn_region
            .or(resource.region.as_deref())
            .unwrap_or(&finding.region);
        Target::new(name, region, arn_account.unwrap_or(&finding.account_id))
    }

    async fn observe(&self, target: &Target) -> Result<Observed, ActionError> {
        let c = self.client(target);
        let name = &target.resource;
        let out = c
            .describe_trails()
            .trail_name_list(name)
            .send()
            .await
            .map_err(|e| failed("DescribeTrails", name, &e))?;
        let trail = out
            .trail_list()
            .iter()
            .find(|t| t.name() == Some(name.as_str()))
            .ok_or_else(|| ActionError {
                operation: "DescribeTrails",
                resource: name.clone(),
                detail: format!("no trail {name} in {}", target.region),
                retryable: false,
            })?;
        let arn = trail.trail_arn().unwrap_or_default().to_string();
        let account = arn.split(':').nth(4).unwrap_or_default();
        if account != target.account {
            return Err(ActionError {
                operation: "DescribeTrails",
                resource: arn.clone(),
                detail: format!(
                    "belongs to account {account:?}, not the finding's {}",
                    target.account
                ),
                retryable: false,
            });
        }
        let tags_out = c
            .list_tags()
            .resource_id_list(&arn)
            .send()
            .await
            .map_err(|e| failed("ListTags", name, &e))?;
        let tags: BTreeMap<String, String> = tags_out
            .resource_tag_list()
            .iter()
            .flat_map(|r| r.tags_list())
            .map(|t| (t.key().to_string(), t.value().unwrap_or("").to_string()))
            .collect();
        let logging = self.is_logging(&c, target).await?;
        Ok(Observed {
            state: json!({"trail": name, "trail_arn": arn,
                          "home_region": trail.home_region(), "is_logging": logging}),
            tags,
            principals: Vec::new(),
        })
    }

    fn plan(&self, target: &Target, observed: &Observed) -> Proposal {
        let name = &target.resource;
        if observed.state["is_logging"] == Value::Bool(true) {
            return Proposal {
                calls: Vec::new(),
                after: format!("nothing left to do: trail {name} is logging"),
            };
        }
        Proposal {
            calls: vec![start_call(target)],
            after: format!(
                "trail {name} logs again; its bucket, selectors and regions stay as they were \
                 (what happened while it was stopped is not in it)"
            ),
        }
    }

    async fn apply(&self, target: &Target, proposal: &Proposal) -> Result<(), ActionError> {
        if proposal.calls.is_empty() {
            return Ok(());
        }
        if proposal.calls != [start_call(target)] {
            return Err(ActionError {
                operation: "StartLogging",
                resource: target.resource.clone(),
                detail: "the proposal is not this action's plan for this trail".into(),
                retryable: false,
            });
        }
        self.client(target)
            .start_logging()
            .name(&target.resource)
            .send()
            .await
            .map_err(|e| failed("StartLogging", &target.resource, &e))?;
        Ok(())
    }

    async fn verify(&self, target: &Target) -> Result<Option<String>, ActionError> {
        let logging = self.is_logging(&self.client(target), target).await?;
        Ok((!logging).then(|| format!("trail {} is still not logging", target.resource)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names_come_from_names_or_arns() {
        assert_eq!(trail_name("main-trail"), Some(("main-trail", None, None)));
        assert_eq!(
            trail_name("arn:aws:cloudtrail:eu-west-1:111122223333:trail/org.trail"),
            Some(("org.trail", Some("eu-west-1"), Some("111122223333")))
        );
        for bad in [
            "ab",
            "a b",
            "arn:aws:s3:::bucket",
            "arn:aws:cloudtrail:r:1:eventdatastore/x",
        ] {
            assert_eq!(trail_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_deleted_trail_is_manual_a_stopped_one_the_target() {
        let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
            .next()
            .expect("one demo finding");
        f.account_id = "111122223333".into();
        f.region = "us-east-1".into();
        f.resources = vec![shared_types::Resource {
            resource_type: TRAIL_TYPE.into(),
            id: "main".into(),
            partition: None,
            region: None,
        }];
        let a = CloudtrailStartLogging::new(aws_config::SdkConfig::builder().build());
        f.raw = json!({"detail": {"eventName": "StopLogging"}});
        assert_eq!(
            a.target(&f),
            Target::new("main", "us-east-1", "111122223333")
        );
        f.raw = json!({"eventName": "DeleteTrail"});
        let err = a.target(&f).unwrap_err();
        assert!(err.to_string().contains("recreate it"), "{err}");
    }

    #[test]
    fn a_stopped_trail_plans_start_logging_and_a_logging_one_nothing() {
        let a = CloudtrailStartLogging::new(aws_config::SdkConfig::builder().build());
        let t = Target::new("main", "us-east-1", "111122223333").unwrap();
        let o = |on: bool| Observed {
            state: json!({"trail": "main", "is_logging": on}),
            ..Observed::default()
        };
        assert_eq!(a.plan(&t, &o(false)).calls, vec![start_call(&t)]);
        assert_eq!(start_call(&t).params, json!({"Name": "main"}));
        assert!(a.plan(&t, &o(true)).calls.is_empty());
    }
}
