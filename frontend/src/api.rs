//! The dashboard's only HTTP client: `config.json`, then the cspm API.

use crate::error::ApiError;
use crate::url::{percent_encode, ListQuery};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use shared_types::{
    ComplianceOverview, FindingDetail, FindingPage, LiveTicket, StandardDetail, Summary,
    WorkflowUpdate,
};
use std::cell::RefCell;

/// `config.json`, written next to `index.html` at deploy time so one build works on any
/// origin (same origin locally, the API Gateway URL behind CloudFront).
#[derive(Debug, Default, Deserialize)]
struct Config {
    /// API origin and path prefix without a trailing slash; empty means same origin.
    #[serde(default)]
    api_base_url: String,
    /// The live WebSocket URL (`wss://…/live`); empty means `/live` on this origin.
    #[serde(default)]
    live_url: String,
}

thread_local! {
    static BASE_URL: RefCell<String> = const { RefCell::new(String::new()) };
    static LIVE_URL: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Reads `/config.json`. When it is missing or unreadable the dashboard falls back to
/// the same origin (what `cspm serve` uses) and says so in the console, since a page that
/// refuses to start is worse than one whose first request explains the problem.
pub async fn load_config() {
    let config = match Request::get("/config.json").send().await {
        Ok(r) if r.ok() => r.json::<Config>().await.ok(),
        _ => None,
    };
    match config {
        Some(c) => {
            BASE_URL.with(|b| *b.borrow_mut() = c.api_base_url.trim_end_matches('/').to_string());
            LIVE_URL.with(|l| *l.borrow_mut() = c.live_url.trim_end_matches('/').to_string());
        }
        None => {
            leptos::logging::warn!("config.json missing or invalid; using this origin for the API")
        }
    }
}

fn url(path: &str) -> String {
    BASE_URL.with(|b| format!("{}{path}", b.borrow()))
}

async fn decode<T: DeserializeOwned>(
    resp: Result<Response, gloo_net::Error>,
) -> Result<T, ApiError> {
    let resp = resp.map_err(|_| ApiError::Unreachable)?;
    if !resp.ok() {
        let body = resp.text().await.unwrap_or_default();
        return Err(ApiError::from_status(resp.status(), &body));
    }
    resp.json::<T>()
        .await
        .map_err(|e| ApiError::BadAnswer(e.to_string()))
}

/// `GET /findings` for the query's filter, page size and cursor.
pub async fn list_findings(q: &ListQuery) -> Result<FindingPage, ApiError> {
    let qs = q.api_query_string();
    let path = if qs.is_empty() {
        "/findings".to_string()
    } else {
        format!("/findings?{qs}")
    };
    decode(Request::get(&url(&path)).send().await).await
}

/// `GET /findings/{id}`.
pub async fn get_finding(id: &str) -> Result<FindingDetail, ApiError> {
    decode(
        Request::get(&url(&format!("/findings/{}", percent_encode(id))))
            .send()
            .await,
    )
    .await
}

/// `PATCH /findings/{id}`: changes the workflow status; the API records the audit entry.
pub async fn update_workflow(id: &str, update: &WorkflowUpdate) -> Result<FindingDetail, ApiError> {
    let req = Request::patch(&url(&format!("/findings/{}", percent_encode(id))))
        .json(update)
        .map_err(|e| ApiError::BadAnswer(e.to_string()))?;
    decode(req.send().await).await
}

/// `GET /summary`.
pub async fn summary() -> Result<Summary, ApiError> {
    decode(Request::get(&url("/summary")).send().await).await
}

/// `GET /compliance`: one score card per standard.
pub async fn compliance() -> Result<ComplianceOverview, ApiError> {
    decode(Request::get(&url("/compliance")).send().await).await
}

/// `GET /compliance/{slug}`: a standard's card and its controls, failing first.
pub async fn compliance_standard(slug: &str) -> Result<StandardDetail, ApiError> {
    decode(
        Request::get(&url(&format!("/compliance/{}", percent_encode(slug))))
            .send()
            .await,
    )
    .await
}

/// `POST /live/ticket`: a single-use ticket to open the live WebSocket with.
pub async fn live_ticket() -> Result<LiveTicket, ApiError> {
    decode(Request::post(&url("/live/ticket")).send().await).await
}

/// The live WebSocket's URL with `ticket`: the configured one (a path such as
/// `/live` means this page's origin, as behind CloudFront), or `/live` on the
/// API's origin (`ws:` or `wss:` like the page).
pub fn live_url(ticket: &str) -> String {
    let configured = LIVE_URL.with(|l| l.borrow().clone());
    let same_origin = |path: &str| {
        let loc = web_sys::window().map(|w| w.location());
        let host = loc.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
        let secure = loc
            .and_then(|l| l.protocol().ok())
            .is_some_and(|p| p == "https:");
        format!("{}://{host}{path}", if secure { "wss" } else { "ws" })
    };
    let base = if configured.starts_with('/') {
        same_origin(&configured)
    } else if !configured.is_empty() {
        configured
    } else {
        let api = url("/live");
        if let Some(rest) = api.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = api.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            same_origin(&api)
        }
    };
    format!("{base}?ticket={}", percent_encode(ticket))
}
