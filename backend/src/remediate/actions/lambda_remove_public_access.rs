//! `lambda-remove-public-access`: a Lambda function anyone can invoke loses
//! exactly what makes it public: each resource-policy statement that allows
//! principal `*` with nothing pinning the caller (no `aws:SourceArn`,
//! `aws:SourceAccount` or `aws:PrincipalOrgID` condition) is removed by its
//! statement id (`RemovePermission`), and a function URL with auth type `NONE`
//! is set to `AWS_IAM` (`UpdateFunctionUrlConfig`). Grants to services for one
//! source, to accounts or to the organization stay; the removed statements go
//! into the remediation record.

use super::call_error::failed;
use crate::remediate::action::{Action, ActionError, Observed, Proposal};
use crate::remediate::action_id::ActionId;
use crate::remediate::plan::ApiCall;
use crate::remediate::target::{NotApplicable, Target};
use async_trait::async_trait;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::types::FunctionUrlAuthType;
use aws_sdk_lambda::Client;
use serde_json::{json, Value};
use shared_types::Finding;

/// The ASFF resource type of a function.
const FUNCTION_TYPE: &str = "AwsLambdaFunction";
/// Condition keys that pin who may use a `*` grant (compared lowercase).
const PINNING_KEYS: [&str; 3] = ["aws:sourcearn", "aws:sourceaccount", "aws:principalorgid"];

/// The action, over the SDK configuration its clients are built from.
#[derive(Debug, Clone)]
pub struct LambdaRemovePublicAccess {
    sdk: aws_config::SdkConfig,
}

