//! Sessions and pending sign-ins in the SQLite file `cspm serve` uses
//! (`DATA_DIR/cspm.db`, beside the named tokens). Rows are keyed by the SHA-256 of
//! the cookie's session id (or of the `state`), never by the value itself.

use super::{PendingLogin, Session, SessionError, SessionStore, SessionTokens, SessionUser};
use crate::auth::tokens::TokenHash;
use crate::auth::{Principal, Role};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    sub TEXT NOT NULL,
    email TEXT,
    name TEXT,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    access_token TEXT NOT NULL,
    id_token TEXT,
    refresh_token TEXT,
    tokens_expire_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS login_attempts (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    return_to TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
";

const COLUMNS: &str = "sub, email, name, actor, role, csrf_token, access_token, id_token, \
                       refresh_token, tokens_expire_at, created_at, expires_at";

/// Sessions in a SQLite file.
#[derive(Clone)]
pub struct SqliteSessions {
    conn: Arc<Mutex<Connection>>,
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> SessionError {
    SessionError::Backend(Box::new(e))
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Session> {
    let role: String = r.get(4)?;
    let sub: String = r.get(0)?;
    Ok(Session {
        user: SessionUser {
            sub: sub.clone(),
            email: r.get(1)?,
            name: r.get(2)?,
        },
        principal: Principal {
            actor: r.get(3)?,
            subject: sub,
            // A role this version does not know reads as viewer: never more.
            role: role.parse().unwrap_or(Role::Viewer),
        },
        csrf_token: r.get(5)?,
        tokens: SessionTokens {
            access_token: r.get(6)?,
            id_token: r.get(7)?,
            refresh_token: r.get(8)?,
        },
        tokens_expire_at: time(r.get(9)?),
        created_at: time(r.get(10)?),
        expires_at: time(r.get(11)?),
    })
}

/// The row's values in [`COLUMNS`] order, after the key.
fn values(key: String, s: &Session) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::Text);
    vec![
        Value::Text(key),
        Value::Text(s.user.sub.clone()),
        text(&s.user.email),
        text(&s.user.name),
        Value::Text(s.principal.actor.clone()),
        Value::Text(s.principal.role.as_str().to_string()),
        Value::Text(s.csrf_token.clone()),
        Value::Text(s.tokens.access_token.clone()),
        text(&s.tokens.id_token),
        text(&s.tokens.refresh_token),
        Value::Integer(millis(s.tokens_expire_at)),
        Value::Integer(millis(s.created_at)),
        Value::Integer(millis(s.expires_at)),
    ]
}

impl SqliteSessions {
    /// Opens the sessions of the database in `data_dir` (`cspm.db`, created if needed).
    pub fn open_dir(data_dir: &Path) -> Result<Self, SessionError> {
        std::fs::create_dir_all(data_dir).map_err(backend)?;
        Self::open(&data_dir.join(crate::store::sqlite::DB_FILE))
    }

    /// Opens (creating the tables if needed) the sessions in the database file `path`.
    pub fn open(path: &Path) -> Result<Self, SessionError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(SqliteSessions {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, SessionError> + Send + 'static,
    ) -> Result<T, SessionError> {
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
impl SessionStore for SqliteSessions {
    async fn put_login(&self, state: &TokenHash, login: &PendingLogin) -> Result<(), SessionError> {
        let (key, l) = (state.to_hex(), login.clone());
        self.with(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO login_attempts (state_hash, nonce, verifier, return_to, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key, l.nonce, l.verifier, l.return_to, millis(l.expires_at)],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn take_login(
        &self,
        state: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingLogin>, SessionError> {
        let key = state.to_hex();
        self.with(move |c| {
            // DELETE … RETURNING: the read and the removal are one statement, so two
            // callbacks racing with one `state` cannot both get it.
            let found = c
                .query_row(
                    "DELETE FROM login_attempts WHERE state_hash = ?1
                     RETURNING nonce, verifier, return_to, expires_at",
                    params![key],
                    |r| {
                        Ok(PendingLogin {
                            nonce: r.get(0)?,
                            verifier: r.get(1)?,
                            return_to: r.get(2)?,
                            expires_at: time(r.get(3)?),
                        })
                    },
                )
                .optional()
                .map_err(backend)?;
            Ok(found.filter(|l| l.expires_at > now))
        })
        .await
    }

    async fn save(&self, id: &TokenHash, s: &Session) -> Result<(), SessionError> {
        let (key, s) = (id.to_hex(), s.clone());
        self.with(move |c| {
            c.execute(
                &format!(
                    "INSERT OR REPLACE INTO sessions (id_hash, {COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ),
                rusqlite::params_from_iter(values(key, &s)),
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn replace(
        &self,
        id: &TokenHash,
        was: &Session,
        renewed: &Session,
    ) -> Result<bool, SessionError> {
        let mut args = values(id.to_hex(), renewed);
        args.push(millis(was.tokens_expire_at).into());
        self.with(move |c| {
            let n = c
                .execute(
                    "UPDATE sessions SET sub = ?2, email = ?3, name = ?4, actor = ?5, role = ?6,
                       csrf_token = ?7, access_token = ?8, id_token = ?9, refresh_token = ?10,
                       tokens_expire_at = ?11, created_at = ?12, expires_at = ?13
                     WHERE id_hash = ?1 AND tokens_expire_at = ?14",
                    rusqlite::params_from_iter(args),
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
        .await
    }

    async fn find(
        &self,
        id: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, SessionError> {
        let key = id.to_hex();
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM sessions WHERE id_hash = ?1 AND expires_at > ?2"),
                params![key, millis(now)],
                row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn delete(&self, id: &TokenHash) -> Result<Option<Session>, SessionError> {
        let key = id.to_hex();
        self.with(move |c| {
            c.query_row(
                &format!("DELETE FROM sessions WHERE id_hash = ?1 RETURNING {COLUMNS}"),
                params![key],
                row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn purge(&self, now: DateTime<Utc>) -> Result<usize, SessionError> {
        self.with(move |c| {
            let t = millis(now);
            let sessions = c
                .execute("DELETE FROM sessions WHERE expires_at <= ?1", params![t])
                .map_err(backend)?;
            let logins = c
                .execute(
                    "DELETE FROM login_attempts WHERE expires_at <= ?1",
                    params![t],
                )
                .map_err(backend)?;
            Ok(sessions + logins)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn session(t0: DateTime<Utc>) -> Session {
        Session {
            user: SessionUser {
                sub: "u1".into(),
                email: Some("ana@example.com".into()),
                name: None,
            },
            principal: Principal::person("u1", Some("ana@example.com"), Role::Analyst),
            csrf_token: "csrf".into(),
            tokens: SessionTokens {
                access_token: "at".into(),
                id_token: Some("idt".into()),
                refresh_token: None,
            },
            tokens_expire_at: t0 + Duration::minutes(5),
            created_at: t0,
            expires_at: t0 + Duration::hours(12),
        }
    }

    // What every store does is the port's contract (tests/it/session_contract.rs);
    // these are what only a file can show.
    #[tokio::test]
    async fn the_session_id_is_nowhere_in_the_files_only_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteSessions::open_dir(dir.path()).unwrap();
        let t0: DateTime<Utc> = "2026-05-01T00:00:00Z".parse().unwrap();
        let id = TokenHash::of("session-id");
        store.save(&id, &session(t0)).await.unwrap();
        assert!(store.find(&id, t0).await.unwrap().is_some());
        // The database and its WAL.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let raw = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!raw.windows(10).any(|w| w == b"session-id"));
        }
    }

    #[tokio::test]
    async fn purge_removes_only_what_ended() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteSessions::open_dir(dir.path()).unwrap();
        let t0: DateTime<Utc> = "2026-05-01T00:00:00Z".parse().unwrap();
        store.save(&TokenHash::of("a"), &session(t0)).await.unwrap();
        let mut later = session(t0);
        later.expires_at = t0 + Duration::hours(24);
        store.save(&TokenHash::of("b"), &later).await.unwrap();
        assert_eq!(store.purge(t0 + Duration::hours(13)).await.unwrap(), 1);
        assert!(store
            .find(&TokenHash::of("b"), t0 + Duration::hours(13))
            .await
            .unwrap()
            .is_some());
    }
}
