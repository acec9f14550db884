//! `cspm sinks lint|status|retry|test`: check a sinks file, see each sink's cursor,
//! lag, health and parked batches, redeliver parked batches, send a test message.

use super::{AwsArgs, CliError, StoreArgs};
use crate::feed::SinkState;
use crate::sinks::audit::local::Outbox;
use crate::sinks::audit::{record, Journal};
use crate::sinks::config::{self, BuildContext, SinksFile};
use crate::sinks::ssrf::SystemResolver;
use crate::sinks::throttle::sqlite::SqliteThrottle;
use crate::sinks::Sink;
use crate::store::change::ChangeFinding;
use crate::store::Change;
use chrono::Utc;
use clap::{Args, Subcommand};
use shared_types::{
    ChangeKind, FindingListItem, FindingSource, RecordState, Severity, WorkflowStatus,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Where the sinks file is and what building sinks needs.
#[derive(Debug, Clone, Args)]
pub struct SinksArgs {
    /// The sinks file (YAML).
    #[arg(long = "sinks", env = crate::config::ENV_SINKS)]
    pub sinks: Option<PathBuf>,
    /// Base URL of the dashboard, for links in alerts (the CloudFront URL on AWS).
    #[arg(long, env = crate::config::ENV_PUBLIC_URL)]
    pub public_url: Option<String>,
}

/// `cspm sinks …`
#[derive(Debug, Args)]
pub struct SinksCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: SinksAction,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum SinksAction {
    /// Check a sinks file: unknown fields and kinds, bad URLs and severities, routes
    /// naming unknown sinks, inline Slack URLs and tokens (with their line).
    Lint {
        /// The file.
        file: PathBuf,
    },
    /// Each sink's cursor, lag, last error and parked batches.
    Status {
        /// Store options.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Redeliver a sink's parked batches.
    Retry {
        /// The sink.
        name: String,
        /// Sinks options.
        #[command(flatten)]
        sinks: SinksArgs,
        /// Store options.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Send a clearly marked test message through a sink.
    Test {
        /// The sink.
        name: String,
        /// Sinks options.
        #[command(flatten)]
        sinks: SinksArgs,
        /// Store options.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Reads and parses a sinks file, every problem with its line.
pub fn read_file(path: &Path) -> Result<SinksFile, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    config::parse(&text).map_err(|problems| {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {p}", path.display()))
            .collect();
        lines.join("\n").into()
    })
}

/// Builds every sink of `file` (secrets read once, AWS only when a sink needs it),
/// Slack and e-mail throttled with their state in the SQLite file at `db` (none:
/// they send as routed, as `cspm sinks test` wants).
pub async fn build_all(
    file: &SinksFile,
    state: &SinkState,
    db: Option<&Path>,
    aws: &AwsArgs,
    public_url: Option<String>,
) -> Result<config::Built, CliError> {
    let needs_aws = file.sinks.iter().any(config::SinkConfig::needs_aws);
    let sdk = if needs_aws {
        crate::aws::sdk_config_if_built(&aws.target()).await
    } else {
        None
    };
    let ctx = BuildContext {
        sdk,
        dedup: Arc::new(state.clone()),
        resolver: Arc::new(SystemResolver),
        dashboard_url: public_url,
        throttle: match db {
            Some(db) => Some(Arc::new(SqliteThrottle::open(db)?)),
            None => None,
        },
        // One process sends for each channel: digests also go before a batch.
        digests_on_schedule: false,
        turns: None,
    };
    Ok(file.build_all(&ctx).await?)
}

/// The dispatcher state next to a SQLite store.
fn open_state(store: &StoreArgs) -> Result<SinkState, CliError> {
    if !matches!(store.store, super::StoreKind::Sqlite) {
        return Err(
            "sinks run locally on the SQLite store; on AWS the fanout Lambda keeps them".into(),
        );
    }
    let path = store.data_dir.join(crate::store::sqlite::DB_FILE);
    if !path.exists() {
        return Err(format!("no store at {}", path.display()).into());
    }
    Ok(SinkState::open(&path)?)
}

/// Runs `cspm sinks …`.
pub async fn run(cmd: SinksCommand) -> Result<ExitCode, CliError> {
    match cmd.action {
        SinksAction::Lint { file } => lint(&file).await,
        SinksAction::Status { store } => status(&store).await,
        SinksAction::Retry { name, sinks, store } => retry(&name, &sinks, &store).await,
        SinksAction::Test { name, sinks, store } => test(&name, &sinks, &store).await,
    }
}

async fn lint(file: &Path) -> Result<ExitCode, CliError> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let problems = config::lint(&text, &SystemResolver).await;
    for p in &problems {
        println!("{}: {p}", file.display());
    }
    if problems.iter().any(|p| p.error) {
        return Ok(ExitCode::FAILURE);
    }
    let (n, routes) = config::parse(&text)
        .map(|f| {
            let routes = match &f.routes {
                Some(r) => format!("{} routes", r.len()),
                None => "the default route".into(),
            };
            (f.sinks.len(), routes)
        })
        .unwrap_or((0, String::new()));
    println!("{}: ok ({n} sinks, {routes})", file.display());
    Ok(ExitCode::SUCCESS)
}

async fn status(store: &StoreArgs) -> Result<ExitCode, CliError> {
    let state = open_state(store)?;
    let opened = store.store_config().open().await?;
    let feed = opened.feed.ok_or("no change feed")?;
    let head = feed.head().await?;
    let parked = state.parked(None).await?;
    println!("feed head: seq {head}");
    println!(
        "{:<16} {:>10} {:>8} {:>10} {:>10}  {:<25} LAST ERROR",
        "SINK", "CURSOR", "LAG", "BEHIND", "DELIVERED", "LAST DELIVERY"
    );
    for (sink, cursor) in state.cursors().await? {
        let h = state.health(&sink).await?;
        let behind = match feed.changes_after(cursor, 1).await?.first() {
            Some(c) => format!("{}s", (Utc::now() - c.at).num_seconds().max(0)),
            None => "-".into(),
        };
        let n_parked = parked.iter().filter(|p| p.sink == sink).count();
        let error = match (&h.last_error, h.tries) {
            (Some(e), t) if t > 0 => format!("failing ({t} tries): {e}"),
            (Some(e), _) => format!("(recovered) {e}"),
            (None, _) => "-".into(),
        };
        println!(
            "{:<16} {:>10} {:>8} {:>10} {:>10}  {:<25} {error}{}",
            sink,
            cursor,
            head.saturating_sub(cursor),
            behind,
            h.delivered,
            h.last_delivery_at
                .map(|t| t.to_rfc3339())
                .unwrap_or("-".into()),
            if n_parked > 0 {
                format!("  [{n_parked} parked]")
            } else {
                String::new()
            }
        );
    }
    for p in &parked {
        println!(
            "parked #{} {} {} change(s) seq {}..{} at {} after {} tries: {}",
            p.id,
            p.sink,
            p.changes.len(),
            p.changes.first().map_or(0, |c| c.seq),
            p.changes.last().map_or(0, |c| c.seq),
            p.parked_at.to_rfc3339(),
            p.tries,
            p.error
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The one sink of the file named `name`, built; `throttled` as `cspm serve` runs
/// it (a test message is not: it must go whatever was sent before).
async fn the_sink(
    name: &str,
    sinks: &SinksArgs,
    store: &StoreArgs,
    state: &SinkState,
    throttled: bool,
) -> Result<Arc<dyn Sink>, CliError> {
    let path = sinks
        .sinks
        .as_ref()
        .ok_or("give the sinks file with --sinks FILE (or CSPM_SINKS)")?;
    let mut file = read_file(path)?;
    file.sinks.retain(|s| s.name() == name);
    if file.sinks.is_empty() {
        return Err(format!("no sink named {name:?} in {}", path.display()).into());
    }
    let db = store.data_dir.join(crate::store::sqlite::DB_FILE);
    let db = throttled.then_some(db.as_path());
    let built = build_all(&file, state, db, &store.aws, sinks.public_url.clone()).await?;
    Ok(built.sinks.into_iter().next().ok_or("no sink")?)
}

async fn retry(name: &str, sinks: &SinksArgs, store: &StoreArgs) -> Result<ExitCode, CliError> {
    let state = open_state(store)?;
    let sink = the_sink(name, sinks, store, &state, true).await?;
    let parked = state.parked(Some(name)).await?;
    if parked.is_empty() {
        println!("{name}: nothing parked");
        return Ok(ExitCode::SUCCESS);
    }
    // The serve process's audit writer chains these (the outbox is in the SQLite file).
    let audit = Outbox::open(&store.data_dir.join(crate::store::sqlite::DB_FILE))?;
    let actor = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let mut failed = 0;
    for p in parked {
        match sink.send(&p.changes).await {
            Ok(()) => {
                state.unpark(p.id).await?;
                // A parked batch is behind the cursor already: health only.
                state.record_success(name, p.changes.len(), None).await?;
                let records =
                    record::redelivered(name, sink.channel(), &p.changes, &actor, Utc::now());
                audit.record(&records).await?;
                println!(
                    "{name}: parked #{} delivered ({} changes)",
                    p.id,
                    p.changes.len()
                );
            }
            Err(e) => {
                failed += 1;
                println!("{name}: parked #{} still fails: {e}", p.id);
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A change that says, everywhere it shows, that it is a test.
pub fn test_change() -> Change {
    let now = Utc::now();
    let id = "cspm-test-message".to_string();
    Change {
        seq: 0,
        key: format!("{id}:{}", now.timestamp_micros()),
        kind: ChangeKind::Inserted,
        revision: 1,
        at: now,
        actor: Some("cspm sinks test".into()),
        quiet: false,
        finding: ChangeFinding {
            item: FindingListItem {
                id: id.clone(),
                asff_id: id,
                severity: Severity::Critical,
                title: "TEST MESSAGE from cspm-monitor (cspm sinks test) - no action needed".into(),
                workflow_status: WorkflowStatus::New,
                account_id: "000000000000".into(),
                region: "test".into(),
                resource_type: "Test".into(),
                resource_id: "cspm-test".into(),
                product_name: "cspm-monitor".into(),
                source: FindingSource::Demo,
                compliance_status: None,
                control_id: None,
                created_at: now,
                updated_at: now,
            },
            generator_id: "cspm.test-message".into(),
            record_state: RecordState::Active,
            severity_before: None,
            status_before: None,
            note: Some("This is a test message. It is not about a real finding.".into()),
            caller: None,
        },
    }
}

async fn test(name: &str, sinks: &SinksArgs, store: &StoreArgs) -> Result<ExitCode, CliError> {
    let state = open_state(store)?;
    let sink = the_sink(name, sinks, store, &state, false).await?;
    match sink.send(&[test_change()]).await {
        Ok(()) => {
            println!("{name}: test message sent");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{name}: test message not sent: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
