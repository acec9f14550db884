//! Secrets are referenced from configuration, never written in it: `secret_env:
//! NAME` reads an environment variable (local), `secret_ssm: /path` an SSM
//! SecureString parameter (AWS). The value never appears in a log line, an error
//! or a `Debug` print.

use serde::Deserialize;

/// A secret value; `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value read from somewhere safe.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it (signing, an Authorization header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// An SSM parameter (SecureString, decrypted on read).
    Ssm(String),
}

/// A secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set (or empty).
    #[error("the environment variable {0} (secret_env) is not set")]
    EnvMissing(String),
    /// SSM is not available here (a local run naming `secret_ssm`).
    #[error("secret_ssm {0} needs AWS (SSM); locally use secret_env")]
    NoSsm(String),
    /// SSM answered with an error.
    #[error("SSM GetParameter {name}: {message}")]
    Ssm {
        /// The parameter.
        name: String,
        /// The SDK's error.
        message: String,
    },
}

impl SecretRef {
    /// From a config entry's `secret_env` / `secret_ssm` fields (at most one given).
    pub fn from_fields(env: Option<&str>, ssm: Option<&str>) -> Option<SecretRef> {
        match (env, ssm) {
            (Some(e), _) => Some(SecretRef::Env(e.to_string())),
            (None, Some(p)) => Some(SecretRef::Ssm(p.to_string())),
            (None, None) => None,
        }
    }

    /// Where the secret is, for messages: `$NAME` or `ssm:/path` (never the value).
    pub fn describe(&self) -> String {
        match self {
            SecretRef::Env(name) => format!("${name}"),
            SecretRef::Ssm(name) => format!("ssm:{name}"),
        }
    }

    /// Reads the secret (once, when sinks are built); `sdk` is needed for SSM.
    pub async fn resolve(
        &self,
        sdk: Option<&crate::aws::SdkConfig>,
    ) -> Result<Secret, SecretError> {
        match self {
            SecretRef::Env(name) => std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map(Secret)
                .ok_or_else(|| SecretError::EnvMissing(name.clone())),
            SecretRef::Ssm(name) => {
                let sdk = sdk.ok_or_else(|| SecretError::NoSsm(name.clone()))?;
                read_ssm(sdk, name).await
            }
        }
    }
}

/// Reads a SecureString parameter, decrypted.
#[cfg(feature = "aws")]
async fn read_ssm(sdk: &crate::aws::SdkConfig, name: &str) -> Result<Secret, SecretError> {
    let out = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| SecretError::Ssm {
            name: name.to_string(),
            message: crate::aws::error_text(&e),
        })?;
    Ok(Secret(
        out.parameter()
            .and_then(|p| p.value())
            .unwrap_or_default()
            .to_string(),
    ))
}

/// Without the AWS adapters there is no SDK configuration to read with.
#[cfg(not(feature = "aws"))]
async fn read_ssm(sdk: &crate::aws::SdkConfig, _name: &str) -> Result<Secret, SecretError> {
    match *sdk {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_themselves() {
        let s = Secret("hunter2".into());
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "hunter2");
    }
}
