//! The remediation actions, one file each; [`super::registry`] lists them.

#[cfg(feature = "aws")]
/// `s3-block-public-access`: put a bucket's public access block, all four settings on.
pub mod s3_block_public_access;
