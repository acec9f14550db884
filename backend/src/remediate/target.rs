//! The resource an action would change, with the account and region its calls go
//! to. A target is only built from values that can be checked: the account must be
//! a 12-digit id (the actions pass it to AWS as the expected owner, so a finding
//! that merely *claims* an account cannot send a call to a resource of another)
//! and the region must look like an AWS region. A finding without them
//! (`"unknown"`, an empty string) is not applicable rather than guessed at, so a
//! scope of `accounts: ["*"]` never lets an unknown account through.

use super::action_id::ActionId;
use regex::Regex;
use std::sync::LazyLock;

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`, `eu-central-2`.
static REGION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$").expect("valid region pattern"));

/// The resource an action would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The resource's name as its API wants it (a bucket name, a group id).
    pub resource: String,
    /// The region its API calls go to (the resource's, else the finding's).
    pub region: String,
    /// The 12-digit account that owns it; the calls tell AWS to refuse when the
    /// resource belongs to another account.
    pub account: String,
    /// The resource holding this one, as its API names it, when the API needs
    /// both: the IAM user of an access key, `role/NAME` of a role's policy.
    pub parent: Option<String>,
}

/// Why no action can fix a finding (a plan with `applicable: false`). Permanent:
/// the finding or the build would have to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotApplicable {
    /// No action in the registry fixes findings of this rule or control.
    #[error("no remediation action fixes {0:?} findings")]
    NoAction(String),
    /// The action exists as an id but cannot run here: not implemented yet,
    /// a build without AWS support, or a server without `--remediation`.
    #[error("{0} is not available here (not implemented yet, a build without AWS support, or remediation off on this server): nothing will be changed")]
    NotAvailable(ActionId),
    /// The finding names no resource of the type the action changes.
    #[error("the finding names no {0} resource")]
    NoResource(&'static str),
    /// The resource id is not one the action can address.
    #[error("{id:?} is not {expected}")]
    ResourceId {
        /// The id as the finding gives it.
        id: String,
        /// What the action needs, in words.
        expected: &'static str,
    },
    /// The account is not a 12-digit account id (e.g. `unknown`).
    #[error(
        "account {0:?} is not a 12-digit AWS account id: the resource's owner cannot be checked"
    )]
    Account(String),
    /// The region is not an AWS region name (e.g. `unknown`).
    #[error("region {0:?} is not an AWS region name")]
    Region(String),
    /// No role can make this change (a root user's access key): a person must,
    /// following `steps`.
    #[error("{resource} cannot be changed by remediation: {steps}")]
    Manual {
        /// What would have to change.
        resource: String,
        /// How a person does it.
        steps: &'static str,
    },
}

impl Target {
    /// A target after checking `account` and `region`.
    pub fn new(resource: &str, region: &str, account: &str) -> Result<Target, NotApplicable> {
        if !is_account_id(account) {
            return Err(NotApplicable::Account(account.to_string()));
        }
        if !REGION.is_match(region) {
            return Err(NotApplicable::Region(region.to_string()));
        }
        Ok(Target {
            resource: resource.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            parent: None,
        })
    }

    /// The same target inside `parent` (see [`Target::parent`]).
    pub fn within(self, parent: &str) -> Target {
        Target {
            parent: Some(parent.to_string()),
            ..self
        }
    }
}

/// True for a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_checkable_accounts_and_regions_make_a_target() {
        let ok = Target::new("b", "us-gov-west-1", "123456789012").unwrap();
        assert_eq!(ok.account, "123456789012");
        for region in [
            "us-east-1",
            "ap-southeast-2",
            "eu-central-2",
            "il-central-1",
        ] {
            assert!(Target::new("b", region, "123456789012").is_ok(), "{region}");
        }
        for account in [
            "unknown",
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            "*",
        ] {
            assert_eq!(
                Target::new("b", "us-east-1", account),
                Err(NotApplicable::Account(account.into())),
                "{account:?}"
            );
        }
        for region in [
            "unknown",
            "",
            "us-east",
            "US-EAST-1",
            "us-east-1a",
            "*",
            "us_east_1",
        ] {
            assert_eq!(
                Target::new("b", region, "123456789012"),
                Err(NotApplicable::Region(region.into())),
                "{region:?}"
            );
        }
    }
}
