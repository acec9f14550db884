//! The router with browser sign-in against the test provider, and a browser that
//! keeps cookies and follows the sign-in redirects by hand (so each hop can be
//! inspected or tampered with).

use super::provider::{Provider, User, CLIENT_ID};
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use cspm::auth::oidc::{http_client, OidcConfig, OidcProvider};
use cspm::auth::oidc_bearer::OidcBearer;
use cspm::auth::session::{SignIn, SignInSettings, SqliteSessions};
use cspm::auth::Authenticator;
use cspm::http::{router, AppState, HttpConfig};
use cspm::store::{SqliteStore, Store};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;
use url::Url;

/// An admin token also accepted by the app, for bearer-with-cookie checks.
pub const API_TOKEN: &str = "sign-in-tests-api-token-0123";

pub fn analyst() -> User {
    User {
        sub: "u-ana",
        email: "ana@example.com",
        name: "Ana Analyst",
        groups: vec!["analyst"],
    }
}

pub fn viewer() -> User {
    User {
        sub: "u-vic",
        email: "vic@example.com",
        name: "Vic Viewer",
        groups: vec!["observers"],
    }
}

/// The app, its provider and a finding to change.
pub struct Site {
    pub app: Router,
    pub provider: Provider,
    pub finding: String,
    _dir: tempfile::TempDir,
}

impl Site {
    /// A site reached at `public_url` (the callback is `<public_url>/auth/callback`).
    pub async fn start(public_url: &str) -> Site {
        let settings = SignInSettings::new(public_url).unwrap();
        let provider = Provider::start(settings.redirect_uri().as_str()).await;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        let fixtures = crate::helpers::findings(3, 11);
        store.upsert(&fixtures).await.unwrap();
        let pipeline = crate::helpers::pipeline(Arc::new(store) as Arc<dyn Store>);
        let mut config = OidcConfig::new(provider.issuer(), CLIENT_ID).unwrap();
        config.roles_claim = "groups".into();
        let oidc = OidcProvider::connect(config, http_client()).await.unwrap();
        let sessions = Arc::new(SqliteSessions::open_dir(dir.path()).unwrap());
        let signin = SignIn::new(&oidc, http_client(), settings, sessions).unwrap();
        let auth = Authenticator::new(Some(API_TOKEN))
            .with_bearer_verifier(Arc::new(OidcBearer::new(oidc.verifier.clone())));
        let http = HttpConfig {
            api_token: Some(API_TOKEN.into()),
            ..Default::default()
        };
        let state = AppState::new(pipeline, http)
            .with_auth(auth)
            .with_signin(Arc::new(signin));
        Site {
            app: router(state),
            provider,
            finding: fixtures[0].id.clone(),
            _dir: dir,
        }
    }

