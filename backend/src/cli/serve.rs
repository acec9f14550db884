use super::serve_tasks::{start_exports, start_folding, start_snapshots};
use super::{CliError, DetectArgs, StoreArgs};
use crate::auth::session::SqliteSessions;
use crate::auth::tokens::{SqliteTokens, TokenStore};
use crate::auth::Authenticator;
use crate::feed::FeedMetrics;
use crate::http::live::LiveState;
use crate::http::{router, AppState, HttpConfig};
use crate::live::tickets::MemoryTickets;
use crate::metrics::Registry;
use crate::pipeline::Pipeline;
use crate::sinks::audit::{LocalAudit, AUDIT_SINK};
use crate::sinks::live::{LiveHub, LiveSink};
use crate::sinks::remediation::REMEDIATION_SINK;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// `cspm serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. A non-loopback address needs --api-token or a named
    /// token (`cspm tokens create`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Load demo findings when the store is empty.
    #[arg(long)]
    pub demo: bool,
    /// How many demo findings --demo loads.
    #[arg(long, default_value_t = 5000)]
    pub demo_count: usize,
    /// Folder with the built dashboard (default: frontend/dist when it exists).
    #[arg(long)]
    pub dashboard_dir: Option<PathBuf>,
    /// Admin bearer token; once set (or once a named token exists) every route
    /// but /health and the dashboard files needs credentials.
    #[arg(long, env = crate::config::ENV_API_TOKEN, hide_env_values = true)]
    pub api_token: Option<String>,
    /// Browser origins allowed by CORS (comma-separated, exact match).
    #[arg(long, env = crate::config::ENV_CORS_ORIGINS, value_delimiter = ',')]
    pub cors_origin: Vec<String>,
    /// OpenID Connect bearer tokens.
    #[command(flatten)]
    pub oidc: super::oidc::OidcArgs,
    /// Store options.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Detection options for documents posted to `/events`.
    #[command(flatten)]
    pub detect: DetectArgs,
    /// Daily archive options.
    #[command(flatten)]
    pub archive: super::archive::DailyArchiveArgs,
    /// Where changes go.
    #[command(flatten)]
    pub sinks: super::sinks::SinksArgs,
    /// The audit log's folder (default: DATA_DIR/audit). The audit log is always
    /// on with the SQLite store.
    #[arg(long, env = crate::config::ENV_AUDIT_DIR)]
    pub audit_dir: Option<PathBuf>,
    /// Sinks without a cursor yet start at this change `seq` instead of the head
    /// (a deliberate backfill).
    #[arg(long)]
    pub replay_from: Option<u64>,
    /// How long the change feed keeps changes (`7d`, `36h`, or days): a change is
    /// trimmed once it is this old and every sink has read it.
    #[arg(long, env = crate::config::ENV_FEED_RETENTION, default_value = "7d", value_parser = parse_feed_retention)]
    pub feed_retention: Duration,
    /// The remediation file (YAML): runs the worker that applies approved
    /// remediations (and the `remediation` sink for rules in its `auto`).
    /// Without it remediation is off: plans are shown, approvals refused.
    #[arg(long = "remediation", env = crate::config::ENV_REMEDIATION)]
    pub remediation: Option<PathBuf>,
}

/// `--feed-retention`: the ages `cspm archive --older-than` takes, so both windows
/// read the same way.
fn parse_feed_retention(s: &str) -> Result<Duration, String> {
    crate::archive::age::parse_older_than(s)?
        .to_std()
        .map_err(|_| format!("{s:?} is not a retention such as 7d or 36h"))
}

/// Why the server refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Exposing findings beyond this machine without authentication.
    #[error("refusing to listen on {0} without authentication: set {env}, pass --api-token or create a named token with `cspm tokens create` (or listen on 127.0.0.1)", env = crate::config::ENV_API_TOKEN)]
    NoTokenOnPublicAddress(SocketAddr),
    /// A token too short to resist guessing.
    #[error("the API token must be at least 16 characters")]
    WeakToken,
}

/// Checks the address/token combination before anything is opened:
/// `named_tokens` tells whether any named token exists (they are never deleted,
/// so authentication cannot switch off behind a public address) or an OIDC
/// provider is configured.
pub fn check_exposure(
    addr: SocketAddr,
    token: Option<&str>,
    named_tokens: bool,
) -> Result<(), ServeError> {
    match token {
        Some(t) if t.len() < 16 => Err(ServeError::WeakToken),
        None if !named_tokens && !addr.ip().is_loopback() => {
            Err(ServeError::NoTokenOnPublicAddress(addr))
        }
        _ => Ok(()),
    }
}

fn dashboard_dir(arg: Option<PathBuf>) -> Option<PathBuf> {
    let dir = arg.unwrap_or_else(|| PathBuf::from("frontend/dist"));
    if dir.join("index.html").is_file() {
        Some(dir)
    } else {
        tracing::warn!(dir = %dir.display(), "no dashboard build found (run ./build.sh dashboard); serving the API only");
        None
    }
}

