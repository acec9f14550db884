//! The `api` Lambda: the same axum router as `cspm serve`, behind API Gateway HTTP
//! API (payload v2) through `lambda_http`. Only the wiring lives here.

use crate::config::lambda::{LambdaConfig, SSM_API_TOKEN};
use crate::http::{router, AppState, HttpConfig};
use crate::live::tickets::Tickets;
use crate::pipeline::Pipeline;
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;

/// The router for the Lambda: the pipeline, CORS origins from the environment, the
/// bearer token from SSM (read once per cold start), no dashboard files (those are
/// served by CloudFront from S3), and `POST /live/ticket` issuing into `tickets`
/// (the WebSocket API's authorizer takes them) when the deployment has live
/// updates.
pub fn app(
    config: &LambdaConfig,
    ssm: &HashMap<String, String>,
    pipeline: Pipeline,
    tickets: Option<Arc<dyn Tickets>>,
) -> Router {
    let http = HttpConfig {
        api_token: ssm.get(SSM_API_TOKEN).filter(|t| !t.is_empty()).cloned(),
        cors_origins: config.cors_origins.clone(),
        dashboard_dir: None,
    };
    let state = AppState::new(pipeline, http);
    router(match tickets {
        Some(t) => state.with_tickets(t),
        None => state,
    })
}
