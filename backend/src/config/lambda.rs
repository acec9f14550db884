//! Configuration of the Lambdas. Terraform sets the environment variables named in
//! [`super`] (and `backend/lambdas.json` lists them per function); shared settings
//! and secrets come from SSM Parameter Store, read once per cold start.

use super::{
    split_list, ConfigError, DEFAULT_RETENTION_DAYS, ENV_ACCOUNT_ID_OVERRIDE,
    ENV_ALERT_MIN_SEVERITY, ENV_API_TOKEN_PARAMETER, ENV_AUDIT_BUCKET, ENV_CORS_ORIGINS,
    ENV_CRITICAL_TOPIC, ENV_DASHBOARD_URL, ENV_RETENTION_DAYS, ENV_SINKS_PARAMETER, ENV_SSM_PREFIX,
    ENV_STANDARD_TOPIC, ENV_STATE_TABLE, ENV_TABLE_NAME,
};
use crate::detect::ruleset::RuleSet;
use crate::detect::settings::DetectionSettings;
use shared_types::Severity;
use std::collections::HashMap;

/// SSM parameter (under the prefix) that can set the alert threshold.
pub const SSM_ALERT_MIN_SEVERITY: &str = "alert_min_severity";
/// SSM parameter (under the prefix) that can set the dashboard URL.
pub const SSM_DASHBOARD_URL: &str = "dashboard_url";
/// SSM parameter (under the prefix) where the Security Hub sync keeps its progress.
pub const SSM_SYNC_STATE: &str = "sync_state";
/// Where older deployments kept the `api` Lambda's static token (under the prefix).
/// No longer used: every Lambda reading the prefix could read it
/// ([`crate::lambda::boot::api_token`]).
pub const SSM_API_TOKEN: &str = "api_token";
/// SSM parameter (under the prefix) holding the organisation's lists, in the format
/// of `detection-settings.yaml`: the Lambdas have no rules folder to read it from.
pub const SSM_DETECTION_SETTINGS: &str = "detection_settings";

/// Everything the Lambdas read from their environment (plus SSM overlays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaConfig {
    /// DynamoDB table name.
    pub table_name: String,
    /// Standard alert topic, when alerts are enabled.
    pub standard_topic_arn: Option<String>,
    /// Critical alert topic (falls back to the standard one when unset).
    pub critical_topic_arn: Option<String>,
    /// Lowest severity that alerts.
    pub alert_min_severity: Severity,
    /// Dashboard base URL for links in alerts.
    pub dashboard_url: Option<String>,
    /// SSM prefix, normalised to end with `/`.
    pub ssm_prefix: Option<String>,
    /// CORS origins for the api.
    pub cors_origins: Vec<String>,
    /// Hot retention in days.
    pub retention_days: u32,
    /// Account id written on every finding the scanner stores
    /// ([`crate::config::ENV_ACCOUNT_ID_OVERRIDE`]; multi-account display and testing).
    pub account_override: Option<String>,
    /// The fan-out state table (sent alert keys), for the `fanout` Lambda.
    pub state_table: Option<String>,
    /// The SSM parameter holding the sinks YAML, for the `fanout` Lambda.
    pub sinks_parameter: Option<String>,
    /// The SSM SecureString holding the static admin token, for the `api` Lambda
    /// ([`super::ENV_API_TOKEN_PARAMETER`]; none: no static token).
    pub api_token_parameter: Option<String>,
    /// The audit bucket, for the `fanout` Lambda (`s3://` location without the scheme).
    pub audit_bucket: Option<String>,
    /// The organisation's lists the rules are compiled with: the built-in (empty)
    /// ones unless the [`SSM_DETECTION_SETTINGS`] parameter sets them.
    pub detection_settings: DetectionSettings,
}

