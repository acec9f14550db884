//! Runtime configuration. Every environment variable the code reads is named here
//! (Terraform sets exactly these for the Lambdas; `validate.sh` checks that).

use crate::aws::AwsTarget;
use crate::detect::finding::FindingSettings;
use crate::detect::ruleset::{LoadError, RuleSet};
use crate::detect::suppress::{SuppressionError, Suppressions};
use crate::sources::cloudwatch_alarm::{AlarmSeverityError, AlarmSeverityMap};
use crate::sources::Normalizer;
use crate::store::dynamo::{schema, DynamoSettings, DynamoStore};
use crate::store::{SqliteStore, Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

/// Bearer token required on every API route but `/health` (local server).
pub const ENV_API_TOKEN: &str = "CSPM_API_TOKEN";
/// Comma-separated browser origins allowed by CORS.
pub const ENV_CORS_ORIGINS: &str = "CSPM_CORS_ORIGINS";
/// Folder holding the local SQLite database (and the local archive by default).
pub const ENV_DATA_DIR: &str = "CSPM_DATA_DIR";

/// Which store `cspm` uses: `sqlite` (default) or `dynamodb`.
pub const ENV_STORE: &str = "CSPM_STORE";
/// Endpoint override for every AWS service `cspm` calls (the emulator, DynamoDB Local).
pub const ENV_AWS_ENDPOINT: &str = "CSPM_AWS_ENDPOINT";

/// Folder of user rule files (`*.yaml`), added to (or overriding) the built-in pack;
/// an `alarm-severity.yaml` there replaces the built-in alarm severity mapping.
pub const ENV_RULES_DIR: &str = "CSPM_RULES_DIR";
/// Suppressions file (YAML).
pub const ENV_SUPPRESSIONS: &str = "CSPM_SUPPRESSIONS";
/// Account id written on every finding instead of the document's own
/// (multi-account display and testing). Also read by the scanner Lambda.
pub const ENV_ACCOUNT_ID_OVERRIDE: &str = "CSPM_ACCOUNT_ID_OVERRIDE";

/// Where detection settings come from: rules folder, suppressions, account override.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetectionConfig {
    /// User rules folder.
    pub rules_dir: Option<PathBuf>,
    /// Suppressions file.
    pub suppressions: Option<PathBuf>,
    /// Account id override.
    pub account_override: Option<String>,
}

/// Detection settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DetectionConfigError {
    /// A rule file is invalid.
    #[error(transparent)]
    Rules(#[from] LoadError),
    /// The suppressions file is invalid.
    #[error(transparent)]
    Suppressions(#[from] SuppressionError),
    /// The alarm severity mapping is invalid.
    #[error(transparent)]
    AlarmSeverity(#[from] AlarmSeverityError),
    /// The account override is not an account id.
    #[error("{ENV_ACCOUNT_ID_OVERRIDE}: {0:?} is not a 12-digit account id")]
    Account(String),
}

impl DetectionConfig {
    /// Builds the normalizer these settings describe.
    pub fn normalizer(&self) -> Result<Normalizer, DetectionConfigError> {
        let account_override = match self.account_override.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => {
                Some(a.to_string())
            }
            Some(a) => return Err(DetectionConfigError::Account(a.to_string())),
        };
        let rules = RuleSet::with_user_dir(self.rules_dir.as_deref())?;
        let mapping = self
            .rules_dir
            .as_ref()
            .map(|d| d.join("alarm-severity.yaml"))
            .filter(|p| p.is_file());
        let alarm_severity = match mapping {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|source| LoadError::Io {
                    path: p.clone(),
                    source,
                })?;
                AlarmSeverityMap::from_yaml(&p.display().to_string(), &text)?
            }
            None => AlarmSeverityMap::builtin()?,
        };
        let suppressions = match &self.suppressions {
            Some(p) => Suppressions::load(p)?,
            None => Suppressions::default(),
        };
        Ok(Normalizer {
            rules,
            suppressions,
            alarm_severity,
            settings: FindingSettings { account_override },
        })
    }
}

/// Which store to use; built into a trait object by [`StoreConfig::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A SQLite file in this data dir.
    Sqlite {
        /// The data dir.
        data_dir: PathBuf,
    },
    /// A DynamoDB table, the same one the Lambdas use (or one in an emulator).
    Dynamo {
        /// Table name.
        table: String,
        /// Endpoint and region overrides.
        target: AwsTarget,
        /// Create the table (with its GSI and TTL) when it does not exist: for an
        /// emulator by hand; on AWS, Terraform owns the table.
        create: bool,
        /// Writes in flight per batch (`None`: the store's default).
        concurrency: Option<usize>,
    },
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// SQLite could not open the data dir.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The DynamoDB table could not be created.
    #[error("creating DynamoDB table {table}: {message}")]
    CreateTable {
        /// Table name.
        table: String,
        /// The SDK's error, with its context.
        message: String,
    },
}

impl StoreConfig {
    /// Opens the configured store.
    pub async fn build(&self) -> Result<Arc<dyn Store>, OpenError> {
        match self {
            StoreConfig::Sqlite { data_dir } => Ok(Arc::new(SqliteStore::open_dir(data_dir)?)),
            StoreConfig::Dynamo {
                table,
                target,
                create,
                concurrency,
            } => {
                let sdk = crate::aws::sdk_config(target).await;
                let client = crate::aws::dynamodb_client(&sdk);
                if *create {
                    schema::create_table(&client, table).await.map_err(|e| {
                        OpenError::CreateTable {
                            table: table.clone(),
                            message: e.to_string(),
                        }
                    })?;
                }
                let mut settings = DynamoSettings::new(table.clone());
                if let Some(n) = concurrency {
                    settings.concurrency = *n;
                }
                Ok(Arc::new(DynamoStore::new(client, settings)))
            }
        }
    }

    /// Where the findings live, for messages (`./data`, `dynamodb:findings`).
    pub fn describe(&self) -> String {
        match self {
            StoreConfig::Sqlite { data_dir } => data_dir.display().to_string(),
            StoreConfig::Dynamo { table, target, .. } => match &target.endpoint {
                Some(e) => format!("dynamodb:{table} at {e}"),
                None => format!("dynamodb:{table}"),
            },
        }
    }
}

/// Splits a comma-separated list, trimming and dropping empty items.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
