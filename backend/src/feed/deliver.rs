//! Delivering one batch to one sink: a retryable failure backs off and tries again
//! (never moving the sink's cursor meanwhile, never holding up other sinks, which
//! run on their own tasks); a permanent failure, or one that keeps failing past the
//! policy's limit, parks the batch where an operator sees it (`cspm sinks status`)
//! and can redeliver it (`cspm sinks retry`).

use super::observe::{DeliveryObserver, DeliveryReport, Outcome};
use super::state::SinkState;
use crate::retry::Backoff;
use crate::sinks::{Sink, SinkError};
use crate::store::{Change, StoreError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How patiently a failing sink is retried before its batch is parked: the crate's
/// one backoff (bounded tries, exponential with full jitter) plus an age limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries (`max_attempts`) and waits between them.
    pub backoff: Backoff,
    /// Time since the first failure before parking.
    pub max_age: Duration,
}

impl Default for RetryPolicy {
    /// 10 tries or 1 hour, waits up to 1 s doubling to at most 5 min.
    fn default() -> Self {
        RetryPolicy {
            backoff: Backoff {
                max_attempts: 10,
                base: Duration::from_secs(1),
                cap: Duration::from_secs(300),
            },
            max_age: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try number `tries` (1-based): the backoff's, or longer
    /// when the receiver asked for longer (`Retry-After`).
    pub fn wait(&self, tries: u32, asked: Option<Duration>) -> Duration {
        let d = self.backoff.delay(tries);
        asked.map_or(d, |a| a.max(d))
    }
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The sink took the batch.
    Delivered,
    /// The batch was parked; the cursor may move past it.
    Parked,
    /// The dispatcher is stopping: the cursor must stay before the batch.
    Stopped,
}

/// An observer's failure, as the dispatcher's error (the cursor stays put).
fn observer_error(e: SinkError) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Delivers `batch` to `sink` under `policy`, recording health and parking in
/// `state` and telling `observer` how each try went. A delivered batch moves the
/// sink's cursor past it in the same commit as its health; after a parked one the
/// caller moves the cursor.
pub async fn deliver(
    sink: &dyn Sink,
    batch: &[Change],
    policy: &RetryPolicy,
    state: &SinkState,
    observer: &dyn DeliveryObserver,
    stop: &mut watch::Receiver<bool>,
) -> Result<Delivery, StoreError> {
    let name = sink.name();
    let mut tries = 0u32;
    let mut first_failure: Option<Instant> = None;
    loop {
        if *stop.borrow() {
            return Ok(Delivery::Stopped);
        }
        let (reason, asked, permanent) = match sink.send(batch).await {
            Ok(()) => {
                // Observed before the cursor moves: an observer that fails (the
                // audit log) gets the batch again rather than missing it.
                observer
                    .observe(&DeliveryReport::of(sink, batch, Outcome::Delivered))
                    .await
                    .map_err(observer_error)?;
                let past = batch.last().map(|c| c.seq);
                state.record_success(name, batch.len(), past).await?;
                return Ok(Delivery::Delivered);
            }
            Err(SinkError::Permanent { reason }) => (reason, None, true),
            Err(SinkError::Retryable {
                reason,
                retry_after,
            }) => (reason, retry_after, false),
        };
        tries += 1;
        let since = *first_failure.get_or_insert_with(Instant::now);
        state.record_failure(name, tries, &reason).await?;
        let failed = Outcome::Failed {
            error: &reason,
            retryable: !permanent,
        };
        observer
            .observe(&DeliveryReport::of(sink, batch, failed))
            .await
            .map_err(observer_error)?;
        if permanent || tries >= policy.backoff.max_attempts || since.elapsed() >= policy.max_age {
            tracing::error!(sink = name, tries, error = %reason, changes = batch.len(),
                "parking a batch the sink does not take (cspm sinks status / retry)");
            state.park(name, batch, tries, &reason).await?;
            let parked = Outcome::Parked {
                tries,
                error: &reason,
            };
            observer
                .observe(&DeliveryReport::of(sink, batch, parked))
                .await
                .map_err(observer_error)?;
            return Ok(Delivery::Parked);
        }
        let wait = policy.wait(tries, asked);
        tracing::warn!(sink = name, tries, error = %reason, wait_ms = wait.as_millis() as u64,
            "sink failed; retrying the same batch");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return Ok(Delivery::Stopped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_stay_under_the_doubling_bound_and_honour_retry_after() {
        let p = RetryPolicy::default();
        for (tries, bound) in [(1, 1), (3, 4), (30, 300)] {
            for _ in 0..50 {
                assert!(p.wait(tries, None) <= Duration::from_secs(bound));
            }
        }
        assert_eq!(
            p.wait(1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert!(p.wait(5, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
    }
}
