//! The token table in the SQLite file `cspm serve` uses (`DATA_DIR/cspm.db`), so
//! `cspm tokens revoke` in another process is seen by the server's next request.

use super::{secret, NamedToken, TokenError, TokenHash, TokenStore};
use crate::auth::Role;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_tokens (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER,
    revoked_at INTEGER
) WITHOUT ROWID;
";

const COLUMNS: &str = "name, role, created_at, expires_at, last_used_at, revoked_at";

/// Named tokens in a SQLite file.
#[derive(Clone)]
pub struct SqliteTokens {
    conn: Arc<Mutex<Connection>>,
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> TokenError {
    TokenError::Backend(Box::new(e))
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NamedToken> {
    let role: String = r.get(1)?;
    Ok(NamedToken {
        name: r.get(0)?,
        // A role this version does not know (a newer version wrote it) reads as
        // viewer: never more than the least.
        role: role.parse().unwrap_or(Role::Viewer),
        created: time(r.get(2)?),
        expires: r.get::<_, Option<i64>>(3)?.map(time),
        last_used: r.get::<_, Option<i64>>(4)?.map(time),
        revoked: r.get::<_, Option<i64>>(5)?.map(time),
    })
}

impl SqliteTokens {
    /// Opens the tokens of the database in `data_dir` (`cspm.db`, created if needed).
    pub fn open_dir(data_dir: &Path) -> Result<Self, TokenError> {
        std::fs::create_dir_all(data_dir).map_err(backend)?;
        Self::open(&data_dir.join(crate::store::sqlite::DB_FILE))
    }

    /// Opens (creating the table if needed) the tokens in the database file `path`.
    pub fn open(path: &Path) -> Result<Self, TokenError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(SqliteTokens {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, TokenError> + Send + 'static,
    ) -> Result<T, TokenError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let c = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&c)
        })
        .await
        .map_err(backend)?
    }
}

#[async_trait]
impl TokenStore for SqliteTokens {
    async fn create(&self, token: &NamedToken, hash: &TokenHash) -> Result<(), TokenError> {
        if !secret::valid_name(&token.name) {
            return Err(TokenError::InvalidName(token.name.clone()));
        }
        let t = token.clone();
        let hash = hash.to_hex();
        self.with(move |c| {
            let inserted = c
                .execute(
                    "INSERT INTO api_tokens (name, hash, role, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
                    params![
                        t.name,
                        hash,
                        t.role.as_str(),
                        millis(t.created),
                        t.expires.map(millis)
                    ],
                )
                .map_err(backend)?;
            match inserted {
                0 => Err(TokenError::Duplicate(t.name)),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn list(&self) -> Result<Vec<NamedToken>, TokenError> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!("SELECT {COLUMNS} FROM api_tokens ORDER BY name"))
                .map_err(backend)?;
            let rows = stmt.query_map([], row).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn revoke(&self, name: &str, at: DateTime<Utc>) -> Result<(), TokenError> {
        let name = name.to_string();
        self.with(move |c| {
            let n = c
                .execute(
                    "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                    params![name, millis(at)],
                )
                .map_err(backend)?;
            match n {
                0 => Err(TokenError::NotFound(name)),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn find(&self, hash: &TokenHash) -> Result<Option<NamedToken>, TokenError> {
        let hash = hash.to_hex();
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM api_tokens WHERE hash = ?1"),
                [hash],
                row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn touch(&self, name: &str, at: DateTime<Utc>) -> Result<(), TokenError> {
        let name = name.to_string();
        self.with(move |c| {
            c.execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE name = ?1",
                params![name, millis(at)],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn any(&self) -> Result<bool, TokenError> {
        self.with(|c| {
            c.query_row("SELECT EXISTS (SELECT 1 FROM api_tokens)", [], |r| {
                r.get::<_, bool>(0)
            })
            .map_err(backend)
        })
        .await
    }
}

// The store's behaviour is the port's contract, run against this store and the
// DynamoDB one: tests/it/token_contract.rs.
