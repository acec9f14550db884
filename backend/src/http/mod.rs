//! The HTTP API: one axum `Router` built by [`router`], served by `cspm serve`
//! locally, by the `api` Lambda through `lambda_http`, and called directly by tests.

/// Static dashboard files with the single-page-app fallback.
pub mod dashboard;
/// The API error type and its JSON body.
pub mod error;
/// `POST /events`: documents of any supported kind into the pipeline.
pub mod events;
/// `GET /findings/export`: the filtered set as CSV, JSON Lines or OCSF.
pub mod export;
/// Extractors that map bad input to the API error body.
pub mod extract;
/// `/findings` handlers.
pub mod findings;
/// `/health`.
pub mod health;
/// `GET /live` (the live WebSocket) and `POST /live/ticket`.
pub mod live;
/// `GET /metrics` (Prometheus text, loopback only).
pub mod metrics;
/// `/openapi.json`, generated from the handlers' annotations.
pub mod openapi;
/// Authentication, security headers and CORS.
pub mod security;
/// `/summary`.
pub mod summary;

use crate::pipeline::Pipeline;
use crate::store::Store;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use error::ApiError;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;

/// Largest request body accepted (a workflow update is well under 1 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest `POST /events` body (a CloudTrail log file delivery or a batch of events).
pub const MAX_EVENTS_BODY_BYTES: usize = 5 * 1024 * 1024;

pub use crate::config::http::HttpConfig;

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    /// The one write path (and, through it, the store readers use).
    pub pipeline: Pipeline,
    /// HTTP settings.
    pub config: Arc<HttpConfig>,
    /// Live updates, when this server pushes them (the local SQLite store).
    pub live: Option<live::LiveState>,
    /// Where `POST /live/ticket` issues tickets (in memory locally; DynamoDB
    /// for the `api` Lambda, whose tickets the WebSocket API's authorizer takes).
    pub tickets: Option<Arc<dyn crate::live::tickets::Tickets>>,
}

impl AppState {
    /// State over a pipeline with the given settings.
    pub fn new(pipeline: Pipeline, config: HttpConfig) -> Self {
        AppState {
            pipeline,
            config: Arc::new(config),
            live: None,
            tickets: None,
        }
    }

    /// The same state pushing live updates through `live`, its sockets opened
    /// with tickets from `tickets`.
    pub fn with_live(
        mut self,
        live: live::LiveState,
        tickets: Arc<dyn crate::live::tickets::Tickets>,
    ) -> Self {
        self.live = Some(live);
        self.tickets = Some(tickets);
        self
    }

    /// The same state issuing live tickets into `tickets` (the sockets are
    /// served elsewhere: the WebSocket API on AWS).
    pub fn with_tickets(mut self, tickets: Arc<dyn crate::live::tickets::Tickets>) -> Self {
        self.tickets = Some(tickets);
        self
    }

    /// Where findings live (for reads).
    pub fn store(&self) -> &Arc<dyn Store> {
        self.pipeline.store()
    }
}

/// Who is making the request, for the audit trail (set by the auth layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Actor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Actor>()
            .cloned()
            .unwrap_or_else(|| Actor("local".into())))
    }
}

/// The API routes (without the dashboard), so they can be mounted at `/` and `/api`.
fn api_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/findings", get(findings::list))
        // A static segment wins over `{id}`. Streamed, so compressed on the fly
        // (the rest of the API answers small JSON). Role: viewer.
        .route(
            "/findings/export",
            get(export::get_export).layer(CompressionLayer::new()),
        )
        .route(
            "/findings/{id}",
            get(findings::get_one).patch(findings::patch_one),
        )
        .route("/summary", get(summary::get_summary))
        .route(
            "/events",
            post(events::post_events).layer(DefaultBodyLimit::max(MAX_EVENTS_BODY_BYTES)),
        )
        .route("/openapi.json", get(openapi::get_openapi))
        .route("/live/ticket", post(live::post_ticket))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::require_auth,
        ))
        .route("/health", get(health::get_health))
        .route("/metrics", get(metrics::get_metrics))
        // Browsers cannot send a bearer token here: it checks its own ticket.
        .route("/live", get(live::get_live))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// Builds the application: API at `/` and under `/api` (the path CloudFront forwards),
/// the dashboard for everything else when configured, and the security layers.
pub fn router(state: AppState) -> Router {
    let api = api_routes(&state);
    let app = Router::new().merge(api.clone()).nest("/api", api).layer(
        axum::middleware::from_fn_with_state(state.clone(), dashboard::html_navigation),
    );
    let app = match &state.config.dashboard_dir {
        Some(dir) => app.fallback_service(dashboard::service(dir)),
        None => app.fallback(|| async { ApiError::NotFound("no such route".into()) }),
    };
    security::layers(
        app.layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        &state.config,
    )
    .with_state(state)
}
