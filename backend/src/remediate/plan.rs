//! The plan: what remediating one finding would do, shown before anything is done
//! (`cspm remediate plan`, later the dashboard and `GET …/remediation/plan`). Its
//! JSON form is a documented interface:
//!
//! ```json
//! {"finding_id":"…","action":"s3-block-public-access","applicable":true,
//!  "calls":[{"service":"s3","operation":"PutPublicAccessBlock","params":{…}}],
//!  "current_state":{…},"after":"…",
//!  "guards":[{"name":"not-enabled","passed":false,"reason":"…"}]}
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One AWS API call the action would make, with its exact parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    /// The service's SDK name, e.g. `s3`.
    pub service: String,
    /// The API operation, e.g. `PutPublicAccessBlock`.
    pub operation: String,
    /// The request's parameters, named as in the AWS API reference.
    pub params: Value,
}

/// The guards, in the order they are checked and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardName {
    /// The action is not in the file's `enabled` list (plan-only).
    NotEnabled,
    /// Automatic remediation of a rule not in the file's `auto` list.
    NotAllowlisted,
    /// The action would change a principal matching `protected_principals`.
    ProtectedPrincipal,
    /// The resource carries the protected tag.
    ProtectedTag,
    /// The finding's account or region is outside `accounts` / `regions`.
    OutOfScope,
    /// The account reached `max_per_account_per_hour`.
    RateLimited,
    /// The resource's state differs from the one the plan was made on.
    ChangedSincePlan,
    /// The finding is suppressed, resolved or archived.
    SuppressedOrResolved,
}

impl GuardName {
    /// Every guard, in check order.
    pub const ALL: [GuardName; 8] = [
        GuardName::NotEnabled,
        GuardName::NotAllowlisted,
        GuardName::ProtectedPrincipal,
        GuardName::ProtectedTag,
        GuardName::OutOfScope,
        GuardName::RateLimited,
        GuardName::ChangedSincePlan,
        GuardName::SuppressedOrResolved,
    ];

    /// The name as printed on stderr and in plans (`not-enabled`).
    pub fn as_str(self) -> &'static str {
        match self {
            GuardName::NotEnabled => "not-enabled",
            GuardName::NotAllowlisted => "not-allowlisted",
            GuardName::ProtectedPrincipal => "protected-principal",
            GuardName::ProtectedTag => "protected-tag",
            GuardName::OutOfScope => "out-of-scope",
            GuardName::RateLimited => "rate-limited",
            GuardName::ChangedSincePlan => "changed-since-plan",
            GuardName::SuppressedOrResolved => "suppressed-or-resolved",
        }
    }
}

impl std::fmt::Display for GuardName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One guard's verdict on a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardResult {
    /// Which guard.
    pub name: GuardName,
    /// False when this guard refuses the remediation.
    pub passed: bool,
    /// Why, in words (shown to the user either way).
    pub reason: String,
}

/// What remediating one finding would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The finding's short id.
    pub finding_id: String,
    /// The action id that fixes this kind of finding, or `null` when none does.
    pub action: Option<String>,
    /// False when no available action can fix this finding; `after` says why.
    pub applicable: bool,
    /// The calls apply would make, in order; empty when nothing is left to do.
    pub calls: Vec<ApiCall>,
    /// The resource's state as read now (what makes the calls necessary), or
    /// `null` when it was not read (not applicable).
    pub current_state: Value,
    /// What is left after the calls, in words (or why nothing will be done).
    pub after: String,
    /// Every guard's verdict, in check order; empty when not applicable.
    pub guards: Vec<GuardResult>,
}

impl Plan {
    /// The first guard that refuses, if any.
    pub fn refused_by(&self) -> Option<&GuardResult> {
        self.guards.iter().find(|g| !g.passed)
    }

    /// A plan saying no action can fix the finding, and why.
    pub fn not_applicable(finding_id: &str, action: Option<String>, why: String) -> Plan {
        Plan {
            finding_id: finding_id.to_string(),
            action,
            applicable: false,
            calls: Vec::new(),
            current_state: Value::Null,
            after: why,
            guards: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_has_exactly_the_documented_keys() {
        let plan = Plan {
            finding_id: "abc".into(),
            action: Some("s3-block-public-access".into()),
            applicable: true,
            calls: vec![ApiCall {
                service: "s3".into(),
                operation: "PutPublicAccessBlock".into(),
                params: json!({"Bucket": "b"}),
            }],
            current_state: json!({"bucket": "b"}),
            after: "all four settings on".into(),
            guards: vec![GuardResult {
                name: GuardName::ProtectedTag,
                passed: true,
                reason: "untagged".into(),
            }],
        };
        let v = serde_json::to_value(&plan).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "action",
                "after",
                "applicable",
                "calls",
                "current_state",
                "finding_id",
                "guards"
            ]
        );
        assert_eq!(
            v["calls"][0],
            json!({"service": "s3", "operation": "PutPublicAccessBlock", "params": {"Bucket": "b"}})
        );
        assert_eq!(
            v["guards"][0],
            json!({"name": "protected-tag", "passed": true, "reason": "untagged"})
        );
    }

    #[test]
    fn guard_names_are_the_documented_ones() {
        let documented = [
            "not-enabled",
            "not-allowlisted",
            "protected-principal",
            "protected-tag",
            "out-of-scope",
            "rate-limited",
            "changed-since-plan",
            "suppressed-or-resolved",
        ];
        for (g, name) in GuardName::ALL.iter().zip(documented) {
            assert_eq!(g.as_str(), name);
            assert_eq!(serde_json::to_value(g).unwrap(), name);
        }
    }
}
