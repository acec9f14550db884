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
//!
//! `current_state` (a JSON object for every action) carries one key the action
//! did not read, `state_hash`: the SHA-256 of the rest of it. `cspm remediate
//! apply --expect-state HASH` refuses (`changed-since-plan`) when the resource
//! read right before the calls hashes differently, so what was approved is what
//! is changed. Keeping it inside `current_state` leaves the documented top-level
//! keys as they are.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The key of `current_state` that holds [`state_hash`].
pub const STATE_HASH_KEY: &str = "state_hash";

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
    /// True for the guards that look at the resource as read from AWS; every
    /// other guard is checked first, and a refusal there means AWS is not read
    /// (an out-of-scope account's resources are never even looked at).
    pub fn needs_read(self) -> bool {
        matches!(
            self,
            GuardName::ProtectedPrincipal | GuardName::ProtectedTag | GuardName::ChangedSincePlan
        )
    }

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
    /// The verdicts of the guards checked, in check order; empty when not
    /// applicable. When a guard that needs no read refused, AWS was not read and
    /// the guards that need it ([`GuardName::needs_read`]) are left out.
    pub guards: Vec<GuardResult>,
}

/// The hash of an observed state: SHA-256 (hex) of its JSON with object keys
/// sorted, so the same state always hashes the same whatever the map order.
pub fn state_hash(state: &Value) -> String {
    fn canonical(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    canonical(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(x, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut text = String::new();
    canonical(state, &mut text);
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// True when `s` has the form of a [`state_hash`] (64 lowercase hex digits).
pub fn is_state_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Plan {
    /// The plan for a resource read as `state`: `state` gets its
    /// [`state_hash`] under [`STATE_HASH_KEY`].
    pub fn applicable(
        finding_id: &str,
        action: &str,
        calls: Vec<ApiCall>,
        state: &Value,
        after: String,
        guards: Vec<GuardResult>,
    ) -> Plan {
        let mut current_state = state.clone();
        if let Value::Object(m) = &mut current_state {
            m.insert(STATE_HASH_KEY.into(), Value::String(state_hash(state)));
        }
        Plan {
            finding_id: finding_id.to_string(),
            action: Some(action.to_string()),
            applicable: true,
            calls,
            current_state,
            after,
            guards,
        }
    }

    /// The plan when a guard refused before the resource was read: no state, no
    /// calls, and `after` says why nothing was read.
    pub fn unread(finding_id: &str, action: &str, guards: Vec<GuardResult>) -> Plan {
        let why = match guards.iter().find(|g| !g.passed) {
            Some(g) => format!("not read: refused by {} before AWS was read", g.name),
            None => "not read".to_string(),
        };
        Plan {
            finding_id: finding_id.to_string(),
            action: Some(action.to_string()),
            applicable: true,
            calls: Vec::new(),
            current_state: Value::Null,
            after: why,
            guards,
        }
    }

    /// The [`state_hash`] this plan was made on, when the resource was read.
    pub fn state_hash(&self) -> Option<&str> {
        self.current_state.get(STATE_HASH_KEY)?.as_str()
    }

    /// The first guard that refuses, if any.
    pub fn refused_by(&self) -> Option<&GuardResult> {
        self.guards.iter().find(|g| !g.passed)
    }

    /// A plan saying no action can fix the finding, and why.
    pub fn not_applicable(
        finding_id: &str,
        action: Option<String>,
        why: &dyn std::fmt::Display,
    ) -> Plan {
        Plan {
            finding_id: finding_id.to_string(),
            action,
            applicable: false,
            calls: Vec::new(),
            current_state: Value::Null,
            after: why.to_string(),
            guards: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
