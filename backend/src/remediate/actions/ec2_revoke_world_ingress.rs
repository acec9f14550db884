//! `ec2-revoke-world-ingress`: a security group open to the world (0.0.0.0/0 or
//! ::/0) on a port that is not allowed loses exactly those ingress rules, revoked
//! by their `SecurityGroupRuleId`, and nothing else. A rule is offending when its
//! source is the whole IPv4 or IPv6 internet and it is not TCP on ports all in
//! `allowed_ports` (as the detection rule decides: a range such as 80-443, all
//! traffic (-1), UDP or ICMP from anywhere are offending). Rules from narrower
//! ranges, other groups or prefix lists, and every egress rule stay; the plan
//! names what stays. (Responders that revoke the whole permission of a port, or
//! every rule of the group, cut off the office along with the internet.)

use super::call_error::failed;
use crate::remediate::action::{Action, ActionError, Observed, Proposal};
use crate::remediate::action_id::ActionId;
use crate::remediate::plan::ApiCall;
use crate::remediate::target::{NotApplicable, Target};
use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, SecurityGroupRule};
use aws_sdk_ec2::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared_types::Finding;
use std::collections::BTreeMap;

/// The ASFF resource type of a security group.
const GROUP_TYPE: &str = "AwsEc2SecurityGroup";
/// The whole IPv4 and IPv6 internet.
const WORLD_V4: &str = "0.0.0.0/0";
const WORLD_V6: &str = "::/0";

/// The action, over the SDK configuration and the ports that may stay open.
#[derive(Debug, Clone)]
pub struct Ec2RevokeWorldIngress {
    sdk: aws_config::SdkConfig,
    allowed_ports: Vec<u16>,
}

/// One ingress rule as `DescribeSecurityGroupRules` returns it (API names), the
/// unit the fix revokes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IngressRule {
    /// `sgr-…`: what the revoke names.
    pub security_group_rule_id: String,
    /// `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number.
    pub ip_protocol: String,
    /// First port (ICMP: the type; -1 for all).
    pub from_port: i32,
    /// Last port (ICMP: the code; -1 for all).
    pub to_port: i32,
    /// IPv4 source range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_ipv4: Option<String>,
    /// IPv6 source range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_ipv6: Option<String>,
    /// Source prefix list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_list_id: Option<String>,
    /// Source security group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_group_id: Option<String>,
}

impl IngressRule {
    /// True when its source is the whole IPv4 or IPv6 internet.
    fn is_world_open(&self) -> bool {
        self.cidr_ipv4.as_deref() == Some(WORLD_V4) || self.cidr_ipv6.as_deref() == Some(WORLD_V6)
    }

    /// True when it admits TCP on allowed ports only.
    fn is_allowed(&self, allowed: &[u16]) -> bool {
        let tcp = matches!(self.ip_protocol.as_str(), "tcp" | "6");
        tcp && self.from_port >= 0
            && self.from_port <= self.to_port
            && (self.from_port..=self.to_port)
                .all(|p| u16::try_from(p).is_ok_and(|p| allowed.contains(&p)))
    }

    /// World-open on something not allowed: what the fix revokes.
    fn offends(&self, allowed: &[u16]) -> bool {
        self.is_world_open() && !self.is_allowed(allowed)
    }

    /// `tcp/22 from 0.0.0.0/0`, as the plan says it.
    fn describe(&self) -> String {
        let what = match (self.ip_protocol.as_str(), self.from_port, self.to_port) {
            ("-1", _, _) => "all traffic".to_string(),
            (p, -1, _) => format!("{p}/all"),
            (p @ ("icmp" | "icmpv6" | "1" | "58"), t, c) => format!("{p} type {t} code {c}"),
            (p, f, t) if f == t => format!("{p}/{f}"),
            (p, f, t) => format!("{p}/{f}-{t}"),
        };
        let from = [
            &self.cidr_ipv4,
            &self.cidr_ipv6,
            &self.prefix_list_id,
            &self.referenced_group_id,
        ]
        .into_iter()
        .find_map(|s| s.as_deref())
        .unwrap_or("?");
        format!("{what} from {from}")
    }

    fn from_sdk(r: &SecurityGroupRule) -> Option<IngressRule> {
        Some(IngressRule {
            security_group_rule_id: r.security_group_rule_id()?.to_string(),
            ip_protocol: r.ip_protocol().unwrap_or("-1").to_string(),
            from_port: r.from_port().unwrap_or(-1),
            to_port: r.to_port().unwrap_or(-1),
            cidr_ipv4: r.cidr_ipv4().map(str::to_string),
            cidr_ipv6: r.cidr_ipv6().map(str::to_string),
            prefix_list_id: r.prefix_list_id().map(str::to_string),
            referenced_group_id: r
                .referenced_group_info()
                .and_then(|g| g.group_id())
                .map(str::to_string),
        })
    }
}

