//! Pacing: at most one message per interval to one channel (Slack allows about one
//! message a second per channel and answers bursts with 429s; SES has a per-second
//! send rate). A sink sends through its pacer; the interval is measured from the
//! end of one request (the receiver has it by then) to the start of the next, so
//! the receiver never sees two messages closer together than the interval. Where
//! several processes send to one channel, the pacer also books each request's
//! turn in a shared book ([`super::turns::Turns`]).

use super::turns::Turns;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The longest a request waits for its booked turn.
const LONGEST_TURN_WAIT: Duration = Duration::from_secs(30);

/// Moves `last` to `next` unless it is already later (requests side by side may
/// each bring a `Retry-After`: the latest wins).
fn later(last: &mut Option<Instant>, next: Instant) {
    if last.is_none_or(|at| at < next) {
        *last = Some(next);
    }
}

/// One channel's pacing.
pub struct Pacer {
    interval: Duration,
    /// When the last request ended (pushed later by a `Retry-After`). With an
    /// interval, the lock is held across a whole request, so requests on one
    /// channel never overlap; without one, only to read or move it.
    last: Mutex<Option<Instant>>,
    /// The shared book and this channel's name in it.
    shared: Option<(Arc<dyn Turns>, String)>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("interval", &self.interval)
            .field("shared", &self.shared.as_ref().map(|(_, c)| c))
            .finish()
    }
}

