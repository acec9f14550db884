//! Every API route in one table — method, path, who may call it, handler, its
//! description — so the router, the role check, the OpenAPI document (its paths
//! and their `x-required-role`) and the tests' role matrix all read the same
//! declarations: a route is registered once.

use super::MAX_EVENTS_BODY_BYTES;
use super::{
    auth_routes, bulk, compliance, events, export, exports, findings, groups, health, live,
    metrics, openapi, remediation, summary, AppState,
};
use crate::auth::Role;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, patch, post, MethodRouter};

pub use super::access::{http_method, Access, Doc, Route};

/// One declaration. `doc` is the handler's `#[utoipa::path]`; it must name the
/// same method and path, or the router is not built (every test would fail).
fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
    doc: Doc,
) -> (Route, MethodRouter<AppState>) {
    assert!(
        doc.path() == path && doc.methods() == [http_method(&method)],
        "{method} {path} is documented as {doc:?}"
    );
    (
        Route {
            method,
            path,
            access,
            doc,
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
        route(
            Method::GET,
            "/findings",
            role(Viewer),
            get(findings::list),
            Doc::of::<findings::__path_list>(),
        ),
        // A static segment wins over `{id}`. Streamed, so compressed on the fly
        // (the rest of the API answers small JSON).
        route(
            Method::GET,
            "/findings/export",
            role(Viewer),
            get(export::get_export).layer(tower_http::compression::CompressionLayer::new()),
            Doc::of::<export::__path_get_export>(),
        ),
        // Static, so it wins over `{id}` (short ids never spell "groups").
        route(
            Method::GET,
            "/findings/groups",
            role(Viewer),
            get(groups::get_groups),
            Doc::of::<groups::__path_get_groups>(),
        ),
        // Static, so it wins over `{id}` (short ids never spell "workflow").
        route(
            Method::POST,
            "/findings/workflow",
            role(Analyst),
            post(bulk::post_workflow),
            Doc::of::<bulk::__path_post_workflow>(),
        ),
        route(
            Method::GET,
            "/findings/{id}",
            role(Viewer),
            get(findings::get_one),
            Doc::of::<findings::__path_get_one>(),
        ),
        route(
            Method::PATCH,
            "/findings/{id}",
            role(Analyst),
            patch(findings::patch_one),
            Doc::of::<findings::__path_patch_one>(),
        ),
        // Remediation: a plan is a read; approving changes AWS, so analyst.
        route(
            Method::GET,
            "/findings/{id}/remediation/plan",
            role(Viewer),
            get(remediation::get_plan),
            Doc::of::<remediation::__path_get_plan>(),
        ),
        route(
            Method::POST,
            "/findings/{id}/remediation",
            role(Analyst),
            post(remediation::post_remediation),
            Doc::of::<remediation::__path_post_remediation>(),
        ),
        route(
            Method::GET,
            "/remediations",
            role(Viewer),
            get(remediation::list_remediations),
            Doc::of::<remediation::__path_list_remediations>(),
        ),
        route(
            Method::GET,
            "/remediations/{rid}",
            role(Viewer),
            get(remediation::get_remediation),
            Doc::of::<remediation::__path_get_remediation>(),
        ),
        // Export jobs: an export is a read. Each handler also checks that the job
        // is the caller's (or the caller an admin).
        route(
            Method::POST,
            "/exports",
            role(Viewer),
            post(exports::post_export),
            Doc::of::<exports::__path_post_export>(),
        ),
        route(
            Method::GET,
            "/exports/{id}",
            role(Viewer),
            get(exports::get_export_job),
            Doc::of::<exports::__path_get_export_job>(),
        ),
        route(
            Method::GET,
            "/exports/{id}/download",
            role(Viewer),
            get(exports::get_export_download),
            Doc::of::<exports::__path_get_export_download>(),
        ),
        route(
            Method::GET,
            "/summary",
            role(Viewer),
            get(summary::get_summary),
            Doc::of::<summary::__path_get_summary>(),
        ),
        route(
            Method::GET,
            "/compliance",
            role(Viewer),
            get(compliance::get_overview),
            Doc::of::<compliance::__path_get_overview>(),
        ),
        route(
            Method::GET,
            "/compliance/{slug}",
            role(Viewer),
            get(compliance::get_standard),
            Doc::of::<compliance::__path_get_standard>(),
        ),
        route(
            Method::GET,
            "/compliance/{slug}/controls/{control_id}/failing",
            role(Viewer),
            get(compliance::get_failing_findings),
            Doc::of::<compliance::__path_get_failing_findings>(),
        ),
        // Ingest: event shippers' tokens; analyst and admin include it.
        route(
            Method::POST,
            "/events",
            role(Ingest),
            post(events::post_events).layer(DefaultBodyLimit::max(MAX_EVENTS_BODY_BYTES)),
            Doc::of::<events::__path_post_events>(),
        ),
        route(
            Method::GET,
            "/openapi.json",
            role(Viewer),
            get(openapi::get_openapi),
            Doc::of::<openapi::__path_get_openapi>(),
        ),
        route(
            Method::POST,
            "/live/ticket",
            role(Viewer),
            post(live::post_ticket),
            Doc::of::<live::__path_post_ticket>(),
        ),
        route(
            Method::GET,
            "/live",
            Ticket(Viewer),
            get(live::get_live),
            Doc::of::<live::__path_get_live>(),
        ),
        // Admin, and loopback peers only (checked by the handler): the counters
        // name sinks and channels.
        route(
            Method::GET,
            "/metrics",
            role(Admin),
            get(metrics::get_metrics),
            Doc::of::<metrics::__path_get_metrics>(),
        ),
        route(
            Method::GET,
            "/health",
            Public,
            get(health::get_health),
            Doc::of::<health::__path_get_health>(),
        ),
        // Browser sign-in: how a browser gets credentials, so public; each handler
        // checks the sign-in state, the session and the CSRF token it needs.
        route(
            Method::GET,
            "/auth/login",
            Public,
            get(auth_routes::get_login),
            Doc::of::<auth_routes::__path_get_login>(),
        ),
        route(
            Method::GET,
            "/auth/callback",
            Public,
            get(auth_routes::get_callback),
            Doc::of::<auth_routes::__path_get_callback>(),
        ),
        route(
            Method::GET,
            "/auth/session",
            Public,
            get(auth_routes::get_session),
            Doc::of::<auth_routes::__path_get_session>(),
        ),
        route(
            Method::POST,
            "/auth/logout",
            Public,
            post(auth_routes::post_logout),
            Doc::of::<auth_routes::__path_post_logout>(),
        ),
    ]
}

/// Every API route and who may call it.
pub fn table() -> Vec<Route> {
    declared().into_iter().map(|(r, _)| r).collect()
}
