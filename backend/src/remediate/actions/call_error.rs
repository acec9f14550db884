//! A failed SDK call of an action as an [`ActionError`]: the error in words and
//! whether trying again later may pass (throttling, a timeout, a 5xx) or someone
//! must fix something (access denied, no such resource).

use crate::remediate::action::ActionError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// `operation` on `resource` failed with `e`.
pub fn failed<E>(
    operation: &'static str,
    resource: &str,
    e: &SdkError<E, HttpResponse>,
) -> ActionError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    ActionError {
        operation,
        resource: resource.to_string(),
        detail: crate::aws::error_text(e),
        retryable: crate::aws::is_retryable(e),
    }
}