impl Pacer {
    /// At most one request per `interval`; `Duration::ZERO` is no pacing.
    pub fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            last: Mutex::new(None),
            shared: None,
        }
    }

    /// Also books every request's turn on `channel` in `turns`, shared with the
    /// other processes sending there. If the book cannot be reached, a request
    /// goes paced by this process alone (the receiver's 429 still holds it back).
    pub fn shared(mut self, turns: Arc<dyn Turns>, channel: impl Into<String>) -> Pacer {
        self.shared = Some((turns, channel.into()));
        self
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Runs `request` once the interval since the previous one has passed, then
    /// waits at least `extra` more before the next (a receiver's `Retry-After`).
    /// Without pacing, requests run side by side: only a `Retry-After` holds the
    /// next ones back.
    pub async fn run<T, F>(&self, request: F) -> (T, Option<Duration>)
    where
        F: std::future::Future<Output = (T, Option<Duration>)>,
    {
        if self.interval.is_zero() {
            return self.run_unpaced(request).await;
        }
        let mut last = self.last.lock().await;
        if let Some(at) = *last {
            tokio::time::sleep_until(at + self.interval).await;
        }
        self.wait_turn().await;
        let (out, extra) = request.await;
        *last = Some(self.next_after(Instant::now(), extra).await);
        (out, extra)
    }

    /// No interval: requests run side by side, the lock held only to read or move
    /// the time before which nothing may start. While a `Retry-After` is in force,
    /// the first request to come waits it out holding the lock and goes alone, the
    /// others queue behind it: a receiver that just refused does not get them all
    /// back at one instant, and one still refused pushes the rest back again.
    async fn run_unpaced<T, F>(&self, request: F) -> (T, Option<Duration>)
    where
        F: std::future::Future<Output = (T, Option<Duration>)>,
    {
        let mut last = self.last.lock().await;
        let held_until = last.filter(|at| *at > Instant::now());
        if held_until.is_none() {
            drop(last);
            let (out, extra) = request.await;
            if extra.is_some() {
                let next = self.next_after(Instant::now(), extra).await;
                later(&mut *self.last.lock().await, next);
            }
            return (out, extra);
        }
        if let Some(at) = held_until {
            tokio::time::sleep_until(at).await;
        }
        let (out, extra) = request.await;
        let next = self.next_after(Instant::now(), extra).await;
        later(&mut last, next);
        (out, extra)
    }

    /// When the interval before the next request starts counting, for a request
    /// that ended at `done`: a Retry-After longer than the interval pushes it back
    /// (and is shared with the other processes).
    async fn next_after(&self, done: Instant, extra: Option<Duration>) -> Instant {
        match extra {
            Some(e) if e > self.interval => {
                self.hold_all(e).await;
                done + (e - self.interval)
            }
            _ => done,
        }
    }

    /// Books this request's turn in the shared book and waits for it.
    async fn wait_turn(&self) {
        let Some((turns, channel)) = &self.shared else {
            return;
        };
        let now = chrono::Utc::now();
        match turns.book(channel, self.interval, now).await {
            Ok(start) => {
                if let Ok(wait) = (start - chrono::Utc::now()).to_std() {
                    if wait > LONGEST_TURN_WAIT {
                        // A long queue or a long Retry-After: waiting it all out
                        // could outlast the process (a Lambda's timeout); go after
                        // the longest wait, and the receiver's 429 holds it back.
                        tracing::warn!(channel = %channel, wait_s = wait.as_secs(),
                            "booked turn is far off; sending after {}s", LONGEST_TURN_WAIT.as_secs());
                    }
                    tokio::time::sleep(wait.min(LONGEST_TURN_WAIT)).await;
                }
            }
            Err(e) => tracing::warn!(channel = %channel, error = %e,
                "shared pacing unavailable; pacing this process only"),
        }
    }

    /// Tells the other processes to wait `extra` too.
    async fn hold_all(&self, extra: Duration) {
        let Some((turns, channel)) = &self.shared else {
            return;
        };
        let until = chrono::Utc::now() + chrono::Duration::from_std(extra).unwrap_or_default();
        if let Err(e) = turns.hold(channel, until).await {
            tracing::warn!(channel = %channel, error = %e, "could not share a Retry-After");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time with short intervals: a sleep never ends early, so "at least the
    // interval apart" is a lower bound that always holds, not a timing measurement.
    #[tokio::test]
    async fn requests_start_an_interval_after_the_previous_one_ended() {
        let interval = Duration::from_millis(40);
        let p = Pacer::new(interval);
        let mut starts = Vec::new();
        for i in 0..3 {
            let ((), _) = p
                .run(async {
                    starts.push(Instant::now());
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    ((), (i == 1).then_some(Duration::from_millis(120)))
                })
                .await;
        }
        assert!(starts[1] - starts[0] >= Duration::from_millis(50));
        // After a Retry-After of 120 ms, the next starts no earlier than 130 ms later.
        assert!(starts[2] - starts[1] >= Duration::from_millis(130));
        assert_eq!(Pacer::new(Duration::ZERO).interval(), Duration::ZERO);
    }

    #[tokio::test]
    async fn without_pacing_requests_overlap_but_a_retry_after_holds_the_next() {
        let p = Pacer::new(Duration::ZERO);
        let in_flight = std::sync::atomic::AtomicUsize::new(0);
        let most = std::sync::atomic::AtomicUsize::new(0);
        let one = || async {
            p.run(async {
                let now = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                ((), None)
            })
            .await
        };
        futures::future::join_all((0..4).map(|_| one())).await;
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 4);

        let ended = p
            .run(async { (Instant::now(), Some(Duration::from_millis(100))) })
            .await
            .0;
        // Three at once while the hold is in force: the first goes alone once it
        // ends, the others only after that one is answered.
        let starts = std::sync::Mutex::new(Vec::new());
        let probe = || async {
            p.run(async {
                starts.lock().unwrap().push(Instant::now());
                tokio::time::sleep(Duration::from_millis(30)).await;
                ((), None)
            })
            .await
        };
        futures::future::join_all((0..3).map(|_| probe())).await;
        let mut starts = starts.into_inner().unwrap();
        starts.sort();
        assert!(starts[0] - ended >= Duration::from_millis(100));
        assert!(starts[1] - starts[0] >= Duration::from_millis(30));
    }
}
