//! The role check of protected routes, security headers on every response, and
//! CORS for configured origins only.

use super::error::ApiError;
use super::{AppState, HttpConfig};
use crate::auth::Role;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of every response: the dashboard needs only its own
/// origin plus `wasm-unsafe-eval` to instantiate its WebAssembly.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// Lets the request through when its principal's role includes `required`:
/// 401 without valid credentials (where any are configured), 403 with too small
/// a role. The principal goes into the request for the handler's audit trail.
pub async fn require_role(
    State((state, required)): State<(AppState, Role)>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Split so only the (Sync) headers and extensions are borrowed while waiting.
    let (mut parts, body) = req.into_parts();
    let principal = state
        .auth
        .authenticate(
            &parts.method,
            &parts.headers,
            &parts.extensions,
            chrono::Utc::now(),
        )
        .await?;
    if !principal.role.includes(required) {
        tracing::info!(actor = %principal.actor, role = %principal.role, %required,
            method = %parts.method, path = %parts.uri.path(), "request refused: role too small");
        return Err(ApiError::Forbidden(format!(
            "this needs the {required} role"
        )));
    }
    parts.extensions.insert(principal);
    Ok(next.run(Request::from_parts(parts, body)).await)
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    if allowed.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::OPTIONS])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Wraps the app in tracing, CORS and the security headers.
pub fn layers<S: Clone + Send + Sync + 'static>(app: Router<S>, config: &HttpConfig) -> Router<S> {
    let headers: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    let mut app = app;
    for (name, value) in headers {
        app = app.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    if let Some(cors) = cors(&config.cors_origins) {
        app = app.layer(cors);
    }
    app.layer(tower_http::trace::TraceLayer::new_for_http())
}
