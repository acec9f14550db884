//! WAL checkpoints on their own thread. Copying WAL frames back into the database
//! file is a fifth of the writer's time when it happens on commit; here it runs
//! beside the writer (PASSIVE: it never blocks the writer or readers), a few times
//! a second while writes come in. The writer's own auto-checkpoint stays on as the
//! bound on the WAL's size: by the time it fires, most frames are already copied,
//! so it only finishes the job and lets the WAL start over.

use super::connect::connect;
use super::StoreResult;
use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::time::Duration;

/// Least time between two background checkpoints.
const PAUSE: Duration = Duration::from_millis(1000);

/// Handle to the checkpoint thread; the thread ends when this is dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread with its own connection to the database at `path`.
    pub(super) fn start(path: &Path) -> StoreResult<Checkpointer> {
        let conn = connect(path)?;
        let (wake, woken) = sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    let r = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "background WAL checkpoint failed");
                    }
                    std::thread::sleep(PAUSE);
                }
            })
            .map_err(|e| crate::store::StoreError::Backend(Box::new(e)))?;
        Ok(Checkpointer { wake })
    }

    /// Tells the thread that the WAL grew. Never blocks: one pending wake-up is enough.
    pub(super) fn nudge(&self) {
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => {
                tracing::warn!("WAL checkpoint thread is gone; the writer checkpoints alone")
            }
        }
    }
}