/// Runs `cspm serve` until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<ExitCode, CliError> {
    let token = args.api_token.clone().filter(|t| !t.is_empty());
    // Named tokens live in the SQLite file; a DynamoDB deployment has none here.
    let tokens: Option<Arc<dyn TokenStore>> = match args.store.store {
        super::StoreKind::Sqlite => Some(Arc::new(SqliteTokens::open_dir(&args.store.data_dir)?)),
        super::StoreKind::Dynamodb => None,
    };
    let named = match &tokens {
        Some(t) => t.any().await?,
        None => false,
    };
    let provider = args.oidc.connect().await?;
    check_exposure(args.addr, token.as_deref(), named || provider.is_some())?;
    // Bad rules or suppressions stop the server before it listens.
    let normalizer = Arc::new(args.detect.detection_config().normalizer()?);
    // A bad sinks file stops the server before it listens, too.
    let sinks_file = args
        .sinks
        .sinks
        .as_deref()
        .map(super::sinks::read_file)
        .transpose()?;
    let opened = args.store.store_config().open().await?;
    let store = opened.store.clone();
    if args.demo && store.summary(chrono::Utc::now().date_naive()).await?.total == 0 {
        let n = super::demo::load(store.clone(), args.demo_count, 42, false).await?;
        tracing::info!(count = n, "loaded demo findings into the empty store");
    }
    let folding = start_folding(opened.sqlite.as_ref());
    let snapshots = start_snapshots(store.clone());
    let mut auth = Authenticator::new(token.as_deref());
    if let Some(t) = tokens {
        auth = auth.with_tokens(t);
    }
    let mut signin = None;
    if let Some(p) = &provider {
        auth = auth.with_bearer_verifier(Arc::new(super::oidc::OidcArgs::bearer(p)));
        // Sessions live in the SQLite file; on AWS the api Lambda keeps them elsewhere.
        if let super::StoreKind::Sqlite = args.store.store {
            let sessions = Arc::new(SqliteSessions::open_dir(&args.store.data_dir)?);
            let url = super::oidc::public_url(args.sinks.public_url.as_deref(), args.addr);
            signin = args.oidc.signin(p, url.as_deref(), sessions)?;
        }
    }
    let config = HttpConfig {
        api_token: token,
        cors_origins: args.cors_origin.clone(),
        dashboard_dir: dashboard_dir(args.dashboard_dir.clone()),
    };
    let daily_archive = args.archive.spawn(store.clone(), &args.store).await?;
    let metrics = Registry::new();
    let store_for_exports = store.clone();
    let pipeline = Pipeline::new(normalizer, store).with_metrics(metrics.clone(), "api");
    // Remediation keeps its queue and records in the SQLite file.
    let remediation = match opened.db_path.as_deref() {
        Some(db) => Some(
            super::serve_remediation::start(
                args.remediation.as_deref(),
                db,
                &args.store.data_dir,
                &args.store.aws.target(),
                pipeline.clone(),
            )
            .await?,
        ),
        None if args.remediation.is_some() => {
            return Err(
                "--remediation needs the SQLite store (its queue and records live there)".into(),
            )
        }
        None => None,
    };
    let extra = remediation.as_ref().and_then(|r| r.sink.clone());
    let fanout = start_fanout(&opened, sinks_file.as_ref(), extra, &args, &metrics).await?;
    let exports = start_exports(store_for_exports, &args.store.data_dir);
    let mut state = AppState::new(pipeline, config)
        .with_auth(auth)
        .with_exports(exports.jobs.clone());
    if let Some(r) = &remediation {
        state = state.with_remediation(r.service.clone());
    }
    if let Some(s) = signin {
        state = state.with_signin(Arc::new(s));
    }
    if let Some(f) = &fanout {
        state = state.with_live(f.live.clone(), Arc::new(MemoryTickets::default()));
    }
    // Peer addresses let `/metrics` answer loopback clients only.
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let local = listener.local_addr()?;
    // Tests and scripts read this line to learn the port when binding to :0.
    println!("listening on http://{local}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    if let Some(d) = daily_archive {
        d.stop();
    }
    exports.sweeper.abort();
    snapshots.abort();
    if let Some(f) = folding {
        f.abort();
    }
    if let Some(w) = remediation.and_then(|r| r.worker) {
        // An apply cut short is taken up again after a restart (its message
        // comes back from the queue; an already-fixed resource makes no call).
        w.abort();
    }
    if let Some(f) = fanout {
        if let Some(d) = &f.digests {
            d.abort();
        }
        f.running.stop().await;
        f.audit.stop().await;
    }
    Ok(ExitCode::SUCCESS)
}