impl LambdaConfig {
    /// The DynamoDB store this configuration names (TTL after its retention).
    pub fn dynamo(&self) -> super::store::DynamoConfig {
        super::store::DynamoConfig {
            table: self.table_name.clone(),
            target: crate::aws::AwsTarget::default(),
            retention_days: self.retention_days,
            create: false,
            concurrency: None,
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<LambdaConfig, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LambdaConfig, ConfigError> {
        let val = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let table_name = val(ENV_TABLE_NAME).ok_or(ConfigError::Missing(ENV_TABLE_NAME))?;
        let alert_min_severity = match val(ENV_ALERT_MIN_SEVERITY) {
            Some(v) => parse_severity(ENV_ALERT_MIN_SEVERITY, &v)?,
            None => Severity::High,
        };
        let retention_days = match val(ENV_RETENTION_DAYS) {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|d| *d > 0)
                .ok_or(ConfigError::Invalid {
                    name: ENV_RETENTION_DAYS,
                    message: format!("expected a positive number of days, got {v:?}"),
                })?,
            None => DEFAULT_RETENTION_DAYS,
        };
        Ok(LambdaConfig {
            table_name,
            standard_topic_arn: val(ENV_STANDARD_TOPIC),
            critical_topic_arn: val(ENV_CRITICAL_TOPIC),
            alert_min_severity,
            dashboard_url: val(ENV_DASHBOARD_URL),
            ssm_prefix: val(ENV_SSM_PREFIX).map(
                |p| {
                    if p.ends_with('/') {
                        p
                    } else {
                        format!("{p}/")
                    }
                },
            ),
            cors_origins: val(ENV_CORS_ORIGINS)
                .map(|v| split_list(&v))
                .unwrap_or_default(),
            retention_days,
            account_override: match val(ENV_ACCOUNT_ID_OVERRIDE) {
                Some(a) if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) => {
                    return Err(ConfigError::Invalid {
                        name: ENV_ACCOUNT_ID_OVERRIDE,
                        message: format!("expected a 12-digit account id, got {a:?}"),
                    })
                }
                other => other,
            },
            state_table: val(ENV_STATE_TABLE),
            sinks_parameter: val(ENV_SINKS_PARAMETER),
            api_token_parameter: val(ENV_API_TOKEN_PARAMETER),
            audit_bucket: val(ENV_AUDIT_BUCKET),
            detection_settings: DetectionSettings::builtin(),
        })
    }

    /// Fills settings the environment left unset from SSM parameters (names relative
    /// to the prefix). The environment wins: Terraform is the source of truth per function.
    pub fn overlay_ssm(&mut self, params: &HashMap<String, String>) -> Result<(), ConfigError> {
        if std::env::var(ENV_ALERT_MIN_SEVERITY).is_err() {
            if let Some(v) = params.get(SSM_ALERT_MIN_SEVERITY) {
                self.alert_min_severity = parse_severity(ENV_ALERT_MIN_SEVERITY, v)?;
            }
        }
        if self.dashboard_url.is_none() {
            self.dashboard_url = params.get(SSM_DASHBOARD_URL).cloned();
        }
        if let Some(text) = params.get(SSM_DETECTION_SETTINGS) {
            self.detection_settings = self.detection_settings_from(text)?;
        }
        Ok(())
    }

    /// Parses the [`SSM_DETECTION_SETTINGS`] parameter and compiles the rule pack
    /// with it once, so a list the rules cannot use stops the cold start here,
    /// naming the parameter, rather than failing later where the pipeline is built.
    fn detection_settings_from(&self, text: &str) -> Result<DetectionSettings, ConfigError> {
        let origin = format!(
            "{}{SSM_DETECTION_SETTINGS}",
            self.ssm_prefix.as_deref().unwrap_or("")
        );
        let invalid = |message: String| ConfigError::Invalid {
            name: SSM_DETECTION_SETTINGS,
            message,
        };
        let settings =
            DetectionSettings::from_yaml(&origin, text).map_err(|e| invalid(e.to_string()))?;
        RuleSet::with_settings(None, settings.clone())
            .map_err(|e| invalid(format!("{origin}: the rules do not compile with it: {e}")))?;
        Ok(settings)
    }
}

fn parse_severity(name: &'static str, v: &str) -> Result<Severity, ConfigError> {
    v.parse()
        .map_err(|e: shared_types::UnknownSeverity| ConfigError::Invalid {
            name,
            message: e.to_string(),
        })
}

/// Reads every parameter under `prefix` (decrypted), keyed by the name relative to
/// the prefix. Called once per cold start, never per finding.
pub async fn read_ssm_parameters(
    ssm: &aws_sdk_ssm::Client,
    prefix: &str,
) -> Result<HashMap<String, String>, aws_sdk_ssm::Error> {
    let mut out = HashMap::new();
    let mut pages = ssm
        .get_parameters_by_path()
        .path(prefix)
        .recursive(true)
        .with_decryption(true)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for p in page?.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                let rel = name.strip_prefix(prefix).unwrap_or(name);
                out.insert(rel.to_string(), value.to_string());
            }
        }
    }
    Ok(out)
}

