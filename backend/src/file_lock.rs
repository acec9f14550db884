//! One writer per folder across processes: an exclusive OS lock on a file in it,
//! released when the returned handle is dropped or the process dies (so a crash never
//! leaves a stale lock behind).

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long [`lock_exclusive`] waits for a lock that is held. A lock the holder has
/// just released can still look held for an instant: the OS lock belongs to the open
/// file, and a child process that any thread is spawning shares the file from its fork
/// until its `exec` closes it. Waiting briefly also lets a run that is just finishing
/// end, instead of refusing the next one.
pub const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Between two tries while the lock is held.
const POLL: Duration = Duration::from_millis(20);

/// Opens (creating it) the file at `path` and takes an exclusive lock on it, trying
/// again for up to `wait` while another holder has it. `Ok(None)` when it is still
/// held after that; the lock lasts as long as the returned file. Blocks the thread:
/// call it from a blocking context.
pub fn lock_exclusive(path: &Path, wait: Duration) -> io::Result<Option<File>> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => std::thread::sleep(POLL),
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_after_the_wait_and_gets_it_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".lock");
        let first = lock_exclusive(&path, Duration::ZERO)
            .unwrap()
            .expect("free");
        assert!(lock_exclusive(&path, Duration::from_millis(60))
            .unwrap()
            .is_none());
        drop(first);
        assert!(lock_exclusive(&path, Duration::ZERO).unwrap().is_some());
    }

    #[test]
    fn a_lock_released_while_waiting_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".lock");
        let first = lock_exclusive(&path, Duration::ZERO)
            .unwrap()
            .expect("free");
        // Released by another thread while the second caller waits (as a spawned
        // child's copy of the file is closed by its exec).
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(first);
        });
        let second = lock_exclusive(&path, LOCK_WAIT).unwrap();
        releaser.join().unwrap();
        assert!(second.is_some(), "a lock released within the wait is taken");
    }
}
