//! The throttled sink: a routed alerting channel (Slack, e-mail) that asks
//! [`decide`] about every change before sending, and flushes due digests — before
//! each batch, and on a timer in `cspm serve` ([`Throttled::flush`] with an
//! explicit `now`, so tests drive time themselves).
//!
//! The decision is stored before the send, conditioned on the state it was made
//! on, so of several deciders for one channel (concurrent `fanout` invocations)
//! only one sends, and a digest window's count holds. A send is stored as pending
//! and confirmed after it went: a failed send is retried from the pending
//! decision (delivery stays at least once), and a crash between the send and its
//! confirmation resends the alert, which the channel's own sent-key memory
//! ([`crate::sinks::dedup::Dedup`]) then skips.

use super::decide::{decide, Decision, Facts, Subject};
use super::digest::Digest;
use super::notice::{Notice, Notify, ResolvedNote};
use super::quiet::QuietHours;
use super::state::ThrottleState;
use super::Throttle;
use crate::sinks::routes::{matching, Route};
use crate::sinks::{Sink, SinkError};
use crate::store::Change;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared_types::ChangeKind;
use std::sync::Arc;

/// Where "now" comes from (tests pass their own).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// `inner` under `routes`, throttled.
pub struct Throttled {
    inner: Arc<dyn Sink>,
    notify: Arc<dyn Notify>,
    routes: Arc<[Route]>,
    quiet: Option<QuietHours>,
    state: Arc<dyn ThrottleState>,
    public_url: Option<String>,
    clock: Clock,
    flush_on_send: bool,
    /// Held by a flush: this process's flushes (the server's timer, a batch) run
    /// one after the other, so they never send one digest twice.
    flushing: tokio::sync::Mutex<()>,
}

/// How one change is decided again when another decider changed the channel's
/// state first: a short random wait (so contenders fall out of step), at most
/// this many times before the batch is retried later.
const RACES: crate::retry::Backoff = crate::retry::Backoff {
    max_attempts: 16,
    base: std::time::Duration::from_millis(5),
    cap: std::time::Duration::from_millis(200),
};

impl Throttled {
    /// Puts the channel `inner` (posting notices through `notify`) under `routes`,
    /// its `quiet` hours and `state`; `public_url` makes digest links.
    pub fn new(
        inner: Arc<dyn Sink>,
        notify: Arc<dyn Notify>,
        routes: Arc<[Route]>,
        quiet: Option<QuietHours>,
        state: Arc<dyn ThrottleState>,
        public_url: Option<String>,
    ) -> Throttled {
        Throttled {
            inner,
            notify,
            routes,
            quiet,
            state,
            public_url,
            clock: Arc::new(Utc::now),
            flush_on_send: true,
            flushing: tokio::sync::Mutex::new(()),
        }
    }

    /// Leaves digests to [`Throttled::flush`] on a schedule instead of also
    /// flushing before each batch: where several processes send for one channel
    /// (the `fanout` Lambda), two flushing one window at once would both send it.
    pub fn flush_on_schedule_only(mut self) -> Throttled {
        self.flush_on_send = false;
        self
    }

    /// The same with another clock.
    pub fn with_clock(mut self, clock: Clock) -> Throttled {
        self.clock = clock;
        self
    }

    /// The route whose options govern `change` here: the first matching route that
    /// names this sink (a change two routes send here is sent once).
    fn route_for(&self, change: &Change) -> Option<&Route> {
        let name = self.inner.name();
        matching(&self.routes, change)
            .into_iter()
            .find(|r| r.to.iter().any(|n| n == name))
    }

    /// Decides `change` under `route`, stores the decision (conditioned on the
    /// state it was decided on: another decider that moved it first makes this one
    /// read and decide again), then sends what was decided and confirms it.
    async fn decide_and_act(&self, route: &Route, change: &Change) -> Result<(), SinkError> {
        let name = self.inner.name();
        let facts = Facts::of(change);
        for race in 0..RACES.max_attempts {
            if race > 0 {
                RACES.wait(race).await;
            }
            let now = (self.clock)();
            let view = self.state.view(name, &route.name.0, &facts).await?;
            let verdict = decide(&facts, &options(route), self.quiet.as_ref(), &view, now);
            tracing::debug!(sink = %name, route = %route.name.0, key = %facts.key,
                decision = verdict.decision.label(), "throttle");
            let subject = match verdict.decision {
                Decision::AlreadyDecided => return Ok(()),
                Decision::Resend(subject) => subject,
                decision => {
                    let stored = self
                        .state
                        .commit(name, &route.name.0, &facts, &view, &verdict, now)
                        .await?;
                    match decision {
                        _ if !stored => continue,
                        Decision::Send(subject) => subject,
                        _ => return Ok(()),
                    }
                }
            };
            match subject {
                Subject::Alert => self.inner.send(std::slice::from_ref(change)).await?,
                Subject::Resolved => {
                    let note = ResolvedNote::of(change, self.public_url.as_deref());
                    self.notify.notify(&Notice::Resolved(note)).await?
                }
            }
            return self.state.settle(name, &facts.key).await;
        }
        Err(SinkError::retryable(format!(
            "throttle state of sink {name} changed under {} decisions in a row",
            RACES.max_attempts
        )))
    }

    /// Sends the digest of every window due at `now` (none during quiet hours:
    /// they wait for the period's end) and closes them. Returns how many digests
    /// were sent.
    pub async fn flush(&self, now: DateTime<Utc>) -> Result<usize, SinkError> {
        let _one_at_a_time = self.flushing.lock().await;
        if self.quiet.as_ref().and_then(|q| q.ends(now)).is_some() {
            return Ok(0);
        }
        let name = self.inner.name();
        let mut sent = 0;
        for due in self.state.due(name, now).await? {
            let digest = Digest::of(
                name,
                &due.route,
                due.window.started_at,
                due.flushed,
                &due.held,
                self.public_url.as_deref(),
            );
            if let Some(d) = digest {
                tracing::info!(sink = %name, route = %d.route, messages = d.total(), "sending digest");
                self.notify.notify(&Notice::Digest(d)).await?;
                sent += 1;
            }
            self.state.close(name, &due).await?;
        }
        Ok(sent)
    }
}

/// A route's throttling options, as the decision reads them (here, not in
/// routes.rs: routes know nothing of throttling, so neither imports the other).
pub fn options(route: &Route) -> Throttle {
    Throttle {
        dedup: route.dedup.map(|d| d.0),
        digest: match (route.digest_after, route.digest_window) {
            (Some(after), Some(window)) => Some((after, window.0)),
            _ => None,
        },
        resolved_followup: route.resolved_followup,
    }
}

#[async_trait]
impl Sink for Throttled {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn wants(&self, change: &Change) -> bool {
        let Some(route) = self.route_for(change) else {
            return false;
        };
        if change.kind == ChangeKind::Resolved {
            // The channel's own policy never takes resolutions; a follow-up is
            // the route's to ask for.
            return route.resolved_followup && !change.quiet;
        }
        self.inner.wants(change)
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        if self.flush_on_send {
            self.flush((self.clock)()).await?;
        }
        for change in changes {
            if let Some(route) = self.route_for(change) {
                self.decide_and_act(route, change).await?;
            }
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        self.inner.max_batch()
    }

    fn channel(&self) -> Option<&'static str> {
        self.inner.channel()
    }
}
