//! The local record of remediations this machine made: JSON lines in
//! `DATA_DIR/remediations.jsonl`, a `started` line written before an action's
//! calls and a `verified` or `failed` line after. The per-account rate limit
//! counts the `started` lines, so an attempt that crashed halfway still counts;
//! a person can read it to see what was changed when. (The queue, the worker and
//! `GET /remediations` will keep this record in the store.)

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The ledger's file name in the data dir.
pub const FILE_NAME: &str = "remediations.jsonl";

/// How an attempted remediation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerOutcome {
    /// About to make the calls (written first: a crash after it still counts).
    Started,
    /// Applied and verified.
    Verified,
    /// A call failed or the read-back did not show the fix.
    Failed,
}

/// One step of an attempted remediation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// When the calls were made.
    pub at: DateTime<Utc>,
    /// The finding's short id.
    pub finding_id: String,
    /// The action id.
    pub action: String,
    /// The account changed.
    pub account_id: String,
    /// Who asked (`local` from the CLI).
    pub actor: String,
    /// Which step: started, or how it ended.
    pub outcome: LedgerOutcome,
    /// The failure, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// On the `started` line: what a person needs to undo the change (e.g. the
    /// policy document detached or deleted), see [`crate::remediate::action::Action::record`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<serde_json::Value>,
}

/// The ledger could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct LedgerError {
    /// What went wrong.
    pub detail: String,
    /// True when trying again later may work (throttling); a file that cannot
    /// be written needs someone to look.
    pub retryable: bool,
}

impl From<std::io::Error> for LedgerError {
    fn from(e: std::io::Error) -> Self {
        LedgerError {
            detail: e.to_string(),
            retryable: false,
        }
    }
}

/// The check a start must pass, on the times of the account's other starts.
pub type StartCheck<'a> = dyn Fn(&[DateTime<Utc>]) -> bool + Send + Sync + 'a;

/// Where attempts are recorded and the per-account rate limit counted: the
/// ledger file on one machine ([`Ledger`]), a DynamoDB item per account for
/// the `remediator` Lambda, whose instances share nothing else.
#[async_trait]
pub trait AttemptLog: Send + Sync {
    /// Records one step of an attempt (only `started` steps count).
    async fn append(&self, entry: &LedgerEntry) -> Result<(), LedgerError>;

    /// Records the start `entry` only if `allowed` passes on the account's
    /// other starts as they stand at that moment (as [`AttemptLog::attempts_in`]
    /// gives them), with no other start recorded in between: the per-account
    /// limit holds however many workers start at once. False: refused, nothing
    /// recorded.
    async fn start_if(
        &self,
        entry: &LedgerEntry,
        allowed: &StartCheck<'_>,
    ) -> Result<bool, LedgerError>;

    /// When remediations in `account_id` other than `except` (finding id,
    /// action id) were last started, however they ended, oldest first: one
    /// time per finding and action (see [`Ledger::attempts_in`]).
    async fn attempts_in(
        &self,
        account_id: &str,
        except: (&str, &str),
    ) -> Result<Vec<DateTime<Utc>>, LedgerError>;
}

#[async_trait]
impl AttemptLog for Ledger {
    async fn append(&self, entry: &LedgerEntry) -> Result<(), LedgerError> {
        Ok(Ledger::append(self, entry)?)
    }

    async fn start_if(
        &self,
        entry: &LedgerEntry,
        allowed: &StartCheck<'_>,
    ) -> Result<bool, LedgerError> {
        Ok(Ledger::start_if(self, entry, allowed)?)
    }

    async fn attempts_in(
        &self,
        account_id: &str,
        except: (&str, &str),
    ) -> Result<Vec<DateTime<Utc>>, LedgerError> {
        Ok(Ledger::attempts_in(self, account_id, except)?)
    }
}

/// The ledger file.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
}

impl Ledger {
    /// The ledger in `data_dir` (created on first append).
    pub fn in_dir(data_dir: &Path) -> Ledger {
        Ledger {
            path: data_dir.join(FILE_NAME),
        }
    }

    /// Appends one entry. One `write` of one line with `O_APPEND`, so two
    /// processes appending at once do not interleave their lines.
    pub fn append(&self, entry: &LedgerEntry) -> std::io::Result<()> {
        write_line(&self.open()?, entry)
    }

    /// [`AttemptLog::start_if`] on the file: an exclusive lock on it, held
    /// from the read of the other starts to the append, puts the checks and
    /// starts of processes (or threads) that start at once one after another.
    pub fn start_if(&self, entry: &LedgerEntry, allowed: &StartCheck<'_>) -> std::io::Result<bool> {
        let file = self.open()?;
        file.lock()?; // released when `file` is closed
        let others = self.attempts_in(&entry.account_id, (&entry.finding_id, &entry.action))?;
        if !allowed(&others) {
            return Ok(false);
        }
        write_line(&file, entry)?;
        Ok(true)
    }

