//! Remediation in `cspm serve`: the plans, approvals and records the API
//! serves (always, with the SQLite store), and with `--remediation FILE` the
//! worker that applies approvals and the `remediation` sink that approves the
//! rules in `auto`. Without the file remediation is off: plans are shown
//! without reading AWS (no action is available) and approvals are refused.

use super::CliError;
use crate::pipeline::Pipeline;
use crate::remediate::config::RemediationConfig;
use crate::remediate::ledger::{AttemptLog, Ledger};
use crate::remediate::local::SqliteRemediations;
use crate::remediate::queue::RemediationQueue;
use crate::remediate::registry::Registry;
use crate::remediate::run::Remediator;
use crate::remediate::service::Remediations;
use crate::remediate::worker::{Worker, WorkerSettings};
use crate::sinks::remediation::RemediationSink;
use crate::sinks::Sink;
use std::path::Path;
use std::sync::Arc;

/// Remediation as `cspm serve` runs it.
pub struct Local {
    /// What the API calls.
    pub service: Arc<Remediations>,
    /// The worker task (with `--remediation`).
    pub worker: Option<tokio::task::JoinHandle<()>>,
    /// The sink approving rules in `auto` (with `--remediation` and a
    /// non-empty `auto`), for the dispatcher.
    pub sink: Option<Arc<dyn Sink>>,
}

/// Remediation over the SQLite file `db` of the store `pipeline` writes, its
/// ledger in `data_dir`; `file` is `--remediation`. A bad file, or no AWS
/// credentials for the actions, stops the server before it listens.
pub async fn start(
    file: Option<&Path>,
    db: &Path,
    data_dir: &Path,
    aws: &crate::aws::AwsTarget,
    pipeline: Pipeline,
) -> Result<Local, CliError> {
    let tables = Arc::new(SqliteRemediations::open(db)?);
    let ledger: Arc<dyn AttemptLog> = Arc::new(Ledger::in_dir(data_dir));
    let Some(file) = file else {
        let remediator = Remediator {
            config: RemediationConfig::default(),
            // No action: nothing is read from AWS and every plan says so.
            registry: Registry::from_actions(Vec::new()),
            pipeline,
            ledger,
        };
        let service = Remediations::new(Arc::new(remediator), tables, None);
        return Ok(Local {
            service: Arc::new(service),
            worker: None,
            sink: None,
        });
    };
    let mut config = RemediationConfig::load(file)?;
    let registry = super::remediate::registry(aws, &mut config).await?;
    let auto = !config.auto.is_empty();
    let remediator = Remediator {
        config,
        registry,
        pipeline,
        ledger,
    };
    let orphans = tables.requeue_orphans().await?;
    if orphans > 0 {
        tracing::warn!(
            count = orphans,
            "approvals recorded but never queued are queued now"
        );
    }
    let queue: Arc<dyn RemediationQueue> = tables.clone();
    let service = Arc::new(Remediations::new(
        Arc::new(remediator),
        tables,
        Some(queue.clone()),
    ));
    let worker = Worker::new(service.clone(), queue, WorkerSettings::default()).spawn();
    let sink = auto.then(|| Arc::new(RemediationSink::new(service.clone())) as Arc<dyn Sink>);
    tracing::info!(file = %file.display(), auto, "remediation worker started");
    Ok(Local {
        service,
        worker: Some(worker),
        sink,
    })
}
