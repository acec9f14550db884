//! How the HTTP layer behaves; built from flags (`cspm serve`) or the environment
//! and SSM (the `api` Lambda).

use std::path::PathBuf;

/// Settings of the router.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// When set, every route but `/health` and the dashboard's static files requires
    /// `Authorization: Bearer <token>`.
    pub api_token: Option<String>,
    /// Origins allowed to call the API from a browser (exact match). Empty: no CORS.
    pub cors_origins: Vec<String>,
    /// Folder with the built dashboard (`index.html`…); `None` serves only the API.
    pub dashboard_dir: Option<PathBuf>,
}
