//! GETs to the provider. The provider is remote and may be slow, down or hostile, so
//! every request has timeouts, follows no redirects (a key URL that moves is a
//! configuration change, not something to follow silently) and reads a bounded body.

use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

/// Largest discovery document or key set read; real ones are a few KiB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client for talking to providers: timeouts set, redirects off.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        // Building fails only when the TLS backend cannot initialise: nothing works then.
        .expect("HTTP client with rustls")
}

/// A provider document that could not be fetched or read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connection refused, timeout, TLS failure. Retryable.
    #[error("request to {url} failed: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// A status other than 200. Retryable for 429 and 5xx.
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    /// The body exceeds [`MAX_BODY_BYTES`]. Permanent.
    #[error("{url} sent more than {MAX_BODY_BYTES} bytes")]
    TooLarge { url: String },
    /// The body is not the expected JSON. Permanent.
    #[error("{url} sent unexpected JSON: {source}")]
    Json {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

impl FetchError {
    /// Whether asking again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Transport { .. } => true,
            FetchError::Status { status, .. } => *status == 429 || *status >= 500,
            FetchError::TooLarge { .. } | FetchError::Json { .. } => false,
        }
    }
}

/// GETs `url` and parses its JSON body into `T`.
pub async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &Url,
) -> Result<T, FetchError> {
    let shown = url.as_str().to_string();
    let response = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|source| FetchError::Transport {
            url: shown.clone(),
            source,
        })?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(FetchError::Status {
            url: shown,
            status: response.status().as_u16(),
        });
    }
    let body = read_bounded(response, &shown).await?;
    serde_json::from_slice(&body).map_err(|source| FetchError::Json { url: shown, source })
}

/// Reads a response body of at most [`MAX_BODY_BYTES`]; `url` names it in errors.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    url: &str,
) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(FetchError::TooLarge {
            url: url.to_string(),
        });
    }
    // Content-Length may be absent (chunked): count while reading.
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| FetchError::Transport {
            url: url.to_string(),
            source,
        })?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
