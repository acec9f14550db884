//! The remediation file (`--remediation FILE`, env `CSPM_REMEDIATION`):
//!
//! ```yaml
//! enabled: [ec2-revoke-world-ingress, s3-block-public-access]   # everything else: plan only
//! auto: []                                                      # rule ids remediated without approval
//! allowed_ports: [80, 443]
//! protected_principals: ["arn:aws:iam::*:role/break-glass-*"]
//! protected_tag: {key: "cspm:remediate", value: "false"}
//! accounts: ["*"]
//! regions: ["*"]
//! max_per_account_per_hour: 20
//! assume_role: "arn:aws:iam::{account}:role/cspm-remediator"   # optional: act in each finding's account
//! plan_role: "arn:aws:iam::{account}:role/cspm-remediator-planner"   # optional: what plans and approvals assume
//! ```
//!
//! Every key may be left out; without a file nothing is enabled, so every
//! remediation is plan-only. An unknown key or action id is an error naming its
//! line, so a typo never silently turns a guard off.

use super::action_id::ActionId;
use crate::detect::yaml_file::{self, YamlFileError};
use serde::Deserialize;
use std::path::Path;

/// Principals no action may change whatever the file says: the file's
/// `protected_principals` add to these, never replace them, so listing one more
/// role cannot unprotect the break-glass roles.
pub const BUILTIN_PROTECTED_PRINCIPALS: &[&str] = &["arn:aws:iam::*:role/break-glass-*"];

/// The tag that protects a resource from remediation when no file says otherwise.
pub const DEFAULT_PROTECTED_TAG_KEY: &str = "cspm:remediate";
/// Its value that means "do not touch".
pub const DEFAULT_PROTECTED_TAG_VALUE: &str = "false";

/// The remediation settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemediationConfig {
    /// Actions that may change AWS; every other action is plan-only.
    pub enabled: Vec<ActionId>,
    /// Rule or control ids remediated without a person's approval (still subject
    /// to every guard).
    pub auto: Vec<String>,
    /// Ports a security group may leave open to the world.
    pub allowed_ports: Vec<u16>,
    /// More ARN patterns of principals no action may change (the remediator's
    /// own role, say), on top of [`BUILTIN_PROTECTED_PRINCIPALS`].
    pub protected_principals: Vec<String>,
    /// Resources carrying this tag are never changed.
    pub protected_tag: ProtectedTag,
    /// Account id patterns remediation may act in.
    pub accounts: Vec<String>,
    /// Region patterns remediation may act in.
    pub regions: Vec<String>,
    /// Applies allowed per account in any one hour.
    pub max_per_account_per_hour: u32,
    /// The role to act as in a finding's account (`{account}` standing for
    /// its id), assumed through STS from the worker's own credentials; without
    /// it the actions use those credentials, which reach one account. The
    /// role's own ARN in every account is protected like the file's
    /// `protected_principals`.
    pub assume_role: Option<String>,
    /// The role the processes that only plan and approve (the `api` and
    /// `fanout` Lambdas) assume instead, a role that may only read; without it
    /// they assume `assume_role` with a session policy that allows only reads.
    /// Needs `assume_role`.
    pub plan_role: Option<String>,
}

/// A tag key and the value that protects a resource.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectedTag {
    /// Tag key, e.g. `cspm:remediate`.
    pub key: String,
    /// Tag value that protects, e.g. `false`.
    pub value: String,
}

impl Default for ProtectedTag {
    fn default() -> Self {
        ProtectedTag {
            key: DEFAULT_PROTECTED_TAG_KEY.into(),
            value: DEFAULT_PROTECTED_TAG_VALUE.into(),
        }
    }
}

impl Default for RemediationConfig {
    /// Nothing enabled, nothing automatic; the documented safe values for the rest.
    fn default() -> Self {
        RemediationConfig {
            enabled: Vec::new(),
            auto: Vec::new(),
            allowed_ports: vec![80, 443],
            protected_principals: Vec::new(),
            protected_tag: ProtectedTag::default(),
            accounts: vec!["*".into()],
            regions: vec!["*".into()],
            max_per_account_per_hour: 20,
            assume_role: None,
            plan_role: None,
        }
    }
}