    /// The file, opened to append (created if absent).
    fn open(&self) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
    }

    /// When remediations in `account_id` other than `except` (finding id,
    /// action id) were last started, however they ended (failed and unfinished
    /// ones made calls too), oldest first. One time per finding and action, so
    /// the worker's retries of one remediation count once against the rate
    /// limit (at the latest try, the longest in the window), and never against
    /// that remediation's own next try. A line that does not parse (a crash
    /// mid-write) is skipped with a warning.
    pub fn attempts_in(
        &self,
        account_id: &str,
        except: (&str, &str),
    ) -> std::io::Result<Vec<DateTime<Utc>>> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut latest: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line?;
            match serde_json::from_str::<LedgerEntry>(&line) {
                Ok(e)
                    if e.account_id == account_id
                        && e.outcome == LedgerOutcome::Started
                        && (e.finding_id.as_str(), e.action.as_str()) != except =>
                {
                    let at = latest.entry((e.finding_id, e.action)).or_insert(e.at);
                    *at = (*at).max(e.at);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(line = n + 1, error = %e, path = %self.path.display(),
                    "unreadable remediation ledger line skipped"),
            }
        }
        let mut times: Vec<DateTime<Utc>> = latest.into_values().collect();
        times.sort();
        Ok(times)
    }
}

/// Appends `entry` as one line in one `write` (see [`Ledger::append`]).
fn write_line(mut file: &std::fs::File, entry: &LedgerEntry) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    file.write_all(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(account: &str, at: &str) -> LedgerEntry {
        LedgerEntry {
            outcome: LedgerOutcome::Started,
            finding_id: format!("f-{at}"),
            ..ended(account, at)
        }
    }

    fn ended(account: &str, at: &str) -> LedgerEntry {
        LedgerEntry {
            at: at.parse().unwrap(),
            finding_id: "f".into(),
            action: "s3-block-public-access".into(),
            account_id: account.into(),
            actor: "local".into(),
            outcome: LedgerOutcome::Verified,
            error: None,
            record: None,
        }
    }

    #[test]
    fn attempts_are_counted_per_account_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::in_dir(dir.path());
        assert!(ledger.attempts_in("1", ("", "")).unwrap().is_empty());
        ledger.append(&entry("1", "2026-01-01T00:00:00Z")).unwrap();
        ledger.append(&entry("2", "2026-01-01T00:01:00Z")).unwrap();
        // How an attempt ended is not a second attempt.
        ledger.append(&ended("1", "2026-01-01T00:01:30Z")).unwrap();
        // Nor is a retry of the same finding and action: it moves the time.
        let retry = LedgerEntry {
            finding_id: "f-2026-01-01T00:00:00Z".into(),
            ..entry("1", "2026-01-01T00:00:40Z")
        };
        ledger.append(&retry).unwrap();
        // Another action on the same finding is another remediation.
        let other = LedgerEntry {
            action: "iam-deactivate-access-key".into(),
            ..retry.clone()
        };
        ledger.append(&other).unwrap();
        // A torn line from a crash is skipped, not fatal.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE_NAME))
            .unwrap()
            .write_all(b"{\"at\":\n")
            .unwrap();
        Ledger::in_dir(dir.path())
            .append(&entry("1", "2026-01-01T00:02:00Z"))
            .unwrap();
        let ledger = Ledger::in_dir(dir.path());
        let times = ledger.attempts_in("1", ("", "")).unwrap();
        assert_eq!(
            times,
            vec![
                "2026-01-01T00:00:40Z".parse::<DateTime<Utc>>().unwrap(),
                "2026-01-01T00:00:40Z".parse().unwrap(),
                "2026-01-01T00:02:00Z".parse().unwrap()
            ]
        );
        // A remediation's own tries are not counted against its next one.
        let own = ledger
            .attempts_in("1", ("f-2026-01-01T00:00:00Z", "s3-block-public-access"))
            .unwrap();
        assert_eq!(own.len(), 2);
    }

    #[test]
    fn starts_at_once_under_a_limit_record_exactly_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let won: usize = std::thread::scope(|s| {
            let starts: Vec<_> = (0..8)
                .map(|i| {
                    let dir = dir.path();
                    s.spawn(move || {
                        // Each with its own open file, as another process's.
                        let e = LedgerEntry {
                            finding_id: format!("f{i}"),
                            ..entry("1", "2026-01-01T00:00:00Z")
                        };
                        let under_three = |others: &[DateTime<Utc>]| others.len() < 3;
                        Ledger::in_dir(dir).start_if(&e, &under_three).unwrap()
                    })
                })
                .collect();
            starts
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(won, 3);
        let ledger = Ledger::in_dir(dir.path());
        assert_eq!(ledger.attempts_in("1", ("", "")).unwrap().len(), 3);
        // A refused start records nothing.
        let refused = entry("1", "2026-01-01T00:09:00Z");
        assert!(!ledger.start_if(&refused, &|_| false).unwrap());
        assert_eq!(ledger.attempts_in("1", ("", "")).unwrap().len(), 3);
    }
}
