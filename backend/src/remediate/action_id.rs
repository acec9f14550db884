//! The action ids of remediation. They are part of the user's configuration
//! (`enabled:`), of every plan and of the history, so they never change once
//! released; an unknown id in a file is an error with its line.

use serde::{Deserialize, Serialize};

/// One remediation action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionId {
    /// Revoke only the world-open ingress permissions of a security group on a
    /// port that is not allowed.
    Ec2RevokeWorldIngress,
    /// Put the bucket's public access block with all four settings on.
    S3BlockPublicAccess,
    /// Deactivate (never delete) an IAM user's access key.
    IamDeactivateAccessKey,
    /// Detach an admin managed policy, keeping the document in the record.
    IamDetachAdminPolicy,
    /// Delete a dangerous inline policy, keeping the document in the record.
    IamDeleteInlinePolicy,
    /// `StartLogging` on a stopped trail.
    CloudtrailStartLogging,
    /// `CancelKeyDeletion` on a key scheduled for deletion.
    KmsCancelKeyDeletion,
    /// Remove a Lambda function's public permission / set its URL auth to `AWS_IAM`.
    LambdaRemovePublicAccess,
}

impl ActionId {
    /// Every action id, in the order the issue lists them.
    pub const ALL: [ActionId; 8] = [
        ActionId::Ec2RevokeWorldIngress,
        ActionId::S3BlockPublicAccess,
        ActionId::IamDeactivateAccessKey,
        ActionId::IamDetachAdminPolicy,
        ActionId::IamDeleteInlinePolicy,
        ActionId::CloudtrailStartLogging,
        ActionId::KmsCancelKeyDeletion,
        ActionId::LambdaRemovePublicAccess,
    ];

    /// The id as written in files and plans (`s3-block-public-access`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionId::Ec2RevokeWorldIngress => "ec2-revoke-world-ingress",
            ActionId::S3BlockPublicAccess => "s3-block-public-access",
            ActionId::IamDeactivateAccessKey => "iam-deactivate-access-key",
            ActionId::IamDetachAdminPolicy => "iam-detach-admin-policy",
            ActionId::IamDeleteInlinePolicy => "iam-delete-inline-policy",
            ActionId::CloudtrailStartLogging => "cloudtrail-start-logging",
            ActionId::KmsCancelKeyDeletion => "kms-cancel-key-deletion",
            ActionId::LambdaRemovePublicAccess => "lambda-remove-public-access",
        }
    }
}

impl ActionId {
    /// The IAM actions this action's reads, calls and read-back need, and no
    /// more: the `remediator` Lambda is granted exactly these for the actions
    /// its deployment enables. `backend/remediation_actions.json` is this
    /// table for Terraform (a test keeps the two equal).
    pub fn iam_actions(self) -> &'static [&'static str] {
        match self {
            ActionId::Ec2RevokeWorldIngress => &[
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSecurityGroupRules",
                "ec2:RevokeSecurityGroupIngress",
            ],
            ActionId::S3BlockPublicAccess => &[
                "s3:GetBucketTagging",
                "s3:GetBucketPublicAccessBlock",
                "s3:PutBucketPublicAccessBlock",
            ],
            ActionId::IamDeactivateAccessKey => {
                &["iam:GetUser", "iam:ListAccessKeys", "iam:UpdateAccessKey"]
            }
            ActionId::IamDetachAdminPolicy => &[
                "iam:GetUser",
                "iam:GetRole",
                "iam:GetGroup",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListAttachedUserPolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListAttachedGroupPolicies",
                "iam:DetachUserPolicy",
                "iam:DetachRolePolicy",
                "iam:DetachGroupPolicy",
            ],
            ActionId::IamDeleteInlinePolicy => &[
                "iam:GetUser",
                "iam:GetRole",
                "iam:GetGroup",
                "iam:GetUserPolicy",
                "iam:GetRolePolicy",
                "iam:GetGroupPolicy",
                "iam:DeleteUserPolicy",
                "iam:DeleteRolePolicy",
                "iam:DeleteGroupPolicy",
            ],
            ActionId::CloudtrailStartLogging => &[
                "cloudtrail:DescribeTrails",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:ListTags",
                "cloudtrail:StartLogging",
            ],
            ActionId::KmsCancelKeyDeletion => &[
                "kms:DescribeKey",
                "kms:ListResourceTags",
                "kms:CancelKeyDeletion",
            ],
            ActionId::LambdaRemovePublicAccess => &[
                "lambda:GetFunction",
                "lambda:GetPolicy",
                "lambda:GetFunctionUrlConfig",
                "lambda:RemovePermission",
                "lambda:UpdateFunctionUrlConfig",
            ],
        }
    }
}

/// True for an IAM action that only reads (`Describe*`, `Get*`, `List*`).
pub fn is_read(iam_action: &str) -> bool {
    let verb = iam_action.split_once(':').map_or("", |(_, op)| op);
    ["Describe", "Get", "List"]
        .iter()
        .any(|v| verb.starts_with(v))
}

/// The read actions of every action: what showing any plan needs.
pub fn every_read() -> Vec<&'static str> {
    let mut reads: Vec<&'static str> = ActionId::ALL
        .iter()
        .flat_map(|id| id.iam_actions().iter().copied())
        .filter(|a| is_read(a))
        .collect();
    reads.sort_unstable();
    reads.dedup();
    reads
}

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terraform_table_grants_each_action_exactly_its_iam_actions() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/remediation_actions.json");
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let table = file["actions"].as_object().unwrap();
        assert_eq!(table.len(), ActionId::ALL.len(), "one entry per action");
        for id in ActionId::ALL {
            let listed = |part: &str| -> Vec<String> {
                table[id.as_str()][part]
                    .as_array()
                    .unwrap_or_else(|| panic!("{id}.{part} missing from {path}"))
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect()
            };
            // Reads are granted to the api Lambda too (it shows plans).
            let (reads, writes): (Vec<&str>, Vec<&str>) =
                id.iam_actions().iter().partition(|a| is_read(a));
            assert_eq!(listed("read"), reads, "{id}");
            assert_eq!(listed("write"), writes, "{id}");
        }
    }

    #[test]
    fn serde_names_are_the_documented_ids() {
        // Pinned by hand: these strings are in users' files.
        let documented = [
            "ec2-revoke-world-ingress",
            "s3-block-public-access",
            "iam-deactivate-access-key",
            "iam-detach-admin-policy",
            "iam-delete-inline-policy",
            "cloudtrail-start-logging",
            "kms-cancel-key-deletion",
            "lambda-remove-public-access",
        ];
        for (id, name) in ActionId::ALL.iter().zip(documented) {
            assert_eq!(id.as_str(), name);
            assert_eq!(serde_json::to_value(id).unwrap(), name);
            let back: ActionId = serde_json::from_value(name.into()).unwrap();
            assert_eq!(back, *id);
        }
    }
}