/// One parameter's value (decrypted), `None` when it does not exist; otherwise
/// the SDK's error, with its context. Called once per cold start.
pub async fn read_parameter(
    sdk: &aws_config::SdkConfig,
    name: &str,
) -> Result<Option<String>, String> {
    let read = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await;
    match read {
        Ok(out) => Ok(Some(
            out.parameter.and_then(|p| p.value).unwrap_or_default(),
        )),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_parameter_not_found()) =>
        {
            Ok(None)
        }
        Err(e) => Err(crate::aws::error_text(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn table_name_is_required_and_defaults_apply() {
        assert_eq!(
            LambdaConfig::from_lookup(lookup(&[])),
            Err(ConfigError::Missing(ENV_TABLE_NAME))
        );
        let c = LambdaConfig::from_lookup(lookup(&[
            (ENV_TABLE_NAME, "t"),
            (ENV_SSM_PREFIX, "/cspm/prod"),
            (ENV_CORS_ORIGINS, "https://a.example, ,https://b.example"),
        ]))
        .unwrap();
        assert_eq!(c.alert_min_severity, Severity::High);
        assert_eq!(c.retention_days, DEFAULT_RETENTION_DAYS);
        assert_eq!(c.ssm_prefix.as_deref(), Some("/cspm/prod/"));
        assert_eq!(
            c.cors_origins,
            vec!["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = LambdaConfig::from_lookup(lookup(&[
            (ENV_TABLE_NAME, "t"),
            (ENV_ALERT_MIN_SEVERITY, "SEVERE"),
        ]))
        .unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Invalid {
                name: ENV_ALERT_MIN_SEVERITY,
                ..
            }
        ));
        let e =
            LambdaConfig::from_lookup(lookup(&[(ENV_TABLE_NAME, "t"), (ENV_RETENTION_DAYS, "0")]))
                .unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Invalid {
                name: ENV_RETENTION_DAYS,
                ..
            }
        ));
    }

    /// A Lambda's configuration under the prefix `/cspm/prod/`.
    fn under_prefix() -> LambdaConfig {
        LambdaConfig::from_lookup(lookup(&[
            (ENV_TABLE_NAME, "t"),
            (ENV_SSM_PREFIX, "/cspm/prod"),
        ]))
        .unwrap()
    }

    /// Parameters as `read_ssm_parameters` returns them (names relative to the prefix).
    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_detection_settings_parameter_sets_the_organisations_lists() {
        let mut c = under_prefix();
        let yaml = "# as in backend/rules/detection-settings.yaml\n\
                    honeytoken_resources: [decoy-bucket, \"arn:aws:iam::*:role/decoy-*\"]\n\
                    usual_instance_types: [t3.*]\n\
                    trusted_accounts: ['111122223333']\n";
        c.overlay_ssm(&params(&[(SSM_DETECTION_SETTINGS, yaml)]))
            .unwrap();
        let s = &c.detection_settings;
        assert_eq!(
            s.honeytoken_resources,
            ["decoy-bucket", "arn:aws:iam::*:role/decoy-*"]
        );
        assert_eq!(s.usual_instance_types, ["t3.*"]);
        assert_eq!(s.trusted_accounts, ["111122223333"]);
        assert!(s.automation_principals.is_empty());
    }

    #[test]
    fn a_bad_detection_settings_parameter_is_an_error_naming_it() {
        let mut c = under_prefix();
        // `honeytoken_resource` (singular) is a typo the file format refuses.
        let e = c
            .overlay_ssm(&params(&[(
                SSM_DETECTION_SETTINGS,
                "honeytoken_resource: [decoy-bucket]\n",
            )]))
            .unwrap_err();
        let text = e.to_string();
        match e {
            ConfigError::Invalid { name, message } => {
                assert_eq!(name, SSM_DETECTION_SETTINGS);
                assert!(
                    message.contains("/cspm/prod/detection_settings")
                        && message.contains("unknown field `honeytoken_resource`"),
                    "{message}"
                );
            }
            other => panic!("expected an invalid parameter, got {other:?}"),
        }
        assert!(text.starts_with("detection_settings: "), "{text}");
    }

    #[test]
    fn without_the_detection_settings_parameter_the_builtin_empty_lists_stay() {
        let mut c = under_prefix();
        assert_eq!(c.detection_settings, DetectionSettings::builtin());
        c.overlay_ssm(&params(&[(SSM_DASHBOARD_URL, "https://cspm.example.com")]))
            .unwrap();
        assert_eq!(c.detection_settings, DetectionSettings::builtin());
        assert!(c.detection_settings.honeytoken_resources.is_empty());
        assert_eq!(c.dashboard_url.as_deref(), Some("https://cspm.example.com"));
    }
}