/// What reads the change feed in `cspm serve`.
struct Fanout {
    running: crate::feed::Running,
    live: LiveState,
    audit: LocalAudit,
    /// The digest timer (absent without throttled channels).
    digests: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the dispatcher over the store's feed: the live sink and the audit log
/// (always), the remediation sink (`extra`, when automatic remediation is on)
/// and the sinks of the file (when given), every delivery counted in
/// `metrics`. `None` for a store without a readable feed (DynamoDB: on AWS the
/// fanout Lambda reads its stream).
async fn start_fanout(
    opened: &crate::config::store::Opened,
    file: Option<&crate::sinks::config::SinksFile>,
    extra: Option<Arc<dyn crate::sinks::Sink>>,
    args: &ServeArgs,
    metrics: &Arc<Registry>,
) -> Result<Option<Fanout>, CliError> {
    let (Some(feed), Some(db)) = (opened.feed.clone(), opened.db_path.as_deref()) else {
        if file.is_some() {
            return Err(
                "--sinks needs the SQLite store here; on AWS the fanout Lambda reads DynamoDB Streams"
                    .into(),
            );
        }
        tracing::warn!("no live updates, sinks or audit log on this store");
        return Ok(None);
    };
    let state = crate::feed::SinkState::open(db)?;
    let hub = LiveHub::new(feed.head().await?);
    tokio::spawn(
        hub.clone()
            .summaries(opened.store.clone(), Duration::from_secs(1)),
    );
    let mut sinks: Vec<Arc<dyn crate::sinks::Sink>> = vec![Arc::new(LiveSink::new(hub.clone()))];
    let mut digests = None;
    if let Some(file) = file {
        let built = super::sinks::build_all(
            file,
            &state,
            Some(db),
            &args.store.aws,
            args.sinks.public_url.clone(),
        )
        .await?;
        sinks.extend(built.sinks);
        if !built.throttled.is_empty() {
            digests = Some(tokio::spawn(flush_digests(built.throttled, DIGEST_TICK)));
        }
    }
    for reserved in [AUDIT_SINK, REMEDIATION_SINK] {
        if sinks.iter().any(|s| s.name() == reserved) {
            return Err(format!("the sink name {reserved:?} is reserved").into());
        }
    }
    sinks.extend(extra);
    let dir = super::audit::audit_dir(&args.store.data_dir, args.audit_dir.as_deref());
    let audit = LocalAudit::start(&dir, db, opened.store.clone(), metrics.clone())?;
    tracing::info!(dir = %dir.display(), "audit log");
    sinks.push(audit.sink.clone());
    let names: Vec<&str> = sinks.iter().map(|s| s.name()).collect();
    tracing::info!(sinks = ?names, "dispatching the change feed");
    let settings = crate::feed::DispatchSettings {
        replay_from: args.replay_from,
        keep: args.feed_retention,
        ..Default::default()
    };
    let running = crate::feed::Dispatcher::new(feed.clone(), state, sinks, settings)
        .observe(Arc::new(FeedMetrics::new(metrics.clone())))
        .observe(audit.sink.clone())
        .start()
        .await?;
    let live = LiveState { hub, feed };
    Ok(Some(Fanout {
        running,
        live,
        audit,
        digests,
    }))
}

/// How often due digests are looked for: a digest goes out at most this long
/// after its window ends (or quiet hours end).
const DIGEST_TICK: Duration = Duration::from_secs(15);

/// Flushes the due digests of every throttled channel, every `tick`. A failed
/// flush is logged and tried again at the next tick (held messages stay held).
async fn flush_digests(
    channels: Vec<Arc<crate::sinks::throttle::sink::Throttled>>,
    tick: Duration,
) {
    let mut every = tokio::time::interval(tick);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        for c in &channels {
            if let Err(e) = c.flush(chrono::Utc::now()).await {
                tracing::warn!(sink = %crate::sinks::Sink::name(c.as_ref()), error = %e,
                    "digest flush failed; trying again at the next tick");
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_address_needs_a_strong_token() {
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(check_exposure(local, None, false).is_ok());
        assert!(check_exposure(public, None, false).is_err());
        assert!(check_exposure(public, None, true).is_ok());
        assert!(check_exposure(public, Some("short"), false).is_err());
        assert!(check_exposure(public, Some("0123456789abcdef"), false).is_ok());
    }

    /// `cspm serve` parsed from `args` (after the subcommand).
    fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        use clap::Parser;
        let mut argv = vec!["cspm".to_string(), "serve".to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        match crate::cli::Cli::try_parse_from(argv)?.command {
            crate::cli::Command::Serve(a) => Ok(*a),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn the_feed_retention_reads_days_and_hours_and_refuses_anything_else() {
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(
            serve(&["--feed-retention", "30d"]).unwrap().feed_retention,
            30 * day
        );
        assert_eq!(
            serve(&["--feed-retention", "36h"]).unwrap().feed_retention,
            Duration::from_secs(36 * 3600)
        );
        assert_eq!(
            serve(&["--feed-retention", "2"]).unwrap().feed_retention,
            2 * day
        );
        for bad in ["1y", "-1d", "soon"] {
            assert!(serve(&["--feed-retention", bad]).is_err(), "{bad} accepted");
        }
        // The default is the week (unless the environment sets another).
        if std::env::var(crate::config::ENV_FEED_RETENTION).is_err() {
            assert_eq!(serve(&[]).unwrap().feed_retention, 7 * day);
        }
    }
}
