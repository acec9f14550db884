//! Pacing: at most one message per interval to one channel (Slack allows about one
//! message a second per channel and answers bursts with 429s; SES has a per-second
//! send rate). A sink sends through its pacer; the interval is measured from the
//! end of one request (the receiver has it by then) to the start of the next, so
//! the receiver never sees two messages closer together than the interval.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// One channel's pacing.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    /// When the last request ended; the lock is held across a whole request, so
    /// requests on one channel never overlap.
    last: Mutex<Option<Instant>>,
}

impl Pacer {
    /// At most one request per `interval`; `Duration::ZERO` is no pacing.
    pub fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            last: Mutex::new(None),
        }
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Runs `request` once the interval since the previous one has passed, then
    /// waits at least `extra` more before the next (a receiver's `Retry-After`).
    pub async fn run<T, F>(&self, request: F) -> (T, Option<Duration>)
    where
        F: std::future::Future<Output = (T, Option<Duration>)>,
    {
        let mut last = self.last.lock().await;
        if let Some(at) = *last {
            tokio::time::sleep_until(at + self.interval).await;
        }
        let (out, extra) = request.await;
        let done = Instant::now();
        // A Retry-After longer than the interval pushes the next request back.
        *last = Some(match extra {
            Some(e) if e > self.interval => done + (e - self.interval),
            _ => done,
        });
        (out, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Paused time: the sleeps are exact and instantaneous, so the spacing below is
    // an ordering fact about the runtime's clock, not a timing measurement.
    #[tokio::test(start_paused = true)]
    async fn requests_start_an_interval_after_the_previous_one_ended() {
        let p = Pacer::new(Duration::from_secs(1));
        let mut starts = Vec::new();
        for i in 0..3 {
            let ((), _) = p
                .run(async {
                    starts.push(Instant::now());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    ((), (i == 1).then_some(Duration::from_secs(3)))
                })
                .await;
        }
        assert!(starts[1] - starts[0] >= Duration::from_millis(1100));
        // After a Retry-After of 3 s, the next starts no earlier than 3 s later.
        assert!(starts[2] - starts[1] >= Duration::from_millis(3100));
        let unpaced = Pacer::new(Duration::ZERO);
        let t = Instant::now();
        unpaced.run(async { ((), None) }).await;
        unpaced.run(async { ((), None) }).await;
        assert_eq!(Instant::now(), t);
    }
}
