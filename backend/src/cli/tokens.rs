//! `cspm tokens create|list|revoke`: named API tokens with a role, kept (as
//! SHA-256 hashes only) in the data dir's SQLite file, where a running `cspm
//! serve` looks them up on every request, or with `--table` in an AWS
//! deployment's auth table, where the `api` Lambda does.

use super::CliError;
use crate::auth::tokens::{self, NamedToken, SqliteTokens, TokenHash, TokenStore};
use crate::auth::Role;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Where the tokens are kept.
#[derive(Debug, Clone, Args)]
pub struct TokenDirArgs {
    /// Folder holding the SQLite database `cspm serve` uses.
    #[arg(long, env = crate::config::ENV_DATA_DIR, default_value = "./data")]
    pub data_dir: PathBuf,
    /// The auth table of an AWS deployment (Terraform's `<prefix>-auth`), where
    /// the `api` Lambda looks tokens up, instead of the data dir.
    #[arg(long, env = crate::config::ENV_AUTH_TABLE)]
    pub table: Option<String>,
    /// Where the table is (with `--table`).
    #[command(flatten)]
    pub aws: super::AwsArgs,
}

impl TokenDirArgs {
    /// The token store these options name.
    async fn open(&self) -> Result<Arc<dyn TokenStore>, CliError> {
        match &self.table {
            Some(table) => dynamo(table, &self.aws).await,
            None => Ok(Arc::new(SqliteTokens::open_dir(&self.data_dir)?)),
        }
    }
}

#[cfg(feature = "aws")]
async fn dynamo(table: &str, aws: &super::AwsArgs) -> Result<Arc<dyn TokenStore>, CliError> {
    let sdk = crate::aws::sdk_config(&aws.target()).await;
    Ok(Arc::new(crate::auth::tokens::DynamoTokens::new(
        crate::aws::dynamodb_client(&sdk),
        table,
    )))
}

/// Without the AWS adapters the auth table cannot be reached.
#[cfg(not(feature = "aws"))]
async fn dynamo(_: &str, _: &super::AwsArgs) -> Result<Arc<dyn TokenStore>, CliError> {
    Err(crate::aws::NotBuilt("tokens in a DynamoDB table (--table)").into())
}

/// `cspm tokens …`
#[derive(Debug, Args)]
pub struct TokensCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: TokensAction,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum TokensAction {
    /// Make a token; prints the token alone on stdout (store it now: only its
    /// hash is kept). The first token turns authentication on.
    Create(CreateArgs),
    /// Names, roles, created, expires, last used and state (never the tokens).
    List(TokenDirArgs),
    /// Revoke a token; running servers refuse it from their next request.
    Revoke {
        /// The token's name.
        name: String,
        /// Where the tokens are kept.
        #[command(flatten)]
        dir: TokenDirArgs,
    },
}

/// `cspm tokens create` options.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Unique name (1–64 letters, digits, `.`, `_`, `-`); the audit trail records
    /// `token:NAME`. Never reused, even after revoke.
    #[arg(long)]
    pub name: String,
    /// viewer, analyst, admin, or ingest (POST /events only).
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// Lifetime, e.g. `90d` or `12h` (default: no expiry).
    #[arg(long, value_parser = parse_lifetime)]
    pub expires: Option<chrono::Duration>,
    /// Where the tokens are kept.
    #[command(flatten)]
    pub dir: TokenDirArgs,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: crate::auth::UnknownRole| e.to_string())
}

fn parse_lifetime(s: &str) -> Result<chrono::Duration, String> {
    match crate::archive::age::parse_older_than(s)? {
        d if d.is_zero() => {
            Err("a token must live longer than 0 (omit --expires for no expiry)".into())
        }
        d => Ok(d),
    }
}

/// Runs `cspm tokens …`.
pub async fn run(cmd: TokensCommand) -> Result<ExitCode, CliError> {
    let now = Utc::now();
    match cmd.action {
        TokensAction::Create(a) => {
            let store = a.dir.open().await?;
            let secret = tokens::generate();
            let token = NamedToken {
                name: a.name,
                role: a.role,
                created: now,
                expires: a.expires.map(|d| now + d),
                last_used: None,
                revoked: None,
            };
            store.create(&token, &TokenHash::of(&secret)).await?;
            // Only the token on stdout, so `TOKEN=$(cspm tokens create …)` works.
            let mut out = std::io::stdout().lock();
            writeln!(out, "{secret}")?;
            out.flush()?;
            eprintln!(
                "created token {:?} with role {}{}",
                token.name,
                token.role,
                token
                    .expires
                    .map(|e| format!(", expires {}", stamp(e)))
                    .unwrap_or_default()
            );
        }
        TokensAction::List(dir) => {
            let store = dir.open().await?;
            print!("{}", table(&store.list().await?, now));
        }
        TokensAction::Revoke { name, dir } => {
            let store = dir.open().await?;
            store.revoke(&name, now).await?;
            eprintln!("revoked token {name:?}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The `list` table: one line per token, columns padded to their widest cell.
fn table(list: &[NamedToken], now: DateTime<Utc>) -> String {
    let mut rows =
        vec![["NAME", "ROLE", "CREATED", "EXPIRES", "LAST USED", "STATE"].map(String::from)];
    for t in list {
        let state = if t.revoked.is_some() {
            "revoked"
        } else if t.usable_at(now) {
            "active"
        } else {
            "expired"
        };
        rows.push([
            t.name.clone(),
            t.role.to_string(),
            stamp(t.created),
            t.expires.map(stamp).unwrap_or_else(|| "never".into()),
            t.last_used.map(stamp).unwrap_or_else(|| "never".into()),
            state.into(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<width$}", width = *w))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_read_like_archive_ages_and_zero_is_refused() {
        assert_eq!(parse_lifetime("90d").unwrap(), chrono::Duration::days(90));
        assert_eq!(parse_lifetime("12h").unwrap(), chrono::Duration::hours(12));
        for bad in ["0", "0d", "soon", "-1d"] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_list_shows_state_and_never_more_than_the_record() {
        let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let t = |name: &str, expires: Option<DateTime<Utc>>, revoked| NamedToken {
            name: name.into(),
            role: Role::Ingest,
            created: t0,
            expires,
            last_used: None,
            revoked,
        };
        let out = table(
            &[
                t("a", None, None),
                t("b", Some(t0), None),
                t("c", None, Some(t0)),
            ],
            t0 + chrono::Duration::days(1),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "NAME  ROLE    CREATED               EXPIRES               LAST USED  STATE"
        );
        assert_eq!(
            lines[1],
            "a     ingest  2026-01-01 00:00 UTC  never                 never      active"
        );
        assert!(lines[2].ends_with("expired") && lines[3].ends_with("revoked"));
    }
}
