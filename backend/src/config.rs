//! Runtime configuration. Every environment variable the code reads is named here
//! (Terraform sets exactly these for the Lambdas; `validate.sh` checks that).

use crate::store::{SqliteStore, Store, StoreResult};
use std::path::PathBuf;
use std::sync::Arc;

/// Bearer token required on every API route but `/health` (local server).
pub const ENV_API_TOKEN: &str = "CSPM_API_TOKEN";
/// Comma-separated browser origins allowed by CORS.
pub const ENV_CORS_ORIGINS: &str = "CSPM_CORS_ORIGINS";
/// Folder holding the local SQLite database (and the local archive by default).
pub const ENV_DATA_DIR: &str = "CSPM_DATA_DIR";

/// Which store to use; built into a trait object by [`StoreConfig::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A SQLite file in this data dir.
    Sqlite {
        /// The data dir.
        data_dir: PathBuf,
    },
}

impl StoreConfig {
    /// Opens the configured store.
    pub async fn build(&self) -> StoreResult<Arc<dyn Store>> {
        match self {
            StoreConfig::Sqlite { data_dir } => Ok(Arc::new(SqliteStore::open_dir(data_dir)?)),
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
