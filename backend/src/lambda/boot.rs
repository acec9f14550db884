//! Cold-start wiring: configuration from the environment, SSM parameters read once,
//! SDK clients built once and reused by every invocation.

use super::scanner::Scanner;
use crate::aws::{dynamodb_client, sdk_config, AwsTarget};
use crate::config::lambda::{read_ssm_parameters, LambdaConfig, SSM_SYNC_STATE};
use crate::config::ConfigError;
use crate::detect::finding::FindingSettings;
use crate::detect::on_demand::OnDemandRules;
use crate::detect::suppress::Suppressions;
use crate::pipeline::Pipeline;
use crate::sources::cloudwatch_alarm::AlarmSeverityMap;
use crate::sources::security_hub::sync::Syncer;
use crate::sources::Normalizer;
use crate::store::dynamo::DynamoStore;
use aws_config::SdkConfig;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a Lambda could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// Bad or missing configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The OpenID provider could not be reached or used at cold start.
    #[error("sign-in: {0}")]
    SignIn(String),
    /// SSM parameters could not be read.
    #[error("SSM GetParametersByPath {prefix}: {message}")]
    Ssm {
        /// The parameter path.
        prefix: String,
        /// The SDK's error, with its context.
        message: String,
    },
    /// The static token's parameter exists but could not be read (throttled,
    /// denied, undecryptable): the cold start fails and the next one tries again,
    /// rather than this instance refusing the token for its whole life.
    #[error("SSM GetParameter {parameter}: {message}")]
    StaticToken {
        /// The parameter's name.
        parameter: String,
        /// The SDK's error, with its context.
        message: String,
    },
}

/// JSON logs to stdout (CloudWatch), filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time() // CloudWatch stamps every line already.
        .init();
}

/// Configuration (environment + SSM overlay), the SDK config and the SSM parameters
/// under the prefix (settings, and the sinks' secrets), once per cold start.
pub async fn load() -> Result<(LambdaConfig, SdkConfig, HashMap<String, String>), BootError> {
    let mut config = LambdaConfig::from_env()?;
    let sdk = sdk_config(&AwsTarget::default()).await;
    let mut params = HashMap::new();
    if let Some(prefix) = &config.ssm_prefix {
        params = read_ssm_parameters(&aws_sdk_ssm::Client::new(&sdk), prefix)
            .await
            .map_err(|e| BootError::Ssm {
                prefix: prefix.clone(),
                message: crate::aws::error_text(&e),
            })?;
        config.overlay_ssm(&params)?;
    }
    Ok((config, sdk, params))
}

/// The DynamoDB store the configuration names (built where the CLI builds it, so
/// its TTL follows the configured retention).
pub fn store(config: &LambdaConfig, sdk: &SdkConfig) -> DynamoStore {
    config.dynamo().store(dynamodb_client(sdk))
}

/// The normalizer of the Lambdas: the built-in rule pack compiled with the
/// organisation's lists from SSM ([`LambdaConfig::detection_settings`]; rules
/// folders and suppressions are local-CLI features) and the account override.
pub fn normalizer(config: &LambdaConfig) -> Normalizer {
    // Every field is given (no `..Normalizer::default()`), so the cold start does
    // not compile the rule pack once more with the empty lists only to drop it.
    Normalizer {
        // Compiled on the first CloudTrail event, with lists LambdaConfig::overlay_ssm
        // checked by compiling the pack (the built-in ones are tested).
        rules: OnDemandRules::builtin_with(config.detection_settings.clone()),
        suppressions: Suppressions::default(),
        alarm_severity: AlarmSeverityMap::builtin().expect("built-in alarm mapping (tested)"),
        settings: FindingSettings {
            account_override: config.account_override.clone(),
        },
    }
}

/// The pipeline over the configured store with [`normalizer`].
pub fn pipeline(config: &LambdaConfig, sdk: &SdkConfig) -> Pipeline {
    Pipeline::new(Arc::new(normalizer(config)), Arc::new(store(config, sdk)))
}

/// The scanner with everything the configuration enables.
pub fn scanner(config: &LambdaConfig, sdk: &SdkConfig) -> Scanner {
    let syncer = config.ssm_prefix.as_ref().map(|prefix| {
        Syncer::new(
            aws_sdk_securityhub::Client::new(sdk),
            aws_sdk_ssm::Client::new(sdk),
            format!("{prefix}{SSM_SYNC_STATE}"),
        )
    });
    Scanner {
        pipeline: pipeline(config, sdk).with_metrics(crate::metrics::Registry::new(), "scanner"),
        syncer,
    }
}

/// Where the `api` Lambda issues live tickets: the state table, when the
/// deployment has one (`CSPM_STATE_TABLE`).
pub fn live_tickets(sdk: &SdkConfig) -> Option<Arc<dyn crate::live::tickets::Tickets>> {
    let table = crate::config::live::LiveConfig::from_env().state_table?;
    Some(Arc::new(crate::live::tickets::DynamoTickets::new(
        aws_sdk_dynamodb::Client::new(sdk),
        table,
    )))
}

/// The export jobs of an AWS deployment: files in the archive bucket, jobs
/// queued for the `exporter` Lambda; `None` when the environment configures no
/// exports ([`crate::config::exports::ExportsConfig`]).
pub fn export_jobs(
    sdk: &SdkConfig,
    store: Arc<dyn crate::store::Store>,
) -> Result<Option<crate::export::jobs::ExportJobs>, ConfigError> {
    use crate::archive::S3Sink;
    use crate::export::jobs::{ExportJobs, Runner, S3ExportFiles, SqsQueue};
    let Some(config) = crate::config::exports::ExportsConfig::from_env()? else {
        return Ok(None);
    };
    let sink = S3Sink::new(
        S3Sink::client(sdk),
        config.archive.location,
        config.archive.kms_key,
    );
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(sdk), config.queue_url);
    Ok(Some(ExportJobs::new(
        store,
        Arc::new(S3ExportFiles::new(sink)),
        Runner::Queue(Arc::new(queue)),
    )))
}

