//! The `api` Lambda: the same axum router as `cspm serve`, behind API Gateway HTTP
//! API (payload v2) through `lambda_http`. Only the wiring lives here, and the one
//! thing a long-running server does differently: `cspm serve` keeps its counters
//! for `GET /metrics`, while each invocation of this function prints what it
//! counted (the findings `POST /events` stored) as EMF lines and forgets them.

use crate::auth::gateway::GatewayClaims;
use crate::auth::oidc::OidcProvider;
use crate::auth::oidc_bearer::OidcBearer;
use crate::auth::session::SignIn;
use crate::auth::Authenticator;
use crate::config::lambda::LambdaConfig;
use crate::http::{router, AppState, HttpConfig};
use crate::live::tickets::Tickets;
use crate::metrics::{emf, Registry};
use crate::pipeline::Pipeline;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use std::io::Write;
use std::sync::Arc;

/// The writer name the `api` Lambda's stored findings are counted under
/// (`FindingsStored`, dimension `Source`), as `cspm serve` counts its own.
pub const SOURCE: &str = "api";

/// Sign-in the `api` Lambda does itself ([`super::boot::sign_in`]): the provider
/// whose tokens it checks, and browser sign-in when a sessions table and the
/// public URL are configured.
pub struct OwnSignIn {
    /// The connected provider (its keys verify bearer tokens).
    pub provider: OidcProvider,
    /// Browser sign-in through `/auth/*`, sessions in DynamoDB.
    pub signin: Option<SignIn>,
}

/// The router for the Lambda: the pipeline, CORS origins from the environment, no
/// dashboard files (those are served by CloudFront from S3), and what the
/// deployment adds ([`Parts`]: the static token among them).
///
/// Authentication is always on here. With `own` sign-in, the Lambda checks
/// bearer tokens against the provider's keys and session cookies against the
/// sessions table itself: API Gateway routes every request to it without an
/// authorizer, since a JWT authorizer cannot read a cookie and would refuse
/// `/auth/login` itself. Without it (an older deployment), API Gateway's JWT
/// authorizer has verified the Cognito access token before the Lambda runs and
/// the role comes from the `cognito:groups` claim it passes ([`GatewayClaims`]).
/// A request with neither needs the static token or a named token.
pub fn app(config: &LambdaConfig, pipeline: Pipeline, parts: Parts) -> Router {
    let http = HttpConfig {
        api_token: parts.api_token,
        cors_origins: config.cors_origins.clone(),
        dashboard_dir: None,
    };
    let mut auth = Authenticator::new(http.api_token.as_deref());
    if let Some(t) = parts.tokens {
        auth = auth.with_tokens(t);
    }
    let mut signin = None;
    match parts.own {
        Some(own) => {
            auth = auth.with_bearer_verifier(Arc::new(OidcBearer::new(Arc::clone(
                &own.provider.verifier,
            ))));
            signin = own.signin;
        }
        None => auth = auth.with_request_verifier(Arc::new(GatewayClaims::default())),
    }
    let mut state = AppState::new(pipeline, http).with_auth(auth);
    if let Some(s) = signin {
        state = state.with_signin(Arc::new(s));
    }
    if let Some(t) = parts.tickets {
        state = state.with_tickets(t);
    }
    if let Some(e) = parts.exports {
        state = state.with_exports(e);
    }
    if let Some(r) = parts.remediation {
        state = state.with_remediation(r);
    }
    router(state)
}

/// What a deployment adds to the `api` Lambda's router, each when configured.
#[derive(Default)]
pub struct Parts {
    /// Live tickets (`POST /live/ticket`), for the WebSocket API's authorizer.
    pub tickets: Option<Arc<dyn Tickets>>,
    /// Export jobs, queued for the `exporter` Lambda.
    pub exports: Option<crate::export::jobs::ExportJobs>,
    /// The Lambda's own token checks and browser sign-in.
    pub own: Option<OwnSignIn>,
    /// Named tokens (`cspm tokens create --table`).
    pub tokens: Option<Arc<dyn crate::auth::tokens::TokenStore>>,
    /// Plans, approvals (queued for the `remediator` Lambda) and records.
    pub remediation: Option<Arc<crate::remediate::service::Remediations>>,
    /// The static admin bearer token ([`super::boot::api_token`]).
    pub api_token: Option<String>,
}

/// Where EMF lines go: a fresh writer for each invocation's lines (stdout on
/// Lambda, a buffer in tests).
pub type EmfOut = Arc<dyn Fn() -> Box<dyn Write + Send> + Send + Sync>;

/// Standard output, one whole line per write: CloudWatch Logs takes stdout line
/// by line, and the log lines `tracing` writes there must not land inside one.
pub fn stdout() -> EmfOut {
    Arc::new(|| Box::new(std::io::LineWriter::new(std::io::stdout())) as Box<dyn Write + Send>)
}

/// `app` printing, after every request, what `registry` counted during it (give
/// the pipeline the same registry with [`Pipeline::with_metrics`]). One request is
/// one invocation; a request that stored nothing prints nothing.
pub fn print_metrics(app: Router, registry: Arc<Registry>, out: EmfOut) -> Router {
    app.layer(axum::middleware::from_fn_with_state(
        Printer { registry, out },
        print_after,
    ))
}

/// What the middleware needs: the counts and where to print them.
#[derive(Clone)]
struct Printer {
    registry: Arc<Registry>,
    out: EmfOut,
}

/// Answers the request, then prints and forgets its counts. The response is
/// complete by then (handlers build whole bodies), so nothing it stores is missed.
async fn print_after(State(p): State<Printer>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let mut out = (p.out)();
    emf::flush(&p.registry, &mut out);
    response
}
