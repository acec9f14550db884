use super::access::{Access, Route, RouteTable};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API description, generated from the handlers' `#[utoipa::path]` annotations
/// and the shared types' schemas, so it cannot drift from the code.
#[derive(OpenApi)]
#[openapi(
    info(title = "cspm-monitor API", description = "Cloud security posture findings for AWS."),
    paths(
        super::findings::list,
        super::export::get_export,
        super::findings::get_one,
        super::findings::patch_one,
        super::summary::get_summary,
        super::compliance::get_overview,
        super::compliance::get_standard,
        super::events::post_events,
        super::live::post_ticket,
        super::live::get_live,
        super::metrics::get_metrics,
        get_openapi,
        super::health::get_health,
        super::auth_routes::get_login,
        super::auth_routes::get_callback,
        super::auth_routes::get_session,
        super::auth_routes::post_logout
    ),
    components(schemas(
        shared_types::Finding, shared_types::FindingListItem, shared_types::FindingPage,
        shared_types::FindingDetail, shared_types::WorkflowUpdate, shared_types::AuditEntry,
        shared_types::Summary, shared_types::TrendPoint, shared_types::KeyCount,
        shared_types::Health, shared_types::ErrorBody, shared_types::ErrorDetail,
        shared_types::Severity, shared_types::WorkflowStatus, shared_types::RecordState,
        shared_types::FindingSource, shared_types::Resource, shared_types::LiveTicket,
        shared_types::SessionInfo, shared_types::SessionUser, shared_types::LogoutInfo,
        crate::pipeline::outcome::OutcomeBody, crate::pipeline::outcome::NotedBody,
        crate::pipeline::outcome::RejectedBody,
        shared_types::ComplianceOverview, shared_types::StandardScore,
        shared_types::StandardDetail, shared_types::ControlResult,
        shared_types::ControlStatus, shared_types::ScorePoint
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The extension naming the role an operation needs (`viewer`, `analyst`,
/// `admin`, or `ingest`, which analyst and admin include).
pub const REQUIRED_ROLE: &str = "x-required-role";

/// The document with each operation's `x-required-role` from `routes` (the same
/// declarations the router enforces) and the 401/403 answers the role check gives.
pub fn document(routes: &[Route]) -> utoipa::openapi::OpenApi {
    let mut openapi = ApiDoc::openapi();
    required_roles(&mut openapi, routes);
    openapi
}

fn required_roles(openapi: &mut utoipa::openapi::OpenApi, routes: &[Route]) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    for route in routes {
        let Some(item) = openapi.paths.paths.get_mut(route.path) else {
            continue;
        };
        let operation = match route.method.as_str() {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PATCH" => item.patch.as_mut(),
            "PUT" => item.put.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        };
        let (Some(op), Some(role)) = (operation, route.access.role()) else {
            continue;
        };
        op.extensions
            .get_or_insert_with(Default::default)
            .insert(REQUIRED_ROLE.into(), role.as_str().into());
        if !matches!(route.access, Access::Role(_)) {
            continue;
        }
        for (status, what) in [
            ("401", "Credentials missing or refused"),
            ("403", "The caller's role does not include the required one"),
        ] {
            op.responses
                .responses
                .entry(status.into())
                .or_insert_with(|| {
                    let body = ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build();
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(what)
                            .content("application/json", body)
                            .build(),
                    )
                });
        }
    }
}

/// `GET /openapi.json`: this document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, content_type = "application/json", body = Object, description = "The OpenAPI 3.1 document")))]
pub async fn get_openapi(
    axum::Extension(routes): axum::Extension<RouteTable>,
) -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(document(&routes.0))
}