/// Named tokens in the auth table, when the deployment has one
/// (`CSPM_AUTH_TABLE`): `cspm tokens create --table` makes them.
pub fn named_tokens(sdk: &SdkConfig) -> Option<Arc<dyn crate::auth::tokens::TokenStore>> {
    let table = std::env::var(crate::config::ENV_AUTH_TABLE)
        .ok()
        .filter(|t| !t.trim().is_empty())?;
    Some(Arc::new(crate::auth::tokens::DynamoTokens::new(
        dynamodb_client(sdk),
        table.trim(),
    )))
}

/// The `api` Lambda's own sign-in, when the environment configures a provider
/// ([`crate::config::signin::SignInConfig`]): discovery runs now (a wrong issuer
/// stops the cold start, naming it), the client secret comes from SSM, and
/// browser sessions live in the sessions table when one and the public URL are
/// set.
pub async fn sign_in(
    sdk: &SdkConfig,
    ssm: &HashMap<String, String>,
) -> Result<Option<super::api::OwnSignIn>, BootError> {
    match crate::config::signin::SignInConfig::from_env()? {
        Some(config) => Ok(Some(sign_in_with(&config, sdk, ssm).await?)),
        None => Ok(None),
    }
}

/// The `api` Lambda's static admin bearer token, if the deployment has one: the
/// SecureString [`LambdaConfig::api_token_parameter`] names, on a path only the api
/// role may read (Terraform's `static_api_token`).
///
/// A token under the SSM prefix, where older deployments kept it, is not used: the
/// scanner and the fanout (which reads its sinks' secrets there) may read that
/// prefix too, so it is reported for moving instead. A parameter that does not
/// exist (or is empty) leaves the api without a static token, logged: named tokens
/// and sign-in still work, and nothing is accepted that was not meant to be. Any
/// other failure to read it fails the cold start ([`BootError::StaticToken`]).
pub async fn api_token(
    config: &LambdaConfig,
    sdk: &SdkConfig,
    ssm: &HashMap<String, String>,
) -> Result<Option<String>, BootError> {
    use crate::config::lambda::SSM_API_TOKEN;
    if ssm.contains_key(SSM_API_TOKEN) {
        tracing::warn!(
            parameter = SSM_API_TOKEN,
            "an API token under the SSM prefix is not used: other Lambdas can read the \
             prefix; set static_api_token and put it in the parameter of its own \
             (docs/deploy.md, \"A static API token\")"
        );
    }
    let Some(name) = config.api_token_parameter.as_ref() else {
        return Ok(None);
    };
    let read = crate::config::lambda::read_parameter(sdk, name).await;
    let value = match read.map_err(|message| BootError::StaticToken {
        parameter: name.clone(),
        message,
    })? {
        Some(value) => value,
        None => {
            tracing::warn!(parameter = %name, "no static API token: the parameter does not exist");
            return Ok(None);
        }
    };
    if value.is_empty() {
        tracing::warn!(parameter = %name, "no static API token: the parameter is empty");
        return Ok(None);
    }
    Ok(Some(value))
}

/// [`sign_in`] with `config` given.
pub async fn sign_in_with(
    config: &crate::config::signin::SignInConfig,
    sdk: &SdkConfig,
    ssm: &HashMap<String, String>,
) -> Result<super::api::OwnSignIn, BootError> {
    use crate::auth::oidc::{http_client, OidcProvider};
    use crate::auth::session::{DynamoSessions, SignIn};
    use crate::config::signin::SSM_OIDC_CLIENT_SECRET;
    let failed = |e: &dyn std::fmt::Display| BootError::SignIn(e.to_string());
    // The parameter of its own (a path the other Lambdas cannot read), else the
    // one under the prefix.
    let secret = match &config.client_secret_parameter {
        Some(name) => {
            let read = crate::sinks::secrets::SecretRef::Ssm(name.clone())
                .resolve(Some(sdk))
                .await
                .map_err(|e| failed(&e))?;
            Some(read).filter(|s| !s.expose().is_empty())
        }
        None => ssm
            .get(SSM_OIDC_CLIENT_SECRET)
            .filter(|s| !s.is_empty())
            .map(crate::sinks::secrets::Secret::new),
    };
    let oidc = config.provider(secret, None).map_err(|e| failed(&e))?;
    let provider = OidcProvider::connect(oidc, http_client())
        .await
        .map_err(|e| failed(&e))?;
    tracing::info!(issuer = %provider.config.issuer, "accepting OIDC access tokens");
    let signin = match (&config.auth_table, &config.public_url) {
        (Some(table), Some(url)) => {
            let settings = config.settings(url).map_err(|e| failed(&e))?;
            let sessions = DynamoSessions::new(dynamodb_client(sdk), table);
            SignIn::enabled(&provider, http_client(), settings, Arc::new(sessions))
        }
        _ => {
            tracing::warn!(
                "no browser sign-in: set CSPM_AUTH_TABLE and CSPM_DASHBOARD_URL (or CSPM_PUBLIC_URL)"
            );
            None
        }
    };
    Ok(super::api::OwnSignIn { provider, signin })
}