/// The function name in a resource id (a name or a function ARN, qualifier
/// dropped: the unqualified function's policy is the one changed) with the
/// ARN's region and account.
pub fn function_name(id: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let valid = |n: &str| {
        (1..=64).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let Some(rest) = id.strip_prefix("arn:") else {
        return valid(id).then_some((id, None, None));
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let [_, "lambda", region, account, "function", name, ..] = parts[..] else {
        return None;
    };
    valid(name).then_some((name, Some(region), Some(account)))
}

/// True when `st` lets anyone invoke: Allow, principal `*`, no pinning condition.
pub fn is_public(st: &Value) -> bool {
    let anyone = |p: &Value| match p {
        Value::String(s) => s == "*",
        Value::Array(a) => a.iter().any(|x| x == "*"),
        _ => false,
    };
    let principal = &st["Principal"];
    let open = anyone(principal) || anyone(&principal["AWS"]);
    let pinned = st["Condition"].as_object().is_some_and(|ops| {
        ops.values()
            .filter_map(Value::as_object)
            .flat_map(|m| m.keys())
            .any(|k| PINNING_KEYS.contains(&k.to_ascii_lowercase().as_str()))
    });
    st["Effect"] == "Allow" && open && !pinned
}

fn remove_call(function: &str, sid: &str) -> ApiCall {
    ApiCall {
        service: "lambda".into(),
        operation: "RemovePermission".into(),
        params: json!({"FunctionName": function, "StatementId": sid}),
    }
}

fn url_call(function: &str) -> ApiCall {
    ApiCall {
        service: "lambda".into(),
        operation: "UpdateFunctionUrlConfig".into(),
        params: json!({"FunctionName": function, "AuthType": "AWS_IAM"}),
    }
}

/// The statements of an observed state, split into (public, the rest).
fn split(state: &Value) -> (Vec<&Value>, Vec<&Value>) {
    state["policy_statements"]
        .as_array()
        .map(|a| a.iter().partition(|s| is_public(s)))
        .unwrap_or_default()
}

fn sid(st: &Value) -> &str {
    st["Sid"].as_str().unwrap_or("")
}

impl LambdaRemovePublicAccess {
    /// The action calling Lambda with `sdk`.
    pub fn new(sdk: aws_config::SdkConfig) -> Self {
        LambdaRemovePublicAccess { sdk }
    }

    fn client(&self, target: &Target) -> Client {
        let conf = aws_sdk_lambda::config::Builder::from(&self.sdk)
            .region(aws_sdk_lambda::config::Region::new(target.region.clone()))
            .build();
        Client::from_conf(conf)
    }

    /// The function's policy statements (none without a policy) and its URL's
    /// auth type (`None` without a URL).
    async fn exposure(
        &self,
        c: &Client,
        name: &str,
    ) -> Result<(Vec<Value>, Option<String>), ActionError> {
        let statements = match c.get_policy().function_name(name).send().await {
            Ok(o) => {
                let doc: Value =
                    serde_json::from_str(o.policy().unwrap_or("{}")).unwrap_or_default();
                doc["Statement"].as_array().cloned().unwrap_or_default()
            }
            Err(e) if e.code() == Some("ResourceNotFoundException") => Vec::new(),
            Err(e) => return Err(failed("GetPolicy", name, &e)),
        };
        let url = match c.get_function_url_config().function_name(name).send().await {
            Ok(o) => Some(o.auth_type().as_str().to_string()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => None,
            Err(e) => return Err(failed("GetFunctionUrlConfig", name, &e)),
        };
        Ok((statements, url))
    }
}

#[async_trait]
impl Action for LambdaRemovePublicAccess {
    fn id(&self) -> ActionId {
        ActionId::LambdaRemovePublicAccess
    }

    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable> {
        let resource = finding
            .resources
            .iter()
            .find(|r| r.resource_type == FUNCTION_TYPE)
            .ok_or(NotApplicable::NoResource(FUNCTION_TYPE))?;
        let (name, arn_region, arn_account) =
            function_name(&resource.id).ok_or_else(|| NotApplicable::ResourceId {
                id: resource.id.clone(),
                expected: "a function name or function ARN",
            })?;
        let region = arn_region
            .or(resource.region.as_deref())
            .unwrap_or(&finding.region);
        Target::new(name, region, arn_account.unwrap_or(&finding.account_id))
    }

    async fn observe(&self, target: &Target) -> Result<Observed, ActionError> {
        let c = self.client(target);
        let name = &target.resource;
        let f = c
            .get_function()
            .function_name(name)
            .send()
            .await
            .map_err(|e| failed("GetFunction", name, &e))?;
        let arn = f
            .configuration()
            .and_then(|c| c.function_arn())
            .unwrap_or_default()
            .to_string();
        let account = arn.split(':').nth(4).unwrap_or_default();
        if account != target.account {
            return Err(ActionError {
                operation: "GetFunction",
                resource: arn.clone(),
                detail: format!(
                    "belongs to account {account:?}, not the finding's {}",
                    target.account
                ),
                retryable: false,
            });
        }
        let tags = f
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let (statements, url) = self.exposure(&c, name).await?;
        Ok(Observed {
            state: json!({"function": name, "function_arn": arn,
                          "policy_statements": statements, "url_auth_type": url}),
            tags,
            principals: Vec::new(),
        })
    }

    fn plan(&self, target: &Target, observed: &Observed) -> Proposal {
        let name = &target.resource;
        let (public, rest) = split(&observed.state);
        let mut calls: Vec<ApiCall> = public
            .iter()
            .filter(|s| !sid(s).is_empty())
            .map(|s| remove_call(name, sid(s)))
            .collect();
        let mut changes: Vec<String> = public
            .iter()
            .map(|s| format!("remove permission {:?} (principal *)", sid(s)))
            .collect();
        if observed.state["url_auth_type"] == "NONE" {
            calls.push(url_call(name));
            changes.push("set its function URL's auth type to AWS_IAM".into());
        }
        let stays = match rest.len() {
            0 => "no other policy statement".to_string(),
            _ => format!(
                "the statements {} stay",
                rest.iter()
                    .map(|s| format!("{:?}", sid(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        if calls.is_empty() {
            return Proposal {
                calls,
                after: format!("nothing left to do: function {name} is not public; {stays}"),
            };
        }
        Proposal {
            calls,
            after: format!("{} on function {name}; {stays}", changes.join(", ")),
        }
    }

    fn record(&self, _target: &Target, observed: &Observed) -> Option<Value> {
        let (public, _) = split(&observed.state);
        Some(json!({"function": observed.state["function"],
                    "removed_statements": public,
                    "url_auth_type": observed.state["url_auth_type"]}))
    }

    async fn apply(&self, target: &Target, proposal: &Proposal) -> Result<(), ActionError> {
        let name = &target.resource;
        // Every call is checked before the first is made: only removals of
        // named statements of this function and its URL set to AWS_IAM run.
        let ours = |c: &ApiCall| match c.operation.as_str() {
            "RemovePermission" => c.params["StatementId"]
                .as_str()
                .is_some_and(|s| *c == remove_call(name, s)),
            _ => *c == url_call(name),
        };
        if !proposal.calls.iter().all(ours) {
            return Err(ActionError {
                operation: "RemovePermission",
                resource: name.clone(),
                detail: "the proposal is not this action's plan for this function".into(),
                retryable: false,
            });
        }
        let c = self.client(target);
        for call in &proposal.calls {
            match call.params["StatementId"].as_str() {
                Some(sid) => c
                    .remove_permission()
                    .function_name(name)
                    .statement_id(sid)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| failed("RemovePermission", name, &e))?,
                None => c
                    .update_function_url_config()
                    .function_name(name)
                    .auth_type(FunctionUrlAuthType::AwsIam)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| failed("UpdateFunctionUrlConfig", name, &e))?,
            }
        }
        Ok(())
    }

    async fn verify(&self, target: &Target) -> Result<Option<String>, ActionError> {
        let (statements, url) = self
            .exposure(&self.client(target), &target.resource)
            .await?;
        let left: Vec<&str> = statements
            .iter()
            .filter(|s| is_public(s))
            .map(sid)
            .collect();
        Ok(if !left.is_empty() {
            Some(format!("public statements left: {}", left.join(", ")))
        } else if url.as_deref() == Some("NONE") {
            Some("the function URL's auth type is still NONE".into())
        } else {
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unpinned_grants_to_anyone_are_public() {
        let st = |principal: Value, condition: Value| {
            json!({"Sid": "s", "Effect": "Allow", "Principal": principal,
                   "Action": "lambda:InvokeFunction", "Condition": condition})
        };
        assert!(is_public(&st(json!("*"), Value::Null)));
        assert!(is_public(&st(json!({"AWS": "*"}), Value::Null)));
        // A function URL's own grant: public (the auth-type condition pins nobody).
        assert!(is_public(&st(
            json!("*"),
            json!({"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}})
        )));
        assert!(!is_public(&st(
            json!("*"),
            json!({"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::b"}})
        )));
        assert!(!is_public(&st(
            json!("*"),
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}})
        )));
        assert!(!is_public(&st(
            json!({"Service": "s3.amazonaws.com"}),
            Value::Null
        )));
        assert!(!is_public(&st(
            json!({"AWS": "arn:aws:iam::111122223333:root"}),
            Value::Null
        )));
    }

    #[test]
    fn the_plan_removes_the_public_statements_and_closes_the_url() {
        let a = LambdaRemovePublicAccess::new(aws_config::SdkConfig::builder().build());
        let t = Target::new("f", "us-east-1", "111122223333").unwrap();
        let o = Observed {
            state: json!({"function": "f", "url_auth_type": "NONE", "policy_statements": [
                {"Sid": "backdoor", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"},
                {"Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                 "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::b"}}}]}),
            ..Observed::default()
        };
        let p = a.plan(&t, &o);
        assert_eq!(p.calls, vec![remove_call("f", "backdoor"), url_call("f")]);
        assert!(
            p.after.ends_with("the statements \"s3\" stay"),
            "{}",
            p.after
        );
        assert_eq!(
            function_name("arn:aws:lambda:eu-west-1:111122223333:function:f:prod"),
            Some(("f", Some("eu-west-1"), Some("111122223333")))
        );
        assert_eq!(function_name("arn:aws:lambda:eu-west-1:1:layer:l"), None);
    }
}
