//! The one retry policy: bounded attempts with exponential backoff and full jitter,
//! and [`retry`], which re-runs an operation while its error is worth another try.
//!
//! Full jitter (sleep a random time up to the exponential bound) rather than the
//! bound itself: many writers throttled at the same moment would otherwise all
//! come back at the same moment and be throttled again.
//!
//! Depends on nothing else in the crate, so any layer can use it.

use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// How often and how patiently a failing operation is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all, the first try included (1 = no retry).
    pub max_attempts: u32,
    /// Bound of the sleep before the first retry; doubled for each retry after.
    pub base: Duration,
    /// Largest bound.
    pub cap: Duration,
}

impl Default for Backoff {
    /// Eight attempts, sleeping up to 25 ms, 50 ms, … at most 2 s between them.
    fn default() -> Self {
        Backoff {
            max_attempts: 8,
            base: Duration::from_millis(25),
            cap: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The longest sleep before retry number `retry` (1 = the first retry).
    pub fn bound(&self, retry: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
            .min(self.cap)
    }

    /// A random sleep before retry number `retry`, between zero and [`Self::bound`].
    pub fn delay(&self, retry: u32) -> Duration {
        let bound = self.bound(retry).as_micros() as u64;
        Duration::from_micros(rand::rng().random_range(0..=bound))
    }

    /// Sleeps before retry number `retry`.
    pub async fn wait(&self, retry: u32) {
        tokio::time::sleep(self.delay(retry)).await;
    }
}

/// Runs `op` until it succeeds, fails with an error `is_retryable` says no to, or
/// has failed `backoff.max_attempts` times; sleeps [`Backoff::delay`] between tries.
/// The error returned is the last one.
///
/// An operation that carries state from one try to the next (what is still left
/// to do) keeps it outside the closure, behind a reference.
pub async fn retry<T, E, F, Fut>(
    backoff: &Backoff,
    is_retryable: impl Fn(&E) -> bool,
    mut op: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < backoff.max_attempts && is_retryable(&e) => {
                backoff.wait(attempt).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug, PartialEq)]
    enum E {
        Busy,
        Broken,
    }

    fn quick(max_attempts: u32) -> Backoff {
        Backoff {
            max_attempts,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn retryable_errors_are_retried_up_to_the_limit() {
        let calls = AtomicU32::new(0);
        let r: Result<(), E> = retry(
            &quick(4),
            |e| *e == E::Busy,
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(E::Busy)
            },
        )
        .await;
        assert_eq!(r, Err(E::Busy));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_retryable_error_that_clears_ends_in_success() {
        let calls = AtomicU32::new(0);
        let r = retry(
            &quick(4),
            |e| *e == E::Busy,
            || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(E::Busy),
                    n => Ok(n),
                }
            },
        )
        .await;
        assert_eq!(r, Ok(2));
    }

    #[tokio::test]
    async fn a_permanent_error_is_returned_at_once() {
        let calls = AtomicU32::new(0);
        let r: Result<(), E> = retry(
            &quick(4),
            |e| *e == E::Busy,
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(E::Broken)
            },
        )
        .await;
        assert_eq!(r, Err(E::Broken));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn bounds_double_from_the_base_up_to_the_cap() {
        let b = Backoff {
            max_attempts: 10,
            base: Duration::from_millis(25),
            cap: Duration::from_millis(150),
        };
        let bounds: Vec<u128> = (1..=5).map(|n| b.bound(n).as_millis()).collect();
        assert_eq!(bounds, [25, 50, 100, 150, 150]);
        assert_eq!(b.bound(u32::MAX), b.cap);
        for n in 1..=5 {
            assert!(b.delay(n) <= b.bound(n));
        }
    }
}
