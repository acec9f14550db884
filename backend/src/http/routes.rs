//! Every API route in one table — method, path, who may call it, handler — so the
//! router, the role check, the OpenAPI document's `x-required-role` and the tests'
//! role matrix all read the same declarations.

use super::MAX_EVENTS_BODY_BYTES;
use super::{
    auth_routes, compliance, events, export, findings, health, live, metrics, openapi, summary,
    AppState,
};
use crate::auth::Role;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, patch, post, MethodRouter};

pub use super::access::{Access, Route};

fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> (Route, MethodRouter<AppState>) {
    (
        Route {
            method,
            path,
            access,
        },
        handler,
    )
}

/// The declarations with their handlers: the one place a route's role is set.
pub(super) fn declared() -> Vec<(Route, MethodRouter<AppState>)> {
    use Access::{Public, Ticket};
    use Role::{Admin, Analyst, Ingest, Viewer};
    let role = Access::Role;
    vec![
        route(Method::GET, "/findings", role(Viewer), get(findings::list)),
        // A static segment wins over `{id}`. Streamed, so compressed on the fly
        // (the rest of the API answers small JSON).
        route(
            Method::GET,
            "/findings/export",
            role(Viewer),
            get(export::get_export).layer(tower_http::compression::CompressionLayer::new()),
        ),
        route(
            Method::GET,
            "/findings/{id}",
            role(Viewer),
            get(findings::get_one),
        ),
        route(
            Method::PATCH,
            "/findings/{id}",
            role(Analyst),
            patch(findings::patch_one),
        ),
        route(
            Method::GET,
            "/summary",
            role(Viewer),
            get(summary::get_summary),
        ),
        route(
            Method::GET,
            "/compliance",
            role(Viewer),
            get(compliance::get_overview),
        ),
        route(
            Method::GET,
            "/compliance/{slug}",
            role(Viewer),
            get(compliance::get_standard),
        ),
        // Ingest: event shippers' tokens; analyst and admin include it.
        route(
            Method::POST,
            "/events",
            role(Ingest),
            post(events::post_events).layer(DefaultBodyLimit::max(MAX_EVENTS_BODY_BYTES)),
        ),
        route(
            Method::GET,
            "/openapi.json",
            role(Viewer),
            get(openapi::get_openapi),
        ),
        route(
            Method::POST,
            "/live/ticket",
            role(Viewer),
            post(live::post_ticket),
        ),
        route(Method::GET, "/live", Ticket(Viewer), get(live::get_live)),
        // Admin, and loopback peers only (checked by the handler): the counters
        // name sinks and channels.
        route(
            Method::GET,
            "/metrics",
            role(Admin),
            get(metrics::get_metrics),
        ),
        route(Method::GET, "/health", Public, get(health::get_health)),
        // Browser sign-in: how a browser gets credentials, so public; each handler
        // checks the sign-in state, the session and the CSRF token it needs.
        route(
            Method::GET,
            "/auth/login",
            Public,
            get(auth_routes::get_login),
        ),
        route(
            Method::GET,
            "/auth/callback",
            Public,
            get(auth_routes::get_callback),
        ),
        route(
            Method::GET,
            "/auth/session",
            Public,
            get(auth_routes::get_session),
        ),
        route(
            Method::POST,
            "/auth/logout",
            Public,
            post(auth_routes::post_logout),
        ),
    ]
}

/// Every API route and who may call it.
pub fn table() -> Vec<Route> {
    declared().into_iter().map(|(r, _)| r).collect()
}
