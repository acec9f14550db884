//! `cspm audit verify|tail`: check the audit log's hash chain (exit 0 when it
//! holds, 1 naming the first broken line or the gap), print its newest lines. The
//! log is read from the local folder (`DATA_DIR/audit`, `--audit-dir`) or from S3
//! (`--from s3://bucket/prefix`).

use super::{AwsArgs, CliError};
use crate::sinks::audit::read;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the local audit log lives.
#[derive(Debug, Clone, Args)]
pub struct AuditDirArgs {
    /// Folder holding the SQLite database (the audit log is in its `audit/` folder).
    #[arg(long, env = crate::config::ENV_DATA_DIR, default_value = "./data")]
    pub data_dir: PathBuf,
    /// The audit log's folder (default: DATA_DIR/audit).
    #[arg(long, env = crate::config::ENV_AUDIT_DIR)]
    pub audit_dir: Option<PathBuf>,
}

impl AuditDirArgs {
    /// The folder.
    pub fn dir(&self) -> PathBuf {
        audit_dir(&self.data_dir, self.audit_dir.as_deref())
    }
}

/// The audit folder: `--audit-dir`, or `DATA_DIR/audit`.
pub fn audit_dir(data_dir: &std::path::Path, audit_dir: Option<&std::path::Path>) -> PathBuf {
    audit_dir.map_or_else(|| data_dir.join("audit"), std::path::Path::to_path_buf)
}

/// Which log to read.
#[derive(Debug, Clone, Args)]
pub struct Source {
    /// A folder or `s3://bucket/prefix` (default: the local audit folder).
    #[arg(long)]
    pub from: Option<String>,
    /// The local folder.
    #[command(flatten)]
    pub dir: AuditDirArgs,
    /// Where AWS calls go (for `s3://`).
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// `cspm audit …`
#[derive(Debug, Args)]
pub struct AuditCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: AuditAction,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the hash chain: exit 0 when it holds, 1 naming the first broken line
    /// (object and line number) or the missing lines.
    Verify {
        /// Which log.
        #[command(flatten)]
        source: Source,
        /// First day checked (YYYY-MM-DD); its first line must link to the day before.
        #[arg(long)]
        since: Option<NaiveDate>,
        /// Last day checked (YYYY-MM-DD).
        #[arg(long)]
        until: Option<NaiveDate>,
    },
    /// Print the newest lines.
    Tail {
        /// Which log.
        #[command(flatten)]
        source: Source,
        /// How many.
        #[arg(short = 'n', long = "lines", default_value_t = 20)]
        n: usize,
    },
}

async fn open(
    source: &Source,
) -> Result<std::sync::Arc<dyn crate::archive::ArchiveSink>, CliError> {
    let location = match &source.from {
        Some(l) => l.clone(),
        None => source.dir.dir().display().to_string(),
    };
    Ok(super::archive::open_sink(&location, &source.aws.target()).await?)
}

/// Runs `cspm audit`.
pub async fn run(cmd: AuditCommand) -> Result<ExitCode, CliError> {
    match cmd.action {
        AuditAction::Verify {
            source,
            since,
            until,
        } => {
            let objects = open(&source).await?;
            let r = read::verify(objects.as_ref(), since, until).await?;
            let seqs = match (r.first_seq, r.last_seq) {
                (Some(a), Some(b)) => format!(", seq {a}-{b}"),
                _ => String::new(),
            };
            let location = objects.location();
            match r.broken {
                None => {
                    println!(
                        "{location}: {} lines in {} objects{seqs}: the chain holds",
                        r.lines, r.objects
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => {
                    println!("{location}: the chain is broken: {b}");
                    println!("({} lines checked before it{seqs})", r.lines);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditAction::Tail { source, n } => {
            let objects = open(&source).await?;
            for line in read::tail(objects.as_ref(), n).await? {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
