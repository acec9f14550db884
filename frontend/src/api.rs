//! The dashboard's only HTTP client: `config.json`, then the cspm API.
//!
//! With browser sign-in the credential is the session cookie, which the browser
//! sends by itself (same origin); what this module adds is the session's CSRF
//! token on every unsafe request, and the news that a session ended.

use crate::error::ApiError;
use crate::session::SignIn;
use crate::url::{encode_pairs, percent_encode, ListQuery};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use shared_types::{
    BulkWorkflowRequest, BulkWorkflowResult, ComplianceOverview, ExportJob, ExportRequest,
    FailingFindings, FindingDetail, FindingFilter, FindingGroups, FindingPage, GroupBy, LiveTicket,
    LogoutInfo, RemediationList, RemediationPlan, RemediationQueued, RemediationRequest,
    RemediationStatus, SessionInfo, StandardDetail, Summary, WorkflowUpdate, MAX_LIMIT,
};
use std::cell::RefCell;
use std::rc::Rc;

/// The header the API wants on POST, PUT, PATCH and DELETE made with a session cookie.
const CSRF_HEADER: &str = "X-CSRF-Token";

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
    /// The signed-in session's CSRF token; `None` without a session.
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Told when a request made with a session gets 401: the session ended.
    static ON_SESSION_END: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Runs `f` when an API call made during a session answers 401 (the session
/// expired or was ended elsewhere), so the page can ask to sign in again.
pub fn on_session_end(f: impl Fn() + 'static) {
    ON_SESSION_END.with(|h| *h.borrow_mut() = Some(Rc::new(f)));
}

/// Forgets the session and tells the page, once per session.
fn session_ended() {
    let had_session = CSRF.with(|c| c.borrow_mut().take()).is_some();
    if had_session {
        if let Some(f) = ON_SESSION_END.with(|h| h.borrow().clone()) {
            f();
        }
    }
}

/// `builder` with the CSRF header when a session is held. Every unsafe request goes
/// through here; without a session (open mode, bearer tokens) nothing is added.
fn with_csrf(builder: RequestBuilder) -> RequestBuilder {
    match CSRF.with(|c| c.borrow().clone()) {
        Some(token) => builder.header(CSRF_HEADER, &token),
        None => builder,
    }
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
        let err = ApiError::from_status(resp.status(), &body);
        if err.is_unauthorized() {
            session_ended();
        }
        return Err(err);
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

/// `GET /findings/groups`: the view of `filter` grouped by `by`, most severe
/// group first (the API's default of 100 groups).
pub async fn finding_groups(
    filter: &FindingFilter,
    by: GroupBy,
    limit: u32,
) -> Result<FindingGroups, ApiError> {
    let mut pairs = filter.to_pairs();
    pairs.insert(0, ("by", by.as_str().to_string()));
    pairs.push(("limit", limit.to_string()));
    let path = format!("/findings/groups?{}", encode_pairs(&pairs));
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
    let req = with_csrf(Request::patch(&url(&format!(
        "/findings/{}",
        percent_encode(id)
    ))))
    .json(update)
    .map_err(|e| ApiError::BadAnswer(e.to_string()))?;
    decode(req.send().await).await
}

/// `GET /findings/{id}/remediation/plan`: what remediating the finding would do.
pub async fn remediation_plan(id: &str) -> Result<RemediationPlan, ApiError> {
    let path = format!("/findings/{}/remediation/plan", percent_encode(id));
    decode(Request::get(&url(&path)).send().await).await
}

/// `POST /findings/{id}/remediation`: approves it for the state the plan was
/// made on; the worker applies it.
pub async fn approve_remediation(
    id: &str,
    expect_state: Option<String>,
) -> Result<RemediationQueued, ApiError> {
    let path = format!("/findings/{}/remediation", percent_encode(id));
    let req = with_csrf(Request::post(&url(&path)))
        .json(&RemediationRequest { expect_state })
        .map_err(|e| ApiError::BadAnswer(e.to_string()))?;
    decode(req.send().await).await
}

/// `GET /remediations?finding=ID`: the finding's remediations, newest first.
pub async fn remediations_of(id: &str) -> Result<RemediationList, ApiError> {
    let path = format!("/remediations?finding={}", percent_encode(id));
    decode(Request::get(&url(&path)).send().await).await
}

/// How many records the remediations page asks for (the API allows 1000).
pub const REMEDIATIONS_LIMIT: u32 = 200;

/// `GET /remediations?status=S&limit=N`: the newest [`REMEDIATIONS_LIMIT`]
/// remediations of every finding, or only those in `status`, newest first.
pub async fn remediations(status: Option<RemediationStatus>) -> Result<RemediationList, ApiError> {
    let mut pairs = vec![("limit", REMEDIATIONS_LIMIT.to_string())];
    if let Some(s) = status {
        pairs.push(("status", s.as_str().to_string()));
    }
    let path = format!("/remediations?{}", encode_pairs(&pairs));
    decode(Request::get(&url(&path)).send().await).await
}

/// `POST /findings/workflow`: one status and note for many findings; the API
/// records an audit entry per finding and answers what it changed.
pub async fn bulk_workflow(req: &BulkWorkflowRequest) -> Result<BulkWorkflowResult, ApiError> {
    let req = with_csrf(Request::post(&url("/findings/workflow")))
        .json(req)
        .map_err(|e| ApiError::BadAnswer(e.to_string()))?;
    decode(req.send().await).await
}

/// `POST /exports`: starts writing the export `req` asks for; poll it with
/// [`export_job`].
pub async fn start_export(req: &ExportRequest) -> Result<ExportJob, ApiError> {
    let req = with_csrf(Request::post(&url("/exports")))
        .json(req)
        .map_err(|e| ApiError::BadAnswer(e.to_string()))?;
    decode(req.send().await).await
}

/// How many findings `filter` matches: the number a person confirms before a
/// change to "all matching". The list's `total` when it is exact (counters: one
/// request whatever the number); otherwise counted by walking the list's pages
/// and stopping once past `bound`, since a change must name the exact number.
pub async fn count_matching(filter: &FindingFilter, bound: u64) -> Result<u64, ApiError> {
    let mut q = ListQuery {
        filter: filter.clone(),
        limit: MAX_LIMIT,
        ..ListQuery::default()
    };
    let mut n = 0u64;
    loop {
        let page = list_findings(&q).await?;
        if let (0, Some(total), Some(true)) = (n, page.total, page.total_is_exact) {
            return Ok(total);
        }
        n += page.items.len() as u64;
        match page.next_cursor {
            Some(c) if n <= bound => q.cursor = Some(c),
            _ => return Ok(n),
        }
    }
}

/// `GET /exports/{id}`: how far the export is; its download URL once done.
pub async fn export_job(id: &str) -> Result<ExportJob, ApiError> {
    decode(
        Request::get(&url(&format!("/exports/{}", percent_encode(id))))
            .send()
            .await,
    )
    .await
}

/// Where a finished export's `url` is fetched from: through the API (same
/// credentials as every call here: the session cookie) or a presigned link.
pub fn export_href(job_url: &str) -> String {
    BASE_URL.with(|b| crate::export::download_href(&b.borrow(), job_url))
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

/// `GET /compliance/{slug}/controls/{control_id}/failing`: a page of the
/// findings that make a control fail, after `after` (the last page's
/// `next_after`).
pub async fn failing_findings(
    slug: &str,
    control_id: &str,
    after: Option<&str>,
) -> Result<FailingFindings, ApiError> {
    let path = crate::compliance::failing_api_path(slug, control_id, after);
    decode(Request::get(&url(&path)).send().await).await
}

/// `POST /live/ticket`: a single-use ticket to open the live WebSocket with.
pub async fn live_ticket() -> Result<LiveTicket, ApiError> {
    decode(with_csrf(Request::post(&url("/live/ticket"))).send().await).await
}

/// `GET /auth/session`: who is signed in here. Keeps the CSRF token for later
/// unsafe requests. 401 and 204 are answers (signed out; no sign-in configured),
/// not failures.
pub async fn session() -> Result<SignIn, ApiError> {
    let resp = Request::get(&url("/auth/session"))
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)?;
    if resp.status() != 200 {
        if let Some(state) = SignIn::from_status(resp.status()) {
            CSRF.with(|c| c.borrow_mut().take());
            return Ok(state);
        }
        let body = resp.text().await.unwrap_or_default();
        return Err(ApiError::from_status(resp.status(), &body));
    }
    let info: SessionInfo = resp
        .json()
        .await
        .map_err(|e| ApiError::BadAnswer(e.to_string()))?;
    CSRF.with(|c| *c.borrow_mut() = Some(info.csrf_token.clone()));
    Ok(SignIn::SignedIn(info))
}

/// `POST /auth/logout`: ends the session here; the answer says where to end it
/// at the provider too. The session is forgotten locally whatever the answer.
pub async fn logout() -> Result<LogoutInfo, ApiError> {
    let resp = with_csrf(Request::post(&url("/auth/logout"))).send().await;
    CSRF.with(|c| c.borrow_mut().take());
    decode(resp).await
}

/// The link that signs in and comes back to `here` (see [`crate::session::login_href`]).
pub fn login_href(here: &str) -> String {
    BASE_URL.with(|b| crate::session::login_href(&b.borrow(), here))
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
