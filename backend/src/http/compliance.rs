//! `GET /compliance` and `GET /compliance/{slug}`: scores per security standard
//! from the stored control findings, with the daily trend and the controls.

use super::error::ApiError;
use super::extract::Path;
use super::AppState;
use crate::compliance::{daily, standard::is_valid_slug};
use axum::extract::State;
use shared_types::{ComplianceOverview, StandardDetail};

/// `GET /compliance`: one card per standard the stored control findings name —
/// score (passed ÷ controls with data, whole percent), passed/failed/unknown
/// control counts and the 30-day trend of daily snapshots. Enabled controls are
/// the controls with at least one stored finding.
#[utoipa::path(get, path = "/compliance", tag = "compliance",
    responses((status = 200, body = ComplianceOverview), (status = 401, body = shared_types::ErrorBody)))]
pub async fn get_overview(
    State(state): State<AppState>,
) -> Result<axum::Json<ComplianceOverview>, ApiError> {
    let today = chrono::Utc::now().date_naive();
    Ok(axum::Json(
        daily::overview(state.store().as_ref(), today).await?,
    ))
}

/// `GET /compliance/{slug}`: one standard's card and its controls (failed
/// first) with their counts and failing resources.
#[utoipa::path(get, path = "/compliance/{slug}", tag = "compliance",
    params(("slug" = String, Path, description = "Standard slug, e.g. aws-fsbp, cis-1.4, pci-dss-3.2.1, nist-800-53-r5")),
    responses((status = 200, body = StandardDetail), (status = 404, body = shared_types::ErrorBody)))]
pub async fn get_standard(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<axum::Json<StandardDetail>, ApiError> {
    // A slug that could not exist is unknown without a store read (and is
    // never echoed back: it is attacker-controlled text).
    if !is_valid_slug(&slug) {
        return Err(ApiError::NotFound("no such standard".into()));
    }
    let today = chrono::Utc::now().date_naive();
    match daily::standard(state.store().as_ref(), &slug, today).await? {
        Some(d) => Ok(axum::Json(d)),
        None => Err(ApiError::NotFound(format!(
            "no standard {slug:?} in the stored findings"
        ))),
    }
}
