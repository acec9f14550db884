//! The `cspm` command line: one file per subcommand, registered in [`Command`].

/// `cspm archive` (and `archive restore`, `archive ls`).
pub mod archive;
/// `cspm audit verify|tail`.
pub mod audit;
/// `cspm demo`.
pub mod demo;
/// `cspm export`.
pub mod export;
/// `cspm ingest`.
pub mod ingest;
/// `cspm serve`'s OpenID Connect options.
pub mod oidc;
/// Progress bars for long commands.
pub mod progress;
/// `cspm recount` (DynamoDB counter items).
pub mod recount;
/// `cspm remediate plan|apply`.
pub mod remediate;
/// `cspm rules list|lint|test|eval|eval-policies`.
pub mod rules;
/// `cspm serve`.
pub mod serve;
/// Remediation in `cspm serve`: the API's plans and records, the worker, the sink.
pub mod serve_remediation;
/// Upkeep tasks of `cspm serve`: export sweeping, resource counter folding.
mod serve_tasks;
/// `cspm sinks lint|status|retry|test`.
pub mod sinks;
/// `cspm tokens create|list|revoke`.
pub mod tokens;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// cspm-monitor: cloud security posture management for AWS, locally on SQLite.
#[derive(Debug, Parser)]
#[command(name = "cspm", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command that opens the store.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Folder holding the SQLite database.
    #[arg(long, env = crate::config::ENV_DATA_DIR, default_value = "./data")]
    pub data_dir: PathBuf,
    /// Store: `sqlite` (local file in --data-dir) or `dynamodb` (--table).
    #[arg(long, env = crate::config::ENV_STORE, value_enum, default_value_t = StoreKind::Sqlite)]
    pub store: StoreKind,
    /// DynamoDB table (with --store dynamodb), as Terraform names it.
    #[arg(long, env = crate::config::ENV_TABLE_NAME, required_if_eq("store", "dynamodb"))]
    pub table: Option<String>,
    /// Days findings stay hot before they are archived: the default archive cutoff,
    /// and DynamoDB's TTL safety net is set after it.
    #[arg(long, env = crate::config::ENV_RETENTION_DAYS, default_value_t = crate::config::DEFAULT_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub retention_days: u32,
    /// Where AWS calls go.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Create the DynamoDB table if missing (for an emulator; Terraform owns it on AWS).
    #[arg(long)]
    pub create_table: bool,
    /// DynamoDB writes in flight per batch. Use 1 with an emulator that does not
    /// serialize conditional writes (moto).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub dynamo_concurrency: Option<u16>,
}

/// Where AWS calls go (the DynamoDB store, an S3 archive).
#[derive(Debug, Clone, Default, Args)]
pub struct AwsArgs {
    /// Endpoint for AWS calls, e.g. a local emulator `http://127.0.0.1:5000`.
    #[arg(long, env = crate::config::ENV_AWS_ENDPOINT, value_parser = parse_endpoint)]
    pub aws_endpoint: Option<String>,
    /// AWS region (default: the SDK's chain, e.g. AWS_REGION).
    #[arg(long)]
    pub aws_region: Option<String>,
}

impl AwsArgs {
    /// The AWS target these options select.
    pub fn target(&self) -> crate::aws::AwsTarget {
        crate::aws::AwsTarget {
            endpoint: self.aws_endpoint.clone(),
            region: self.aws_region.clone(),
        }
    }
}

/// The store kinds `cspm` can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// SQLite file in the data dir (default; no AWS account needed).
    Sqlite,
    /// A DynamoDB table.
    Dynamodb,
}

impl StoreArgs {
    /// The store configuration these options select.
    pub fn store_config(&self) -> crate::config::StoreConfig {
        match self.store {
            StoreKind::Sqlite => crate::config::StoreConfig::Sqlite {
                data_dir: self.data_dir.clone(),
            },
            StoreKind::Dynamodb => {
                crate::config::StoreConfig::Dynamo(crate::config::DynamoConfig {
                    // clap requires --table with --store dynamodb.
                    table: self.table.clone().unwrap_or_default(),
                    target: self.aws.target(),
                    retention_days: self.retention_days,
                    create: self.create_table,
                    concurrency: self.dynamo_concurrency.map(usize::from),
                })
            }
        }
    }
}

