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
}
