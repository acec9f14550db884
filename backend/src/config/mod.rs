//! One configuration. Every environment variable the code reads is named here
//! (Terraform sets exactly these for the Lambdas, `backend/lambdas.json` lists them
//! per function and `validate.sh` checks both); each part of the configuration is
//! one file below, and the binaries only choose where values come from (flags,
//! environment, SSM).

/// The `archiver` Lambda: where the archive lives.
pub mod archiver;
/// Detection: rules folder, suppressions, account override → the normalizer.
pub mod detection;
/// Export jobs on AWS: the archive bucket and the queue to the `exporter` Lambda.
pub mod exports;
/// The HTTP layer: token, CORS, dashboard files.
pub mod http;
/// The Lambdas: environment plus SSM overlay.
#[cfg(feature = "aws")]
pub mod lambda;
/// The live dashboard's Lambdas (`live`, `live_authorizer`) and the live sink.
pub mod live;
/// Remediation on AWS: the records table, the queue, the remediation file's text.
pub mod remediation;
/// Sign-in on AWS: the provider the `api` Lambda checks tokens of, sessions.
pub mod signin;
/// Which store, and opening it (the one place the DynamoDB store is built).
pub mod store;

pub use detection::{DetectionConfig, DetectionConfigError};
pub use store::{DynamoConfig, OpenError, StoreConfig};

/// Bearer token required on every API route but `/health` (local server).
pub const ENV_API_TOKEN: &str = "CSPM_API_TOKEN";
/// Comma-separated browser origins allowed by CORS.
pub const ENV_CORS_ORIGINS: &str = "CSPM_CORS_ORIGINS";
/// Folder holding the local SQLite database (and the local archive by default).
pub const ENV_DATA_DIR: &str = "CSPM_DATA_DIR";
/// The remediation file (`cspm remediate --remediation FILE`).
pub const ENV_REMEDIATION: &str = "CSPM_REMEDIATION";

/// Which store `cspm` uses: `sqlite` (default) or `dynamodb`.
pub const ENV_STORE: &str = "CSPM_STORE";
/// Endpoint override for every AWS service `cspm` calls (the emulator, DynamoDB Local).
pub const ENV_AWS_ENDPOINT: &str = "CSPM_AWS_ENDPOINT";
/// DynamoDB table holding the findings.
pub const ENV_TABLE_NAME: &str = "CSPM_TABLE_NAME";
/// Days a finding stays hot before it is archived; DynamoDB's TTL is set well
/// after it, and the archive cutoff defaults to it.
pub const ENV_RETENTION_DAYS: &str = "CSPM_RETENTION_DAYS";

/// Folder of user rule files (`*.yaml`), added to (or overriding) the built-in pack;
/// an `alarm-severity.yaml` there replaces the built-in alarm severity mapping.
pub const ENV_RULES_DIR: &str = "CSPM_RULES_DIR";
/// Suppressions file (YAML).
pub const ENV_SUPPRESSIONS: &str = "CSPM_SUPPRESSIONS";
/// Account id written on every finding instead of the document's own
/// (multi-account display and testing). Also read by the scanner Lambda.
pub const ENV_ACCOUNT_ID_OVERRIDE: &str = "CSPM_ACCOUNT_ID_OVERRIDE";

/// SNS topic for alerts at or above the threshold but below CRITICAL.
pub const ENV_STANDARD_TOPIC: &str = "CSPM_SNS_STANDARD_TOPIC_ARN";
/// SNS topic for CRITICAL alerts.
pub const ENV_CRITICAL_TOPIC: &str = "CSPM_SNS_CRITICAL_TOPIC_ARN";
/// Lowest severity that alerts (default `HIGH`).
pub const ENV_ALERT_MIN_SEVERITY: &str = "CSPM_ALERT_MIN_SEVERITY";
/// Base URL of the dashboard, used for links in alerts.
pub const ENV_DASHBOARD_URL: &str = "CSPM_DASHBOARD_URL";
/// SSM path prefix of shared settings and secrets, e.g. `/cspm/prod/`.
pub const ENV_SSM_PREFIX: &str = "CSPM_SSM_PREFIX";

/// The sinks file (YAML) `cspm serve` fans the change feed out to.
pub const ENV_SINKS: &str = "CSPM_SINKS";
/// How long `cspm serve` keeps changes in the local feed (`7d`, `36h`); a change
/// is trimmed only once it is that old and every sink has read it.
pub const ENV_FEED_RETENTION: &str = "CSPM_FEED_RETENTION";
/// DynamoDB table of fan-out state: alert keys already sent (the `fanout` Lambda).
pub const ENV_STATE_TABLE: &str = "CSPM_STATE_TABLE";
/// The WebSocket connections table of the live dashboard on AWS (`live` and
/// `fanout` Lambdas).
pub const ENV_CONNECTIONS_TABLE: &str = "CSPM_CONNECTIONS_TABLE";
/// The API Gateway Management API endpoint of the live WebSocket stage
/// (`https://{api-id}.execute-api.{region}.amazonaws.com/live`).
pub const ENV_LIVE_ENDPOINT: &str = "CSPM_LIVE_ENDPOINT";
/// SSM parameter holding the sinks YAML (the `fanout` Lambda).
pub const ENV_SINKS_PARAMETER: &str = "CSPM_SINKS_PARAMETER";
/// Base URL of the dashboard, for links in alerts (`--public-url`).
pub const ENV_PUBLIC_URL: &str = "CSPM_PUBLIC_URL";

