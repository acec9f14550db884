use super::access::{http_method, Access, Route, RouteTable};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API description's frame: title, the bearer scheme, the default security
/// requirement. Its operations come from the route table (see [`document`]), so
/// the document lists exactly what the router serves.
#[derive(OpenApi)]
#[openapi(
    info(title = "cspm-monitor API", description = "Cloud security posture findings for AWS."),
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

/// The document: one operation per declared route (its handler's
/// `#[utoipa::path]`) with the schemas it refers to, each with its
/// `x-required-role` from `routes` (the same declarations the router enforces)
/// and the 401/403 answers the role check gives.
pub fn document(routes: &[Route]) -> utoipa::openapi::OpenApi {
    let mut openapi = ApiDoc::openapi();
    let mut schemas = Vec::new();
    for route in routes {
        let mut operation = route.doc.operation();
        required_role(&mut operation, route.access);
        openapi
            .paths
            .add_path_operation(route.path, vec![http_method(&route.method)], operation);
        route.doc.schemas(&mut schemas);
    }
    let components = openapi.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
    openapi
}

/// Writes who may call `op` and, for a role check, the answers it gives.
fn required_role(op: &mut Operation, access: Access) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let Some(role) = access.role() else {
        return;
    };
    op.extensions
        .get_or_insert_with(Default::default)
        .insert(REQUIRED_ROLE.into(), role.as_str().into());
    if !matches!(access, Access::Role(_)) {
        return;
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

/// `GET /openapi.json`: this document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, content_type = "application/json", body = Object, description = "The OpenAPI 3.1 document")))]
pub async fn get_openapi(
    axum::Extension(routes): axum::Extension<RouteTable>,
) -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(document(&routes.0))
}
