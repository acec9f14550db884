use super::error::ApiError;
use super::AppState;
use axum::extract::State;
use shared_types::Summary;

/// `GET /summary`: exact counts by severity and status, top accounts and resource
/// types, and new findings per day for the last 30 days (UTC).
#[utoipa::path(get, path = "/summary", tag = "findings",
    responses((status = 200, body = Summary), (status = 401, body = shared_types::ErrorBody)))]
pub async fn get_summary(State(state): State<AppState>) -> Result<axum::Json<Summary>, ApiError> {
    let today = chrono::Utc::now().date_naive();
    Ok(axum::Json(state.store().summary(today).await?))
}