/// The OpenID provider's issuer; setting it turns token checks on.
pub const ENV_OIDC_ISSUER: &str = "CSPM_OIDC_ISSUER";
/// Our client id at the provider.
pub const ENV_OIDC_CLIENT_ID: &str = "CSPM_OIDC_CLIENT_ID";
/// The `aud` access tokens carry when it is not the client id.
pub const ENV_OIDC_AUDIENCE: &str = "CSPM_OIDC_AUDIENCE";
/// The claim holding a user's groups or roles.
pub const ENV_OIDC_ROLES_CLAIM: &str = "CSPM_OIDC_ROLES_CLAIM";
/// Signing keys from this URL instead of discovery's.
pub const ENV_OIDC_JWKS_URL: &str = "CSPM_OIDC_JWKS_URL";
/// Scopes asked for at browser sign-in.
pub const ENV_OIDC_SCOPES: &str = "CSPM_OIDC_SCOPES";
/// A Cognito user pool's domain: sign-out at its `/logout` with Cognito's
/// parameters (`client_id`, `logout_uri`), revocation at its `/oauth2/revoke`.
pub const ENV_OIDC_COGNITO_DOMAIN: &str = "CSPM_OIDC_COGNITO_DOMAIN";
/// The SSM SecureString holding the app client's secret (the `api` Lambda; a path
/// of its own, outside the prefix the other Lambdas read).
pub const ENV_OIDC_CLIENT_SECRET_PARAMETER: &str = "CSPM_OIDC_CLIENT_SECRET_PARAMETER";
/// The SSM SecureString holding the `api` Lambda's static admin bearer token, when
/// the deployment has one (a path of its own, outside the prefix the other Lambdas
/// read; Terraform's `static_api_token`).
pub const ENV_API_TOKEN_PARAMETER: &str = "CSPM_API_TOKEN_PARAMETER";
/// The longest a browser session lasts.
pub const ENV_SESSION_MAX_AGE: &str = "CSPM_SESSION_MAX_AGE";
/// The auth table of an AWS deployment: browser sessions and named tokens (the
/// `api` Lambda; `cspm tokens --table`).
pub const ENV_AUTH_TABLE: &str = "CSPM_AUTH_TABLE";

/// The local audit log's folder (default `DATA_DIR/audit`; `cspm serve`, `cspm audit`).
pub const ENV_AUDIT_DIR: &str = "CSPM_AUDIT_DIR";
/// The audit bucket (Object Lock) the `fanout` Lambda chains audit lines into;
/// unset = no audit log on AWS.
pub const ENV_AUDIT_BUCKET: &str = "CSPM_AUDIT_BUCKET";

/// Local archive folder (`cspm archive`, `cspm serve`).
pub const ENV_ARCHIVE_DIR: &str = "CSPM_ARCHIVE_DIR";
/// S3 archive location `s3://bucket/prefix` (`cspm archive`, `cspm serve`).
pub const ENV_ARCHIVE_S3: &str = "CSPM_ARCHIVE_S3";
/// Bucket the archiver Lambda writes parts and manifests to.
pub const ENV_ARCHIVE_BUCKET: &str = "CSPM_ARCHIVE_BUCKET";
/// Key prefix inside the archive bucket (optional).
pub const ENV_ARCHIVE_PREFIX: &str = "CSPM_ARCHIVE_PREFIX";
/// KMS key for SSE-KMS of archive objects (optional; SSE-S3 without it).
pub const ENV_ARCHIVE_KMS_KEY: &str = "CSPM_ARCHIVE_KMS_KEY_ARN";

/// The SQS queue of export jobs the `exporter` Lambda reads (the `api` Lambda
/// sends to it).
pub const ENV_EXPORT_QUEUE_URL: &str = "CSPM_EXPORT_QUEUE_URL";

/// The DynamoDB table of remediation records and per-account attempt counts
/// (the `api` and `remediator` Lambdas).
pub const ENV_REMEDIATION_TABLE: &str = "CSPM_REMEDIATION_TABLE";
/// The SQS queue of approved remediations the `remediator` Lambda reads (the
/// `api` Lambda sends approvals to it).
pub const ENV_REMEDIATION_QUEUE_URL: &str = "CSPM_REMEDIATION_QUEUE_URL";
/// The remediation file's YAML itself (what `--remediation FILE` holds), as
/// Terraform writes it from its variables.
pub const ENV_REMEDIATION_CONFIG: &str = "CSPM_REMEDIATION_CONFIG";

/// Retention when `CSPM_RETENTION_DAYS` is not set.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// A configuration value that is missing or unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("{name}: {message}")]
    Invalid {
        /// Variable (or SSM parameter) name.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Splits a comma-separated list, trimming and dropping empty items.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
