//! The remediation actions, one file each; [`super::registry`] lists them.

/// `s3-block-public-access`: put a bucket's public access block, all four settings on.
#[cfg(feature = "aws")]
pub mod s3_block_public_access;
