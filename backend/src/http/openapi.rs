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
        super::events::post_events,
        super::health::get_health
    ),
    components(schemas(
        shared_types::Finding, shared_types::FindingListItem, shared_types::FindingPage,
        shared_types::FindingDetail, shared_types::WorkflowUpdate, shared_types::AuditEntry,
        shared_types::Summary, shared_types::TrendPoint, shared_types::KeyCount,
        shared_types::Health, shared_types::ErrorBody, shared_types::ErrorDetail,
        shared_types::Severity, shared_types::WorkflowStatus, shared_types::RecordState,
        shared_types::FindingSource, shared_types::Resource,
        crate::pipeline::outcome::OutcomeBody, crate::pipeline::outcome::NotedBody,
        crate::pipeline::outcome::RejectedBody
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

/// `GET /openapi.json`.
pub async fn get_openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
