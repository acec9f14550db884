use super::error::ApiError;
use super::AppState;
use axum::extract::State;
use shared_types::Health;

/// `GET /health`: 200 when the store answers (no authentication needed).
#[utoipa::path(get, path = "/health", tag = "operations", security(()),
    responses((status = 200, body = Health), (status = 503, body = shared_types::ErrorBody)))]
pub async fn get_health(State(state): State<AppState>) -> Result<axum::Json<Health>, ApiError> {
    state.store().ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: store did not answer");
        ApiError::Unavailable
    })?;
    Ok(axum::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}
