//! Serving the built dashboard: files from its folder, `index.html` for every app
//! route (the single-page app routes in the browser).

use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::path::Path;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// The static file service with the `index.html` fallback.
pub fn service(dir: &Path) -> ServeDir<ServeFile> {
    // `fallback` (not `not_found_service`) so app routes answer 200, as a page should.
    ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .fallback(ServeFile::new(dir.join("index.html")))
}

/// Browser navigations that must reach the server, at `/` and under `/api`: the
/// sign-in routes (they redirect to the provider and back) and an export's file
/// (the dashboard saves it through a link, which the browser fetches like a page).
fn reaches_server(path: &str) -> bool {
    let path = path.strip_prefix("/api").unwrap_or(path);
    path.starts_with("/auth/") || (path.starts_with("/exports/") && path.ends_with("/download"))
}

/// True for a browser navigation (it asks for HTML) to anything but those,
/// false for API clients (`curl`, `fetch`), which accept JSON or anything.
fn wants_html(req: &Request) -> bool {
    req.method() == Method::GET
        && !reaches_server(req.uri().path())
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with("text/html"))
}

/// A browser navigating to an app route that shares its path with the API (e.g.
/// reloading `/findings?severity=CRITICAL`) gets the dashboard, not JSON.
pub async fn html_navigation(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match &state.config.dashboard_dir {
        Some(dir) if wants_html(&req) => {
            let index = dir.join("index.html");
            match ServeFile::new(index).oneshot(req).await {
                Ok(mut resp) => {
                    resp.headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                    resp.into_response()
                }
                Err(never) => match never {},
            }
        }
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn navigation(path: &str) -> Request {
        Request::get(path)
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn sign_in_and_download_navigations_reach_the_server_and_app_routes_get_the_page() {
        assert!(!wants_html(&navigation("/auth/login?return_to=%2F")));
        let id = "0123456789abcdef0123456789abcdef";
        assert!(!wants_html(&navigation(&format!("/exports/{id}/download"))));
        assert!(!wants_html(&navigation(&format!(
            "/api/exports/{id}/download"
        ))));
        assert!(wants_html(&navigation(&format!("/exports/{id}"))));
        assert!(!wants_html(&navigation("/auth/callback?code=c&state=s")));
        assert!(!wants_html(&navigation("/api/auth/login")));
        assert!(wants_html(&navigation("/findings?severity=CRITICAL")));
        assert!(wants_html(&navigation("/ui/findings")));
        assert!(wants_html(&navigation("/authors")));
    }
}
