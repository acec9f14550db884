//! The HTTP API: one axum `Router` built by [`router`], served by `cspm serve`
//! locally, by the `api` Lambda through `lambda_http`, and called directly by tests.

/// Who may call a route, as data (the route table's rows).
pub mod access;
/// Browser sign-in: `/auth/login`, `/auth/callback`, `/auth/session`, `/auth/logout`.
pub mod auth_routes;
/// `POST /findings/workflow`: one workflow change for many findings.
pub mod bulk;
/// `POST /findings/workflow`'s body as the OpenAPI document describes it.
pub mod bulk_doc;
/// `/compliance`: scores per security standard and their controls.
pub mod compliance;
/// Static dashboard files with the single-page-app fallback.
pub mod dashboard;
/// The API error type and its JSON body.
pub mod error;
/// `POST /events`: documents of any supported kind into the pipeline.
pub mod events;
/// `GET /findings/export`: the filtered set as CSV, JSON Lines or OCSF.
pub mod export;
/// The `POST /exports` body, checked field by field.
pub mod export_request;
/// Export jobs: `POST /exports`, `GET /exports/{id}` and its download.
pub mod exports;
/// Extractors that map bad input to the API error body.
pub mod extract;
/// The list's filters as the OpenAPI document describes them.
pub mod filter_params;
/// `/findings` handlers.
pub mod findings;
/// `GET /findings/groups`: a view's findings grouped, most severe group first.
pub mod groups;
/// `/health`.
pub mod health;
/// `GET /live` (the live WebSocket) and `POST /live/ticket`.
pub mod live;
/// `GET /metrics` (Prometheus text, loopback only).
pub mod metrics;
/// `/openapi.json`, generated from the handlers' annotations.
pub mod openapi;
/// Remediation: a finding's plan, approving it, the record of every remediation.
pub mod remediation;
/// Every route with the role it requires (the one place roles are declared).
pub mod routes;
/// The role check, security headers and CORS.
pub mod security;
/// `/summary`.
pub mod summary;

use crate::auth::{Authenticator, Principal};
use crate::pipeline::Pipeline;
use crate::store::Store;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use error::ApiError;
use std::sync::Arc;

/// Largest request body accepted (a workflow update is well under 1 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest `POST /events` body (a CloudTrail log file delivery or a batch of events).
pub const MAX_EVENTS_BODY_BYTES: usize = 5 * 1024 * 1024;
/// Largest `POST /events` body once a gzip body is expanded (held in memory while
/// its documents are read): a 5 MiB CloudTrail log file expands about ten times,
/// a gzip bomb is refused at this bound.
pub const MAX_EVENTS_DECODED_BYTES: u64 = 64 * 1024 * 1024;

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
    /// Who a request comes from; every route but `/health` and `/live` asks it.
    pub auth: Arc<Authenticator>,
    /// Browser sign-in through this server, when configured (the `/auth/*` routes
    /// answer 404 otherwise).
    pub signin: Option<Arc<crate::auth::session::SignIn>>,
    /// Export jobs, when this deployment keeps export files somewhere (the
    /// `/exports` routes answer 404 otherwise).
    pub exports: Option<crate::export::jobs::ExportJobs>,
    /// Remediation plans, approvals and records, when this deployment keeps
    /// them (the remediation routes answer 404 otherwise).
    pub remediation: Option<Arc<crate::remediate::service::Remediations>>,
}

impl AppState {
    /// State over a pipeline with the given settings, accepting the config's
    /// `api_token` (if any) as the only credential.
    pub fn new(pipeline: Pipeline, config: HttpConfig) -> Self {
        let auth = Authenticator::new(config.api_token.as_deref());
        AppState {
            pipeline,
            config: Arc::new(config),
            live: None,
            tickets: None,
            auth: Arc::new(auth),
            signin: None,
            exports: None,
            remediation: None,
        }
    }

    /// The same state authenticating with `auth` instead (build it from the same
    /// API token, then add named tokens or verifiers).
    pub fn with_auth(mut self, auth: Authenticator) -> Self {
        self.auth = Arc::new(auth);
        self
    }

    /// The same state offering browser sign-in through `signin`; the session
    /// cookie becomes a credential of `auth` (call after [`AppState::with_auth`]).
    pub fn with_signin(mut self, signin: Arc<crate::auth::session::SignIn>) -> Self {
        let sessions = Arc::new(crate::auth::session::SessionAuth::new(signin.clone()));
        let auth = (*self.auth).clone().with_sessions(sessions);
        self.auth = Arc::new(auth);
        self.signin = Some(signin);
        self
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

    /// The same state running export jobs through `exports`.
    pub fn with_exports(mut self, exports: crate::export::jobs::ExportJobs) -> Self {
        self.exports = Some(exports);
        self
    }

    /// The same state planning, approving and listing remediations through `r`.
    pub fn with_remediation(mut self, r: Arc<crate::remediate::service::Remediations>) -> Self {
        self.remediation = Some(r);
        self
    }

    /// Where findings live (for reads).
    pub fn store(&self) -> &Arc<dyn Store> {
        self.pipeline.store()
    }
}

/// The principal the role check authenticated (handlers of protected routes take
/// it for the audit trail). Missing only on a route without a role check, where
/// asking for it is a mistake: it answers 401 rather than guess.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// The API routes (without the dashboard), so they can be mounted at `/` and
/// `/api`: each declared route, behind the role check its [`routes::Access`] asks for.
fn api_routes(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for (route, handler) in routes::declared() {
        let handler = match route.access {
            routes::Access::Role(role) => handler.route_layer(
                axum::middleware::from_fn_with_state((state.clone(), role), security::require_role),
            ),
            routes::Access::Public | routes::Access::Ticket(_) => handler,
        };
        router = router.route(route.path, handler);
    }
    router
        .layer(axum::Extension(access::RouteTable(std::sync::Arc::new(
            routes::table(),
        ))))
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
