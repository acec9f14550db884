//! AWS plumbing shared by the Lambdas and by `cspm` when pointed at AWS or the
//! emulator: where the SDK connects, SDK client construction and what an SDK error
//! means. The SDK half only exists with the `aws` feature; without it, asking for an
//! AWS adapter is answered by [`NotBuilt`].

/// DynamoDB item attributes read and written by hand.
#[cfg(feature = "aws")]
pub mod item;
/// SDK configuration, clients, credential checks and retryable errors.
#[cfg(feature = "aws")]
mod sdk;
#[cfg(feature = "aws")]
pub use sdk::{credentials_missing, dynamodb_client, is_retryable, sdk_config};

/// The SDK's shared configuration.
#[cfg(feature = "aws")]
pub use aws_config::SdkConfig;

/// Stands for the SDK's configuration in a build without the `aws` feature: a type
/// with no values, so an `Option<SdkConfig>` there is always `None` and the code
/// that would call AWS is unreachable by construction.
#[cfg(not(feature = "aws"))]
#[derive(Debug, Clone)]
pub enum SdkConfig {}

/// The SDK configuration for `target` when this build has the AWS adapters,
/// `None` otherwise (callers then report what needed it, e.g. a sink's kind).
pub async fn sdk_config_if_built(target: &AwsTarget) -> Option<SdkConfig> {
    #[cfg(feature = "aws")]
    return Some(sdk_config(target).await);
    #[cfg(not(feature = "aws"))]
    {
        let _ = target;
        None
    }
}

/// Where the SDK connects. `endpoint` overrides every service's endpoint (the
/// emulator, or DynamoDB Local / MinIO by hand); `None` uses the real AWS endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsTarget {
    /// Endpoint override, e.g. `http://127.0.0.1:5000`.
    pub endpoint: Option<String>,
    /// Region override; `None` uses the default chain (`AWS_REGION`, profile…).
    pub region: Option<String>,
}

/// An SDK error as one line a user can read: its message and its causes', joined
/// by `: `, without repeats (`service error: ResourceNotFoundException: Requested
/// resource not found`). The SDK's `DisplayErrorContext` says the same and then
/// appends the error's whole `Debug` form, raw HTTP response included.
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // Service errors print the same message at two levels of the chain.
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// An AWS adapter was asked for (`--store dynamodb`, an `sns` sink, a remediation
/// action…) by a `cspm` built without the `aws` feature, as `./build.sh serve`
/// builds it to start fast.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0} needs the AWS adapters, which this build of cspm leaves out: build with \
     `cargo build --features aws` (or `./build.sh local-full`)"
)]
pub struct NotBuilt(pub &'static str);