    /// The `api` Lambda's router reached at `public_url`, its sign-in wired as
    /// its cold start wires it ([`cspm::lambda::boot::sign_in_with`]): a provider
    /// that looks like Cognito (sign-out and revocation under its domain, here
    /// its own origin), sessions in a fresh DynamoDB table on the emulator at
    /// `endpoint`.
    pub async fn lambda(public_url: &str, endpoint: &str) -> Site {
        use cspm::config::lambda::LambdaConfig;
        use cspm::config::signin::SignInConfig;
        let settings = SignInSettings::new(public_url).unwrap();
        let provider = Provider::start(settings.redirect_uri().as_str()).await;
        provider.like_cognito();
        // A confidential client, its secret in an SSM SecureString of its own.
        const SECRET: &str = "cognito-client-secret-0123456789";
        provider.require_secret(SECRET);
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        let fixtures = crate::helpers::findings(3, 11);
        store.upsert(&fixtures).await.unwrap();
        let pipeline = crate::helpers::pipeline(Arc::new(store) as Arc<dyn Store>);
        let sdk = crate::aws_env::sdk_config(endpoint).await;
        let table =
            crate::aws_env::key_table(&cspm::aws::dynamodb_client(&sdk), "auth", "pk").await;
        let parameter = format!(
            "/{}/oidc_client_secret",
            crate::aws_env::unique("cspm-auth")
        );
        crate::aws_env::put_secure(&aws_sdk_ssm::Client::new(&sdk), &parameter, SECRET).await;
        let config = SignInConfig {
            issuer: provider.issuer().into(),
            client_id: CLIENT_ID.into(),
            audience: None,
            roles_claim: Some("groups".into()),
            scopes: None,
            cognito_domain: Some(provider.issuer().into()),
            public_url: Some(public_url.into()),
            auth_table: Some(table),
            max_age: None,
            client_secret_parameter: Some(parameter),
        };
        let own = cspm::lambda::boot::sign_in_with(&config, &sdk, &Default::default())
            .await
            .unwrap();
        assert!(own.signin.is_some(), "browser sign-in is on");
        let lambda =
            LambdaConfig::from_lookup(|k| (k == "CSPM_TABLE_NAME").then(|| "unused".into()))
                .unwrap();
        Site {
            app: cspm::lambda::api::app(
                &lambda,
                pipeline,
                cspm::lambda::api::Parts {
                    own: Some(own),
                    api_token: Some(API_TOKEN.into()),
                    ..Default::default()
                },
            ),
            provider,
            finding: fixtures[0].id.clone(),
            _dir: dir,
        }
    }

    pub fn browser(&self) -> Browser {
        Browser {
            app: self.app.clone(),
            jar: BTreeMap::new(),
            last_set_cookies: Vec::new(),
        }
    }
}

/// An answer: status, headers, JSON body (or `Null`).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// Cookies by name, as a browser keeps them for our origin.
pub struct Browser {
    app: Router,
    pub jar: BTreeMap<String, String>,
    /// The raw `Set-Cookie` values of the last answer.
    pub last_set_cookies: Vec<String>,
}

impl Browser {
    /// Sends a request with the browser's cookies and `extra` headers.
    pub async fn send(&mut self, method: Method, uri: &str, extra: &[(&str, &str)]) -> Answer {
        let mut req = Request::builder().method(method.clone()).uri(uri);
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let body = if method == Method::PATCH {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(r#"{"workflow_status":"NOTIFIED","note":"signed in"}"#)
        } else {
            Body::empty()
        };
        let resp = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        self.last_set_cookies = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &self.last_set_cookies {
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_string(), value.to_string());
            }
        }
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&mut self, uri: &str) -> Answer {
        self.send(Method::GET, uri, &[]).await
    }

    /// `/auth/login?return_to=…`, then the provider's authorization endpoint:
    /// the callback path (with its query) the provider sends the browser to.
    pub async fn visit_provider(&mut self, return_to: Option<&str>) -> String {
        let uri = match return_to {
            Some(r) => format!(
                "/auth/login?return_to={}",
                url::form_urlencoded::byte_serialize(r.as_bytes()).collect::<String>()
            ),
            None => "/auth/login".into(),
        };
        let login = self.get(&uri).await;
        assert_eq!(login.status, StatusCode::FOUND, "{}", login.body);
        let at_provider = http_client().get(login.location()).send().await.unwrap();
        assert_eq!(
            at_provider.status(),
            302,
            "the provider accepted the request"
        );
        let back = Url::parse(at_provider.headers()["location"].to_str().unwrap()).unwrap();
        format!("{}?{}", back.path(), back.query().unwrap_or(""))
    }

    /// Signs in all the way; the callback's answer.
    pub async fn sign_in(&mut self, return_to: Option<&str>) -> Answer {
        let callback = self.visit_provider(return_to).await;
        self.get(&callback).await
    }

    /// The session's CSRF token (from `GET /auth/session`).
    pub async fn csrf(&mut self) -> String {
        let s = self.get("/auth/session").await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.body);
        s.body["csrf_token"].as_str().unwrap().to_string()
    }
}