/// The group id in a resource id: `sg-…` or an EC2 security-group ARN, with the
/// ARN's region and account when it has them.
pub fn group_id<'a>(resource_id: &'a str) -> Option<(&'a str, Option<&'a str>, Option<&'a str>)> {
    let valid = |id: &str| {
        id.strip_prefix("sg-").is_some_and(|hex| {
            (8..=17).contains(&hex.len())
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
    };
    if !resource_id.starts_with("arn:") {
        return valid(resource_id).then_some((resource_id, None, None));
    }
    // arn:PARTITION:ec2:REGION:ACCOUNT:security-group/sg-…
    let parts: Vec<&str> = resource_id.splitn(6, ':').collect();
    let [_, _, "ec2", region, account, rest] = parts[..] else {
        return None;
    };
    let id = rest.strip_prefix("security-group/")?;
    let some = |s: &'a str| (!s.is_empty()).then_some(s);
    valid(id).then_some((id, some(region), some(account)))
}

/// The one call of a fix, built from the revoke's parts: the plan shows it and
/// apply rebuilds it from them, so what runs is what was shown.
fn revoke_call(group: &str, rule_ids: &[String]) -> ApiCall {
    ApiCall {
        service: "ec2".into(),
        operation: "RevokeSecurityGroupIngress".into(),
        params: json!({"GroupId": group, "SecurityGroupRuleIds": rule_ids}),
    }
}

/// The ingress rules of an observed state (empty when it has none or is not ours).
fn rules_of(state: &Value) -> Vec<IngressRule> {
    serde_json::from_value(state["ingress"].clone()).unwrap_or_default()
}

/// Several items in words: `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl Ec2RevokeWorldIngress {
    /// The action calling EC2 with `sdk`; world-open TCP on `allowed_ports` stays.
    pub fn new(sdk: aws_config::SdkConfig, allowed_ports: Vec<u16>) -> Self {
        Ec2RevokeWorldIngress { sdk, allowed_ports }
    }

    /// A client for the group's region.
    fn client(&self, target: &Target) -> Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.sdk)
            .region(aws_sdk_ec2::config::Region::new(target.region.clone()))
            .build();
        Client::from_conf(conf)
    }

    /// The group's name, VPC and tags, after checking it is the target account's:
    /// EC2 calls take no expected owner, so the owner is read and compared.
    async fn read_group(
        &self,
        client: &Client,
        target: &Target,
    ) -> Result<(Value, BTreeMap<String, String>), ActionError> {
        let group = &target.resource;
        let out = client
            .describe_security_groups()
            .group_ids(group)
            .send()
            .await
            .map_err(|e| failed("DescribeSecurityGroups", group, &e))?;
        let not_found = |detail: String| ActionError {
            operation: "DescribeSecurityGroups",
            resource: group.clone(),
            detail,
            retryable: false,
        };
        let sg = out
            .security_groups()
            .iter()
            .find(|g| g.group_id() == Some(group.as_str()))
            .ok_or_else(|| not_found("the group was not returned".into()))?;
        if sg.owner_id() != Some(target.account.as_str()) {
            return Err(not_found(format!(
                "the group belongs to account {:?}, not the finding's {}",
                sg.owner_id().unwrap_or("?"),
                target.account
            )));
        }
        let tags = sg
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
            .collect();
        Ok((
            json!({"group_name": sg.group_name(), "vpc_id": sg.vpc_id()}),
            tags,
        ))
    }

    /// The group's ingress rules, sorted by id (so the state hashes the same
    /// whatever order EC2 lists them in).
    async fn read_ingress(
        &self,
        client: &Client,
        target: &Target,
    ) -> Result<Vec<IngressRule>, ActionError> {
        let group = &target.resource;
        let filter = Filter::builder().name("group-id").values(group).build();
        let rules = client
            .describe_security_group_rules()
            .filters(filter)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| failed("DescribeSecurityGroupRules", group, &e))?;
        let mut ingress = Vec::new();
        for r in rules.iter().filter(|r| r.is_egress() != Some(true)) {
            ingress.push(IngressRule::from_sdk(r).ok_or_else(|| ActionError {
                operation: "DescribeSecurityGroupRules",
                resource: group.clone(),
                detail: "a rule without a SecurityGroupRuleId".into(),
                retryable: false,
            })?);
        }
        ingress.sort_by(|a, b| a.security_group_rule_id.cmp(&b.security_group_rule_id));
        Ok(ingress)
    }

    /// The offending rules of `rules`.
    fn offending<'a>(&self, rules: &'a [IngressRule]) -> Vec<&'a IngressRule> {
        rules
            .iter()
            .filter(|r| r.offends(&self.allowed_ports))
            .collect()
    }
}

