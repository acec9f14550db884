//! The AWS SDK side of [`crate::aws`] (feature `aws`).

use super::AwsTarget;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::StalledStreamProtectionConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use std::time::Duration;

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

/// Longest a DynamoDB request may take before it is abandoned as a transient failure
/// (the store then backs off and retries it). Answers are at most 16 MB
/// (`BatchGetItem`) and come in milliseconds in-region.
const DYNAMODB_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a new connection to DynamoDB may take (the SDK's own default).
const DYNAMODB_CONNECT_TIMEOUT: Duration = Duration::from_millis(3_100);

/// A DynamoDB client whose SDK-level retries are off: the store owns the retry
/// policy (backoff with full jitter, bounded attempts, failed writes reported back),
/// and two stacked retry loops would multiply attempts under throttling.
///
/// A hung request is cut by a per-attempt timeout instead of the SDK's stalled-stream
/// protection: that watchdog, meant for long S3 transfers, woke the process every few
/// milliseconds while requests were in flight, CPU that Lambda bills.
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(DYNAMODB_CONNECT_TIMEOUT)
        .operation_attempt_timeout(DYNAMODB_ATTEMPT_TIMEOUT)
        .build();
    let conf = aws_sdk_dynamodb::config::Builder::from(sdk)
        .retry_config(RetryConfig::disabled())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(timeouts)
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// Error codes AWS services use for throttling and transient trouble (across
/// services: each names it its own way).
const RETRYABLE_CODES: [&str; 14] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "InternalServerError",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
];

/// True when an SDK error may go away on its own: a timeout, a connection failure,
/// an unreadable response, a 5xx, or a throttling code. Everything else (access
/// denied, validation, missing resource) needs someone to fix something.
pub fn is_retryable<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    match err {
        // Credentials that could not be had fail the call before it is sent:
        // an AssumeRole that STS refused (a member account without the role,
        // or a trust that does not name us) stays refused.
        SdkError::DispatchFailure(d) => {
            assume_role_error(d.as_connector_error()).is_none_or(is_retryable)
        }
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(se) => {
            se.raw().status().is_server_error()
                || se.raw().status().as_u16() == 429
                || RETRYABLE_CODES.contains(&se.err().code().unwrap_or_default())
        }
        _ => false,
    }
}

/// The STS error behind a call that failed for want of an assumed role's
/// credentials, found in the failure's chain of causes.
fn assume_role_error(
    failure: Option<&aws_sdk_dynamodb::error::ConnectorError>,
) -> Option<&SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError, HttpResponse>> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = failure.map(|c| c as _);
    while let Some(e) = next {
        if let Some(sts) = e.downcast_ref() {
            return Some(sts);
        }
        next = e.source();
    }
    None
}

/// `Some(reason)` when the SDK configuration's credential chain finds no
/// credentials (checked before the first call, so the user is told that, and how
/// to provide them, instead of an opaque dispatch failure).
pub async fn credentials_missing(sdk: &SdkConfig) -> Option<String> {
    use aws_sdk_dynamodb::config::ProvideCredentials;
    let Some(provider) = sdk.credentials_provider() else {
        return Some("no credential provider is configured".into());
    };
    match provider.provide_credentials().await {
        Ok(_) => None,
        Err(e) => Some(format!(
            "{}",
            aws_sdk_dynamodb::error::DisplayErrorContext(e)
        )),
    }
}
