//! A sink that keeps what it receives, and can be told to fail: the dispatcher's
//! tests use it, and any test of a sink-driven behaviour.

use super::{Filter, Sink, SinkError};
use crate::store::Change;
use async_trait::async_trait;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Keeps every batch it accepted; fails with the scripted errors first.
#[derive(Debug, Default)]
pub struct RecordingSink {
    name: String,
    filter: Filter,
    received: Mutex<Vec<Change>>,
    failures: Mutex<VecDeque<SinkError>>,
    attempts: Mutex<usize>,
}

impl RecordingSink {
    /// A recording sink named `name` (also taking quiet changes when `filter` says so).
    pub fn new(name: impl Into<String>, filter: Filter) -> RecordingSink {
        RecordingSink {
            name: name.into(),
            filter,
            ..Default::default()
        }
    }

    /// The next `send`s fail with these errors, in order, before any succeeds.
    pub fn fail_with(&self, errors: impl IntoIterator<Item = SinkError>) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(errors);
    }

    /// Every change delivered so far, in delivery order.
    pub fn received(&self) -> Vec<Change> {
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Calls of `send`, failed ones included.
    pub fn attempts(&self) -> usize {
        *self.attempts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Sink for RecordingSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, change: &Change) -> bool {
        self.filter.accepts(change)
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        *self.attempts.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        if let Some(e) = self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
        {
            return Err(e);
        }
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(changes);
        Ok(())
    }
}
