//! `GET /metrics`: the running counters in Prometheus text format, for a local
//! Prometheus/Grafana. It needs the admin role (the counters name sinks and
//! channels, which is more than a viewer should learn) and answers loopback peers
//! only: a request that did not come over a socket with a loopback peer (the `api`
//! Lambda, a proxy on another host) gets 403; on AWS the same counters are EMF
//! lines in CloudWatch instead. With no authentication configured a loopback
//! scraper needs no secret, as every loopback caller then acts as admin.

use super::error::ApiError;
use super::AppState;
use crate::metrics::{prometheus, LIVE_CONNECTIONS};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// `GET /metrics` (admin, loopback peers only).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String, description = "Prometheus text format"),
        (status = 401, body = shared_types::ErrorBody), (status = 403, body = shared_types::ErrorBody),
        (status = 404, body = shared_types::ErrorBody, description = "This server counts no metrics")))]
pub async fn get_metrics(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if !peer.is_some_and(|p| p.ip().is_loopback()) {
        return Err(ApiError::Forbidden(
            "/metrics answers loopback clients only".into(),
        ));
    }
    let registry = state
        .pipeline
        .metrics()
        .ok_or_else(|| ApiError::NotFound("this server counts no metrics".into()))?;
    if let Some(live) = &state.live {
        registry.set(&LIVE_CONNECTIONS, &[], live.hub.connections() as f64);
    }
    Ok((
        [(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)],
        prometheus::render(registry),
    )
        .into_response())
}
