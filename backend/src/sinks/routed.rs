//! A sink under routes: it wants a change only when a route that sends the change
//! names it (routes.rs) and its own filter takes it. Sending, batching and the
//! channel are the sink's own.

use super::routes::{sends_to, Route};
use super::{Sink, SinkError};
use crate::store::Change;
use async_trait::async_trait;
use std::sync::Arc;

/// `inner`, receiving only what `routes` send it.
pub struct Routed {
    inner: Arc<dyn Sink>,
    routes: Arc<[Route]>,
}

impl Routed {
    /// Puts `inner` under `routes`.
    pub fn new(inner: Arc<dyn Sink>, routes: Arc<[Route]>) -> Routed {
        Routed { inner, routes }
    }
}

#[async_trait]
impl Sink for Routed {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn wants(&self, change: &Change) -> bool {
        // The sink's own filter first: it is cheaper and refuses most changes.
        self.inner.wants(change) && sends_to(&self.routes, change, self.inner.name())
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        self.inner.send(changes).await
    }

    fn max_batch(&self) -> usize {
        self.inner.max_batch()
    }

    fn channel(&self) -> Option<&'static str> {
        self.inner.channel()
    }
}