/// Detection options shared by commands that normalize documents.
#[derive(Debug, Clone, Args)]
pub struct DetectArgs {
    /// Folder of user rule files added to (or overriding) the built-in pack.
    #[arg(long, env = crate::config::ENV_RULES_DIR)]
    pub rules_dir: Option<PathBuf>,
    /// Suppressions file (YAML).
    #[arg(long, env = crate::config::ENV_SUPPRESSIONS)]
    pub suppressions: Option<PathBuf>,
    /// Account id to write on every finding (multi-account display and testing).
    #[arg(long, env = crate::config::ENV_ACCOUNT_ID_OVERRIDE)]
    pub account_id_override: Option<String>,
}

impl DetectArgs {
    /// The detection configuration these options select.
    pub fn detection_config(&self) -> crate::config::DetectionConfig {
        crate::config::DetectionConfig {
            rules_dir: self.rules_dir.clone(),
            suppressions: self.suppressions.clone(),
            account_override: self.account_id_override.clone(),
        }
    }
}

/// An endpoint must be an absolute http(s) URL.
fn parse_endpoint(s: &str) -> Result<String, String> {
    match s.split_once("://") {
        Some(("http" | "https", rest)) if !rest.is_empty() => Ok(s.trim_end_matches('/').into()),
        _ => Err(format!("{s:?} is not an http(s) URL")),
    }
}

/// The subcommands. Adding one = one file in `cli/` plus one variant here.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and dashboard (and load demo data with --demo).
    Serve(Box<serve::ServeArgs>),
    /// Load findings from files, folders or stdin (`-`).
    Ingest(ingest::IngestArgs),
    /// Generate deterministic synthetic findings into the store.
    Demo(demo::DemoArgs),
    /// Write the findings a filter selects as CSV, JSON Lines or OCSF.
    Export(export::ExportArgs),
    /// Detection rules: list, lint, test, evaluate.
    Rules(rules::RulesArgs),
    /// Move old findings to the archive; `archive restore` / `archive ls`.
    Archive(archive::ArchiveArgs),
    /// Where changes go: lint the sinks file, status, retry parked batches, test.
    Sinks(sinks::SinksCommand),
    /// The audit log: verify its hash chain, print its newest lines.
    Audit(audit::AuditCommand),
    /// Named API tokens with a role: create (prints the token), list, revoke.
    Tokens(tokens::TokensCommand),
    /// Fix a finding: show the plan, or apply and verify it (dry-run by default).
    Remediate(remediate::RemediateCommand),
    /// Rebuild a DynamoDB table's counter items from its findings (writers paused).
    Recount(recount::RecountArgs),
}

/// The `cspm` binary's whole `main`: logging to stderr (`RUST_LOG`, default
/// `info,tower_http=warn`), the command line, a multi-threaded runtime, the command;
/// returns the exit code.
///
/// It is synchronous and lives here, not in the binary, for build time: the runtime's
/// `block_on` is generic over the future it runs, so a binary that awaits [`run`]
/// compiles every command's async state machine a second time in its own crate. With
/// `block_on` called here they are compiled once: the quick-start binary took 23 s at
/// the end of a cold build, when nothing else can run, and a rebuild 48 CPU-s more.
pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(a) => serve::run(*a).await,
        Command::Ingest(a) => ingest::run(a).await,
        Command::Demo(a) => demo::run(a).await,
        Command::Export(a) => export::run(a).await,
        Command::Rules(a) => rules::run(a),
        Command::Archive(a) => archive::run(a).await,
        Command::Sinks(a) => sinks::run(a).await,
        Command::Audit(a) => audit::run(a).await,
        Command::Tokens(a) => tokens::run(a).await,
        Command::Remediate(a) => remediate::run(a).await,
        Command::Recount(a) => recount::run(a).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A command failure, printed as `error: …`.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;
