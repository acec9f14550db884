//! Which store to open, and opening it: the SQLite file locally, the DynamoDB
//! table (the Lambdas' own, or one in an emulator). The CLI and the Lambdas build
//! the DynamoDB store here and nowhere else, so its TTL always follows the
//! configured retention.

use crate::aws::AwsTarget;
#[cfg(feature = "aws")]
use crate::store::dynamo::{error::DynamoError, schema, DynamoSettings, DynamoStore};
use crate::store::{ChangeFeed, SqliteStore, Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

/// Which store to use; built into a trait object by [`StoreConfig::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A SQLite file in this data dir.
    Sqlite {
        /// The data dir.
        data_dir: PathBuf,
    },
    /// A DynamoDB table, the same one the Lambdas use (or one in an emulator).
    Dynamo(DynamoConfig),
}

/// Everything the DynamoDB store needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoConfig {
    /// Table name.
    pub table: String,
    /// Endpoint and region overrides.
    pub target: AwsTarget,
    /// Days findings stay hot before the archiver moves them (the archive cutoff);
    /// every write sets the TTL safety net a margin after it.
    pub retention_days: u32,
    /// Create the table (with its GSI and TTL) when it does not exist: for an
    /// emulator by hand; on AWS, Terraform owns the table.
    pub create: bool,
    /// Writes in flight per batch (`None`: the store's default).
    pub concurrency: Option<usize>,
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// SQLite could not open the data dir.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No AWS credentials could be found for the DynamoDB store.
    #[error(
        "no AWS credentials found for DynamoDB table {table}: set AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (after `aws configure` or `aws sso login`); \
         an emulator given with --aws-endpoint accepts any values ({detail})"
    )]
    NoCredentials {
        /// Table name.
        table: String,
        /// What the SDK's credential chain said.
        detail: String,
    },
    /// The DynamoDB table could not be created.
    #[cfg(feature = "aws")]
    #[error(transparent)]
    CreateTable(#[from] DynamoError),
    /// The DynamoDB store was asked of a build without the AWS adapters.
    #[error(transparent)]
    NotBuilt(#[from] crate::aws::NotBuilt),
}

/// An opened store, and its change feed when the store keeps one readable here.
pub struct Opened {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Its feed: SQLite's `changes` table (DynamoDB's feed is its stream, read by
    /// the `fanout` Lambda).
    pub feed: Option<Arc<dyn ChangeFeed>>,
    /// The SQLite file, for the dispatcher's own state.
    pub db_path: Option<PathBuf>,
    /// The SQLite store itself, for its upkeep in a long-running process
    /// (folding resource counters, [`SqliteStore::spawn_folding`]).
    pub sqlite: Option<SqliteStore>,
}

impl StoreConfig {
    /// Opens the configured store.
    pub async fn build(&self) -> Result<Arc<dyn Store>, OpenError> {
        Ok(self.open().await?.store)
    }

    /// Opens the configured store with its feed.
    pub async fn open(&self) -> Result<Opened, OpenError> {
        match self {
            StoreConfig::Sqlite { data_dir } => {
                let s = SqliteStore::open_dir(data_dir)?;
                Ok(Opened {
                    db_path: Some(s.path().to_path_buf()),
                    feed: Some(Arc::new(s.clone())),
                    store: Arc::new(s.clone()),
                    sqlite: Some(s),
                })
            }
            StoreConfig::Dynamo(d) => Ok(Opened {
                store: d.open().await?,
                feed: None,
                db_path: None,
                sqlite: None,
            }),
        }
    }

    /// Where the findings live, for messages (`./data`, `dynamodb:findings`).
    pub fn describe(&self) -> String {
        match self {
            StoreConfig::Sqlite { data_dir } => data_dir.display().to_string(),
            StoreConfig::Dynamo(d) => match &d.target.endpoint {
                Some(e) => format!("dynamodb:{} at {e}", d.table),
                None => format!("dynamodb:{}", d.table),
            },
        }
    }

    /// The retention the store's TTL follows (`None` for SQLite, which has no TTL).
    pub fn retention_days(&self) -> Option<u32> {
        match self {
            StoreConfig::Sqlite { .. } => None,
            StoreConfig::Dynamo(d) => Some(d.retention_days),
        }
    }
}

impl DynamoConfig {
    /// Opens the table as the store port.
    #[cfg(feature = "aws")]
    async fn open(&self) -> Result<Arc<dyn Store>, OpenError> {
        Ok(Arc::new(self.build().await?))
    }

    /// Without the AWS adapters there is no DynamoDB store to open.
    #[cfg(not(feature = "aws"))]
    async fn open(&self) -> Result<Arc<dyn Store>, OpenError> {
        Err(crate::aws::NotBuilt("the DynamoDB store (--store dynamodb)").into())
    }
}

#[cfg(feature = "aws")]
impl DynamoConfig {
    /// Opens the table over a fresh SDK configuration for [`DynamoConfig::target`],
    /// checking first that credentials exist (so a missing one is named as such).
    pub async fn build(&self) -> Result<DynamoStore, OpenError> {
        let sdk = crate::aws::sdk_config(&self.target).await;
        if let Some(detail) = crate::aws::credentials_missing(&sdk).await {
            return Err(OpenError::NoCredentials {
                table: self.table.clone(),
                detail,
            });
        }
        let client = crate::aws::dynamodb_client(&sdk);
        if self.create {
            schema::create_table(&client, &self.table).await?;
        }
        Ok(self.store(client))
    }

    /// The store over an existing client (the Lambdas build theirs once per cold start).
    pub fn store(&self, client: aws_sdk_dynamodb::Client) -> DynamoStore {
        let mut settings = DynamoSettings::new(self.table.clone(), self.retention_days);
        if let Some(n) = self.concurrency {
            settings.concurrency = n;
        }
        DynamoStore::new(client, settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(feature = "aws"))]
    #[tokio::test]
    async fn the_dynamodb_store_in_a_build_without_aws_says_how_to_get_it() {
        let config = StoreConfig::Dynamo(DynamoConfig {
            table: "findings".into(),
            target: AwsTarget::default(),
            retention_days: 90,
            create: false,
            concurrency: None,
        });
        let err = config.open().await.err().expect("no DynamoDB store here");
        assert!(matches!(err, OpenError::NotBuilt(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with("the DynamoDB store (--store dynamodb) needs the AWS adapters"),
            "{text}"
        );
        assert!(text.contains("./build.sh local-full"), "{text}");
    }

    #[tokio::test]
    async fn sqlite_opens_with_its_feed_in_every_build() {
        let dir = tempfile::tempdir().unwrap();
        let opened = StoreConfig::Sqlite {
            data_dir: dir.path().to_path_buf(),
        }
        .open()
        .await
        .unwrap();
        assert!(opened.feed.is_some());
        assert!(opened.db_path.is_some_and(|p| p.starts_with(dir.path())));
    }
}