/// A remediation file that cannot be used. Never retryable: someone must fix the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file, YAML syntax, unknown key, unknown action id or wrong type
    /// (the message names the line and column).
    #[error(transparent)]
    File(#[from] YamlFileError),
    /// A value that parses but cannot be right.
    #[error("{path}: {field}: {problem}")]
    Invalid {
        /// The file.
        path: String,
        /// The key.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl RemediationConfig {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = yaml_file::read_text(path)?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses and checks YAML text; `path` names it in errors. An empty document
    /// is the defaults.
    pub fn parse(path: &str, text: &str) -> Result<Self, ConfigError> {
        let config: RemediationConfig = if text.trim().is_empty() {
            RemediationConfig::default()
        } else {
            yaml_file::parse(path, text)?
        };
        config.check(path)?;
        Ok(config)
    }

    /// The checks serde cannot make.
    fn check(&self, path: &str) -> Result<(), ConfigError> {
        let invalid = |field, problem: &str| ConfigError::Invalid {
            path: path.to_string(),
            field,
            problem: problem.to_string(),
        };
        if self.protected_tag.key.trim().is_empty() {
            return Err(invalid("protected_tag", "key must not be empty"));
        }
        // An empty scope list would refuse everything without saying why in the file.
        if self.accounts.is_empty() {
            return Err(invalid(
                "accounts",
                "list at least one pattern (\"*\" for all)",
            ));
        }
        if self.regions.is_empty() {
            return Err(invalid(
                "regions",
                "list at least one pattern (\"*\" for all)",
            ));
        }
        for p in &self.protected_principals {
            if p.trim().is_empty() {
                return Err(invalid("protected_principals", "an empty pattern"));
            }
        }
        for (field, role) in [
            ("assume_role", &self.assume_role),
            ("plan_role", &self.plan_role),
        ] {
            if role.as_deref().is_some_and(|r| !is_member_role_pattern(r)) {
                return Err(invalid(
                    field,
                    "must be a role ARN with {account} for the account id, \
                     e.g. arn:aws:iam::{account}:role/cspm-remediator",
                ));
            }
        }
        if self.plan_role.is_some() && self.assume_role.is_none() {
            return Err(invalid(
                "plan_role",
                "needs assume_role (the role that applies)",
            ));
        }
        Ok(())
    }

    /// The member roles (`assume_role`, `plan_role`) in any account, as
    /// principal patterns.
    fn member_roles(&self) -> impl Iterator<Item = String> + '_ {
        [&self.assume_role, &self.plan_role]
            .into_iter()
            .flatten()
            .map(|r| r.replace("{account}", "*"))
    }

    /// The protected principal pattern `arn` matches: built-in, the file's,
    /// or a member role (`assume_role`, `plan_role`: no action may take the
    /// remediator's own permissions away).
    pub fn protecting_pattern(&self, arn: &str) -> Option<String> {
        BUILTIN_PROTECTED_PRINCIPALS
            .iter()
            .map(|p| p.to_string())
            .chain(self.protected_principals.iter().cloned())
            .chain(self.member_roles())
            .find(|p| super::pattern::matches(p, arn))
    }

    /// True when `action` may change AWS.
    pub fn is_enabled(&self, action: ActionId) -> bool {
        self.enabled.contains(&action)
    }
}

