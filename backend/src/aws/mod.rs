//! AWS plumbing shared by the Lambdas and by `cspm` when pointed at AWS or the
//! emulator: SDK client construction and the AWS-side configuration.

/// The Lambdas' configuration: environment variables set by Terraform and SSM parameters.
pub mod config;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::retry::RetryConfig;

/// Where the SDK connects. `endpoint` overrides every service's endpoint (the
/// emulator, or DynamoDB Local / MinIO by hand); `None` uses the real AWS endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsTarget {
    /// Endpoint override, e.g. `http://127.0.0.1:5000`.
    pub endpoint: Option<String>,
    /// Region override; `None` uses the default chain (`AWS_REGION`, profile…).
    pub region: Option<String>,
}

/// Loads the shared SDK configuration (credentials from the default chain).
pub async fn sdk_config(target: &AwsTarget) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(endpoint) = &target.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(region) = &target.region {
        loader = loader.region(Region::new(region.clone()));
    }
    loader.load().await
}

/// A DynamoDB client whose SDK-level retries are off: the store owns the retry
/// policy (backoff with full jitter, bounded attempts, failed writes reported back),
/// and two stacked retry loops would multiply attempts under throttling.
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::config::Builder::from(sdk)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}
