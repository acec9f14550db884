//! Posting one frame to one WebSocket connection through the API Gateway
//! Management API (`POST /@connections/{id}` on the stage's endpoint). The port
//! lets the live sink be tested against the emulator and with injected faults.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_apigatewaymanagement::primitives::Blob;

/// Why a post failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// 410: the connection is closed; forget it.
    #[error("the connection is gone")]
    Gone,
    /// 429 or a 5xx: try this connection again shortly.
    #[error("throttled or unavailable: {0}")]
    Busy(String),
    /// Anything else (permissions, a frame over the limit): not worth a retry.
    #[error("{0}")]
    Failed(String),
}

impl PostError {
    /// True for a failure worth another try on the same connection.
    pub fn is_busy(&self) -> bool {
        matches!(self, PostError::Busy(_))
    }
}

/// Where frames are posted.
#[async_trait]
pub trait Gateway: Send + Sync {
    /// Posts `data` (one text frame) to connection `id`.
    async fn post(&self, id: &str, data: &[u8]) -> Result<(), PostError>;
}

/// The API Gateway Management API of one WebSocket stage.
#[derive(Debug, Clone)]
pub struct ApiGateway {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ApiGateway {
    /// The management API at `endpoint`
    /// (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`).
    pub fn new(sdk: &SdkConfig, endpoint: &str) -> ApiGateway {
        let conf = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint.trim_end_matches('/'))
            .build();
        ApiGateway {
            client: aws_sdk_apigatewaymanagement::Client::from_conf(conf),
        }
    }
}

#[async_trait]
impl Gateway for ApiGateway {
    async fn post(&self, id: &str, data: &[u8]) -> Result<(), PostError> {
        let out = self
            .client
            .post_to_connection()
            .connection_id(id)
            .data(Blob::new(data))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_gone_exception()) => {
                Err(PostError::Gone)
            }
            Err(e) => {
                let text = format!("PostToConnection {id}: {}", crate::aws::error_text(&e));
                let busy = crate::aws::is_retryable(&e)
                    || e.as_service_error()
                        .is_some_and(|s| s.is_limit_exceeded_exception());
                Err(if busy {
                    PostError::Busy(text)
                } else {
                    PostError::Failed(text)
                })
            }
        }
    }
}
