//! The local dispatcher (inside `cspm serve`): one task per sink reads the change
//! feed after that sink's durable cursor, hands it the changes it wants, and moves
//! the cursor only once they are delivered or parked. A sink that fails waits on its
//! own task; the others keep up. Changes this process commits wake the tasks at
//! once; changes another process writes to the same file (`cspm ingest`) are seen
//! by polling the feed's head a few times a second.

use super::deliver::{deliver, Delivery, RetryPolicy};
use super::observe::{DeliveryObserver, Observers};
use super::state::SinkState;
use crate::sinks::Sink;
use crate::store::{ChangeFeed, StoreError};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the dispatcher runs.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Retries and parking.
    pub retry: RetryPolicy,
    /// How often the feed is polled for other processes' changes.
    pub poll: Duration,
    /// Changes read per feed page.
    pub page: u32,
    /// Where a sink without a cursor starts: `None` at the head (no flood of
    /// history), `Some(seq)` at `seq` (a deliberate backfill, `--replay-from`).
    pub replay_from: Option<u64>,
    /// How long changes are kept (trimmed only behind every sink's cursor);
    /// `cspm serve --feed-retention`, 7 days by default.
    pub keep: Duration,
    /// How often trimming runs.
    pub trim_every: Duration,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            retry: RetryPolicy::default(),
            poll: Duration::from_millis(250),
            page: 1000,
            replay_from: None,
            keep: Duration::from_secs(7 * 24 * 3600),
            trim_every: Duration::from_secs(3600),
        }
    }
}

/// The dispatcher: the feed, the sinks, their state.
pub struct Dispatcher {
    feed: Arc<dyn ChangeFeed>,
    state: SinkState,
    sinks: Vec<Arc<dyn Sink>>,
    settings: DispatchSettings,
    observers: Observers,
}

/// A running dispatcher; [`Running::stop`] ends its tasks.
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops every task and waits for them (a delivery in progress is abandoned
    /// with its cursor unmoved: it is delivered again on the next start).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

impl Dispatcher {
    /// A dispatcher of `feed` to `sinks`, keeping its state in `state`.
    pub fn new(
        feed: Arc<dyn ChangeFeed>,
        state: SinkState,
        sinks: Vec<Arc<dyn Sink>>,
        settings: DispatchSettings,
    ) -> Dispatcher {
        Dispatcher {
            feed,
            state,
            sinks,
            settings,
            observers: Observers::default(),
        }
    }

    /// Also tells `observer` how every delivery went (the audit log, metrics).
    pub fn observe(mut self, observer: Arc<dyn DeliveryObserver>) -> Dispatcher {
        self.observers.0.push(observer);
        self
    }

    /// Gives every sink without a cursor its starting point, then starts one task
    /// per sink and the trimming task.
    pub async fn start(self) -> Result<Running, StoreError> {
        let head = self.feed.head().await?;
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        for sink in &self.sinks {
            if self.state.cursor(sink.name()).await?.is_none() {
                let start = match self.settings.replay_from {
                    Some(seq) => seq.saturating_sub(1).min(head),
                    None => head,
                };
                self.state.set_cursor(sink.name(), start).await?;
                tracing::info!(sink = sink.name(), from = start + 1, "new sink starts");
            }
            tasks.push(tokio::spawn(run_sink(
                self.feed.clone(),
                self.state.clone(),
                sink.clone(),
                self.settings.clone(),
                self.observers.clone(),
                stopped.clone(),
            )));
        }
        let names: Vec<String> = self.sinks.iter().map(|s| s.name().to_string()).collect();
        tasks.push(tokio::spawn(trim_loop(
            self.feed.clone(),
            self.state.clone(),
            names,
            self.settings.clone(),
            stopped,
        )));
        Ok(Running { stop, tasks })
    }
}

/// One sink's loop: read after the cursor, deliver, move the cursor.
async fn run_sink(
    feed: Arc<dyn ChangeFeed>,
    state: SinkState,
    sink: Arc<dyn Sink>,
    settings: DispatchSettings,
    observers: Observers,
    mut stop: watch::Receiver<bool>,
) {
    let name = sink.name().to_string();
    let mut wake = feed.subscribe();
    loop {
        if *stop.borrow() {
            return;
        }
        let at = (feed.as_ref(), &state, sink.as_ref(), &observers);
        match pass(at, &settings, &mut stop).await {
            Ok(Pass::More) => continue,
            Ok(Pass::Idle) => {}
            Ok(Pass::Stopped) => return,
            Err(e) => {
                tracing::warn!(sink = %name, error = %e, "reading the change feed failed; retrying")
            }
        }
        tokio::select! {
            _ = wake.changed() => {}
            _ = tokio::time::sleep(settings.poll) => {}
            _ = stop.changed() => return,
        }
    }
}

/// What one pass over the feed found.
enum Pass {
    /// A full page was handled: read again at once.
    More,
    /// Caught up with the head.
    Idle,
    /// Stopping.
    Stopped,
}

/// Where one pass reads, records and reports.
type PassCtx<'a> = (
    &'a dyn ChangeFeed,
    &'a SinkState,
    &'a dyn Sink,
    &'a Observers,
);

async fn pass(
    (feed, state, sink, observers): PassCtx<'_>,
    settings: &DispatchSettings,
    stop: &mut watch::Receiver<bool>,
) -> Result<Pass, StoreError> {
    let name = sink.name();
    let cursor = state.cursor(name).await?.unwrap_or(0);
    let page = feed.changes_after(cursor, settings.page).await?;
    let Some(last) = page.last().map(|c| c.seq) else {
        return Ok(Pass::Idle);
    };
    let full = page.len() == settings.page as usize;
    let wanted: Vec<_> = page.into_iter().filter(|c| sink.wants(c)).collect();
    let mut moved_to = cursor;
    for batch in wanted.chunks(sink.max_batch().max(1)) {
        let past = batch.last().map_or(moved_to, |c| c.seq);
        match deliver(sink, batch, &settings.retry, state, observers, stop).await? {
            Delivery::Delivered => {}
            Delivery::Parked => state.set_cursor(name, past).await?,
            Delivery::Stopped => return Ok(Pass::Stopped),
        }
        moved_to = past;
    }
    // Changes the sink did not want after its last batch are passed too.
    if moved_to != last {
        state.set_cursor(name, last).await?;
    }
    Ok(if full { Pass::More } else { Pass::Idle })
}

/// Trims changes older than the retention that every configured sink has read,
/// and alert keys older than the retention.
async fn trim_loop(
    feed: Arc<dyn ChangeFeed>,
    state: SinkState,
    sinks: Vec<String>,
    settings: DispatchSettings,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let keep = chrono::Duration::from_std(settings.keep).unwrap_or(chrono::Duration::days(7));
        let before = Utc::now() - keep;
        let result = async {
            let cursors = state.cursors().await?;
            let mut upto = feed.head().await?;
            for name in &sinks {
                let c = cursors
                    .iter()
                    .find(|(s, _)| s == name)
                    .map_or(0, |(_, c)| *c);
                upto = upto.min(c);
            }
            let n = feed.trim(upto, before).await?;
            state.trim_sent(before).await?;
            Ok::<u64, StoreError>(n)
        }
        .await;
        match result {
            Ok(n) if n > 0 => tracing::info!(trimmed = n, "old changes trimmed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "trimming the change feed failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.trim_every) => {}
            _ = stop.changed() => return,
        }
    }
}
