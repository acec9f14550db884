//! IAM users, roles and groups as the IAM actions address them: parsed from a
//! finding's resource (a bare name or an IAM ARN), named in a target's `parent`
//! as `user/NAME`, and read back with their ARN (checked against the target's
//! account: IAM calls take no expected owner) and tags.

use super::call_error::failed;
use crate::remediate::action::ActionError;
use crate::remediate::target::Target;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::Client;
use shared_types::Finding;
use std::collections::BTreeMap;

/// The kind of an IAM principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An IAM user.
    User,
    /// An IAM role.
    Role,
    /// An IAM group.
    Group,
}

impl Kind {
    /// `user`, `role`, `group`: as in ARNs and in a target's `parent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Role => "role",
            Kind::Group => "group",
        }
    }

    /// The ASFF resource type (`AwsIamUser`).
    pub fn resource_type(self) -> &'static str {
        match self {
            Kind::User => "AwsIamUser",
            Kind::Role => "AwsIamRole",
            Kind::Group => "AwsIamGroup",
        }
    }

    /// The API's name for the parameter naming one (`UserName`).
    pub fn param(self) -> &'static str {
        match self {
            Kind::User => "UserName",
            Kind::Role => "RoleName",
            Kind::Group => "GroupName",
        }
    }

    const ALL: [Kind; 3] = [Kind::User, Kind::Role, Kind::Group];
}

/// A named IAM principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Its kind.
    pub kind: Kind,
    /// Its name (without path).
    pub name: String,
}

impl Principal {
    /// `role/NAME`, as a target's `parent` holds it.
    pub fn parent(&self) -> String {
        format!("{}/{}", self.kind.as_str(), self.name)
    }

    /// A call's parameters naming it (`{"RoleName": NAME}`) and `key: value`.
    pub fn params(&self, key: &str, value: serde_json::Value) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert(self.kind.param().into(), self.name.clone().into());
        m.insert(key.into(), value);
        serde_json::Value::Object(m)
    }

    /// `User`, `Role`, `Group`: as in operation names (`DetachRolePolicy`).
    pub fn capital(&self) -> &'static str {
        match self.kind {
            Kind::User => "User",
            Kind::Role => "Role",
            Kind::Group => "Group",
        }
    }

    /// The principal a target's `parent` names.
    pub fn of_target(target: &Target) -> Option<Principal> {
        let (kind, name) = target.parent.as_deref()?.split_once('/')?;
        let kind = Kind::ALL.into_iter().find(|k| k.as_str() == kind)?;
        valid_name(name).then(|| Principal {
            kind,
            name: name.to_string(),
        })
    }
}

/// True for an IAM user, role or group name (letters, digits, `+=,.@_-`, 1-128).
fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// The principal of `kind` in a resource id (a name or an IAM ARN with any path)
/// and the ARN's account when it has one.
pub fn parse(kind: Kind, id: &str) -> Option<(Principal, Option<String>)> {
    let (name, account) = match id.strip_prefix("arn:") {
        None => (id, None),
        Some(rest) => {
            // PARTITION:iam::ACCOUNT:KIND/PATH/NAME
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [_, "iam", "", account, resource] = parts[..] else {
                return None;
            };
            let in_kind = resource.strip_prefix(kind.as_str())?.strip_prefix('/')?;
            (in_kind.rsplit('/').next()?, Some(account.to_string()))
        }
    };
    valid_name(name).then(|| {
        let p = Principal {
            kind,
            name: name.to_string(),
        };
        (p, account)
    })
}

/// The first user, role or group a finding names, with the ARN's account when
/// its id is an ARN; `None` when it names none that parses.
pub fn of_finding(finding: &Finding, kinds: &[Kind]) -> Option<(Principal, Option<String>)> {
    finding.resources.iter().find_map(|r| {
        let kind = kinds
            .iter()
            .copied()
            .find(|k| k.resource_type() == r.resource_type)?;
        parse(kind, &r.id)
    })
}

/// An IAM client (IAM is global: the SDK's region is only where it signs).
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    Client::new(sdk)
}

/// The principal as read: its ARN and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// Its ARN.
    pub arn: String,
    /// Its tags (groups have none).
    pub tags: BTreeMap<String, String>,
}

/// Reads `p`'s ARN and tags, refusing a principal of another account than the
/// target's. `Ok(None)` when it does not exist.
pub async fn read(
    client: &Client,
    p: &Principal,
    target: &Target,
) -> Result<Option<Read>, ActionError> {
    let tag_map = |tags: &[aws_sdk_iam::types::Tag]| {
        tags.iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    let name = &p.name;
    let got = match p.kind {
        Kind::User => match client.get_user().user_name(name).send().await {
            Ok(o) => o.user().map(|u| (u.arn().to_string(), tag_map(u.tags()))),
            Err(e) if e.code() == Some("NoSuchEntity") => return Ok(None),
            Err(e) => return Err(failed("GetUser", name, &e)),
        },
        Kind::Role => match client.get_role().role_name(name).send().await {
            Ok(o) => o.role().map(|r| (r.arn().to_string(), tag_map(r.tags()))),
            Err(e) if e.code() == Some("NoSuchEntity") => return Ok(None),
            Err(e) => return Err(failed("GetRole", name, &e)),
        },
        Kind::Group => match client
            .get_group()
            .group_name(name)
            .max_items(1)
            .send()
            .await
        {
            Ok(o) => o.group().map(|g| (g.arn().to_string(), BTreeMap::new())),
            Err(e) if e.code() == Some("NoSuchEntity") => return Ok(None),
            Err(e) => return Err(failed("GetGroup", name, &e)),
        },
    };
    let Some((arn, tags)) = got else {
        return Ok(None);
    };
    let account = arn.split(':').nth(4).unwrap_or_default();
    if account != target.account {
        return Err(ActionError {
            operation: match p.kind {
                Kind::User => "GetUser",
                Kind::Role => "GetRole",
                Kind::Group => "GetGroup",
            },
            resource: arn.clone(),
            detail: format!(
                "belongs to account {account:?}, not the finding's {}",
                target.account
            ),
            retryable: false,
        });
    }
    Ok(Some(Read { arn, tags }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_come_from_names_or_arns_of_their_kind() {
        let p = |kind, name: &str| Principal {
            kind,
            name: name.into(),
        };
        assert_eq!(
            parse(Kind::User, "alice"),
            Some((p(Kind::User, "alice"), None))
        );
        assert_eq!(
            parse(
                Kind::Role,
                "arn:aws:iam::111122223333:role/service/ops-admin"
            ),
            Some((p(Kind::Role, "ops-admin"), Some("111122223333".into())))
        );
        assert_eq!(
            parse(Kind::User, "arn:aws:iam::111122223333:role/ops"),
            None
        );
        assert_eq!(parse(Kind::User, "arn:aws:iam::111122223333:root"), None);
        assert_eq!(
            parse(Kind::User, "arn:aws:sts::111122223333:assumed-role/r/s"),
            None
        );
        assert_eq!(parse(Kind::User, ""), None);
        assert_eq!(parse(Kind::User, "a b"), None);
        let t = Target::new("k", "us-east-1", "111122223333")
            .unwrap()
            .within(&p(Kind::Group, "admins").parent());
        assert_eq!(Principal::of_target(&t), Some(p(Kind::Group, "admins")));
    }
}
