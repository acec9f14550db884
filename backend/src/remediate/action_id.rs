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

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