/// `arn:<partition>:iam::{account}:role/<path and name>`, with `{account}`
/// once, where the account id goes, and nothing else left to fill in.
fn is_member_role_pattern(role: &str) -> bool {
    let Some((head, name)) = role.split_once(":iam::{account}:role/") else {
        return false;
    };
    let partition_ok = head
        .strip_prefix("arn:")
        .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
    // A path of non-empty segments, the last one the role's name (at most
    // 64 characters, as IAM allows).
    let segments_ok = name.split('/').all(|s| !s.is_empty())
        && name.rsplit('/').next().is_some_and(|n| n.len() <= 64);
    partition_ok
        && segments_ok
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENTED: &str = r#"
enabled: [ec2-revoke-world-ingress, s3-block-public-access]   # everything else: plan only
auto: []                                                      # rule ids remediated without approval
allowed_ports: [80, 443]
protected_principals: ["arn:aws:iam::*:role/break-glass-*"]
protected_tag: {key: "cspm:remediate", value: "false"}
accounts: ["*"]
regions: ["*"]
max_per_account_per_hour: 20
"#;

    #[test]
    fn assume_role_is_a_role_arn_with_the_account_and_protects_itself() {
        let c = RemediationConfig::parse(
            "r.yaml",
            "assume_role: \"arn:aws:iam::{account}:role/ops/cspm-remediator\"",
        )
        .unwrap();
        assert_eq!(
            c.protecting_pattern("arn:aws:iam::222233334444:role/ops/cspm-remediator")
                .as_deref(),
            Some("arn:aws:iam::*:role/ops/cspm-remediator")
        );
        assert_eq!(
            c.protecting_pattern("arn:aws:iam::222233334444:role/other"),
            None
        );
        let long = format!("arn:aws:iam::{{account}}:role/{}", "r".repeat(65));
        for bad in [
            "arn:aws:iam::111122223333:role/cspm-remediator",
            "arn:aws:iam::{account}:user/cspm",
            "arn:aws:iam::{account}:role/",
            "arn:aws:iam::{account}:role/{account}",
            "arn::iam::{account}:role/x",
            "arn:aws:iam::{account}:role/ops/",
            "arn:aws:iam::{account}:role/ops//x",
            long.as_str(),
            "cspm-remediator",
        ] {
            let yaml = format!("assume_role: \"{bad}\"");
            let e = RemediationConfig::parse("r.yaml", &yaml).unwrap_err();
            assert!(e.to_string().contains("assume_role"), "{bad}: {e}");
        }
    }

    #[test]
    fn plan_role_needs_assume_role_and_is_protected_too() {
        let e = RemediationConfig::parse(
            "r.yaml",
            "plan_role: \"arn:aws:iam::{account}:role/cspm-planner\"",
        )
        .unwrap_err();
        assert!(e.to_string().contains("needs assume_role"), "{e}");
        let c = RemediationConfig::parse(
            "r.yaml",
            "assume_role: \"arn:aws:iam::{account}:role/cspm-remediator\"\n\
             plan_role: \"arn:aws:iam::{account}:role/cspm-planner\"",
        )
        .unwrap();
        assert!(c
            .protecting_pattern("arn:aws:iam::222233334444:role/cspm-planner")
            .is_some());
    }

    #[test]
    fn the_documented_file_parses() {
        let c = RemediationConfig::parse("r.yaml", DOCUMENTED).unwrap();
        assert_eq!(
            c.enabled,
            vec![
                ActionId::Ec2RevokeWorldIngress,
                ActionId::S3BlockPublicAccess
            ]
        );
        assert_eq!(c.allowed_ports, vec![80, 443]);
        assert_eq!(c.protected_tag.key, "cspm:remediate");
        assert_eq!(c.max_per_account_per_hour, 20);
    }

    #[test]
    fn defaults_enable_nothing() {
        for text in ["", "{}", "allowed_ports: [443]"] {
            let c = RemediationConfig::parse("r.yaml", text).unwrap();
            assert!(c.enabled.is_empty() && c.auto.is_empty(), "{text:?}");
            assert!(ActionId::ALL.iter().all(|a| !c.is_enabled(*a)));
        }
    }

    #[test]
    fn unknown_keys_and_actions_are_errors_with_their_line() {
        let cases = [
            ("enabled: []\nenabeld: [s3-block-public-access]\n", "line 2"),
            ("auto: []\n\nenabled: [s3-block-public-acess]\n", "line 3"),
            ("protected_tag: {key: k, value: v, extra: 1}\n", "line 1"),
            ("max_per_account_per_hour: -1\n", "line 1"),
        ];
        for (text, line) in cases {
            let err = RemediationConfig::parse("r.yaml", text)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("r.yaml: "), "{err}");
            assert!(err.contains(line), "{text:?}: {err}");
        }
    }

    #[test]
    fn the_file_principals_add_to_the_break_glass_default() {
        let c = RemediationConfig::parse(
            "r.yaml",
            "protected_principals: [\"arn:aws:iam::*:role/cspm-remediator\"]",
        )
        .unwrap();
        let break_glass = "arn:aws:iam::111122223333:role/break-glass-ops";
        assert_eq!(
            c.protecting_pattern(break_glass).as_deref(),
            Some("arn:aws:iam::*:role/break-glass-*")
        );
        assert_eq!(
            c.protecting_pattern("arn:aws:iam::111122223333:role/cspm-remediator")
                .as_deref(),
            Some("arn:aws:iam::*:role/cspm-remediator")
        );
        assert_eq!(
            c.protecting_pattern("arn:aws:iam::111122223333:role/ops"),
            None
        );
        // Without a file the break-glass roles are protected too.
        assert!(RemediationConfig::default()
            .protecting_pattern(break_glass)
            .is_some());
    }

    #[test]
    fn values_that_cannot_be_right_are_refused() {
        for (text, field) in [
            (
                "protected_tag: {key: \" \", value: \"false\"}",
                "protected_tag",
            ),
            ("accounts: []", "accounts"),
            ("regions: []", "regions"),
            ("protected_principals: [\"\"]", "protected_principals"),
        ] {
            let err = RemediationConfig::parse("r.yaml", text)
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{text}: {err}");
        }
    }
}