#[async_trait]
impl Action for Ec2RevokeWorldIngress {
    fn id(&self) -> ActionId {
        ActionId::Ec2RevokeWorldIngress
    }

    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable> {
        let resource = finding
            .resources
            .iter()
            .find(|r| r.resource_type == GROUP_TYPE)
            .ok_or(NotApplicable::NoResource(GROUP_TYPE))?;
        let (id, arn_region, arn_account) =
            group_id(&resource.id).ok_or_else(|| NotApplicable::ResourceId {
                id: resource.id.clone(),
                expected: "a security group id (sg-…) or security-group ARN",
            })?;
        // The ARN names where the group is; the finding's region is where an
        // event was recorded.
        let region = arn_region
            .or(resource.region.as_deref())
            .unwrap_or(&finding.region);
        let account = arn_account.unwrap_or(&finding.account_id);
        Target::new(id, region, account)
    }

    async fn observe(&self, target: &Target) -> Result<Observed, ActionError> {
        let client = self.client(target);
        let (mut state, tags) = self.read_group(&client, target).await?;
        let ingress = self.read_ingress(&client, target).await?;
        state["group_id"] = json!(target.resource);
        state["ingress"] = serde_json::to_value(&ingress).unwrap_or(Value::Null);
        Ok(Observed {
            state,
            tags,
            principals: Vec::new(),
        })
    }

    fn plan(&self, target: &Target, observed: &Observed) -> Proposal {
        let rules = rules_of(&observed.state);
        let (revoke, stay): (Vec<&IngressRule>, Vec<&IngressRule>) =
            rules.iter().partition(|r| r.offends(&self.allowed_ports));
        let group = &target.resource;
        let stays = match stay.len() {
            0 => "no other ingress rule".to_string(),
            1 => format!("the rule {} stays", stay[0].describe()),
            _ => format!(
                "the rules {} stay",
                and_list(&stay.iter().map(|r| r.describe()).collect::<Vec<_>>())
            ),
        };
        if revoke.is_empty() {
            return Proposal {
                calls: Vec::new(),
                after: format!(
                    "nothing left to do: {group} has no ingress open to the world on a port \
                     other than {:?}; {stays}",
                    self.allowed_ports
                ),
            };
        }
        let ids: Vec<String> = revoke
            .iter()
            .map(|r| r.security_group_rule_id.clone())
            .collect();
        let gone: Vec<String> = revoke.iter().map(|r| r.describe()).collect();
        Proposal {
            calls: vec![revoke_call(group, &ids)],
            after: format!("revoke ingress {} on {group}; {stays}", and_list(&gone)),
        }
    }

    async fn apply(&self, target: &Target, proposal: &Proposal) -> Result<(), ActionError> {
        let refuse = |detail: &str| ActionError {
            operation: "RevokeSecurityGroupIngress",
            resource: target.resource.clone(),
            detail: detail.to_string(),
            retryable: false,
        };
        let [call] = proposal.calls.as_slice() else {
            if proposal.calls.is_empty() {
                return Ok(());
            }
            return Err(refuse("the proposal is not this action's plan"));
        };
        // Only a revoke of named rules of this group runs: rebuilt from its parts,
        // it must be the call shown, or nothing is called.
        let ids: Vec<String> =
            serde_json::from_value(call.params["SecurityGroupRuleIds"].clone()).unwrap_or_default();
        if ids.is_empty() || *call != revoke_call(&target.resource, &ids) {
            return Err(refuse(
                "the proposal is not this action's plan for this group",
            ));
        }
        let out = self
            .client(target)
            .revoke_security_group_ingress()
            .group_id(&target.resource)
            .set_security_group_rule_ids(Some(ids))
            .send()
            .await
            .map_err(|e| failed("RevokeSecurityGroupIngress", &target.resource, &e))?;
        // EC2 answers Return=false when some of the named rules were not revoked.
        if out.r#return() == Some(false) {
            return Err(refuse(
                "EC2 answered Return=false: not every rule was revoked",
            ));
        }
        Ok(())
    }

    async fn verify(&self, target: &Target) -> Result<Option<String>, ActionError> {
        let rules = self.read_ingress(&self.client(target), target).await?;
        let left: Vec<String> = self
            .offending(&rules)
            .iter()
            .map(|r| format!("{} ({})", r.describe(), r.security_group_rule_id))
            .collect();
        Ok((!left.is_empty()).then(|| format!("still open to the world: {}", and_list(&left))))
    }
}

#[cfg(test)]
mod tests;
