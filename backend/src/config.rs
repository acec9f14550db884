//! Runtime configuration. Every environment variable the code reads is named here
//! (Terraform sets exactly these for the Lambdas; `validate.sh` checks that).

use crate::aws::AwsTarget;
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
