//! Bulk writes with two upsert batches in flight: while the store writes one batch,
//! the next is already being prepared (a store turns findings into rows or items on
//! the caller's side), so preparing and writing overlap on two cores instead of
//! taking turns. Newer-wins upserts reach the same state in any order, so batches
//! need not land in the order they were queued.

use crate::store::{Origin, Store, StoreResult, UpsertReport};
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, StreamExt};
use shared_types::Finding;

/// Batches in flight at most.
const DEPTH: usize = 2;

/// Queues upsert batches on a store, at most [`DEPTH`] at a time.
pub struct UpsertPipeline<'a> {
    store: &'a dyn Store,
    origin: Origin,
    meter: Option<&'a super::meter::Meter>,
    in_flight: FuturesOrdered<BoxFuture<'a, StoreResult<(usize, UpsertReport)>>>,
}

impl<'a> UpsertPipeline<'a> {
    /// An empty pipeline on `store`, writing findings from `origin` (and counting
    /// what it stored with `meter`).
    pub fn new(
        store: &'a dyn Store,
        origin: Origin,
        meter: Option<&'a super::meter::Meter>,
    ) -> Self {
        UpsertPipeline {
            store,
            origin,
            meter,
            in_flight: FuturesOrdered::new(),
        }
    }

    /// Queues `batch`. When the pipeline is full, waits for the oldest batch and
    /// returns its size and report (the new batch starts meanwhile).
    pub async fn push(
        &mut self,
        batch: Vec<Finding>,
    ) -> StoreResult<Option<(usize, UpsertReport)>> {
        let (store, origin, meter) = (self.store, self.origin, self.meter);
        self.in_flight.push_back(Box::pin(async move {
            let report = store.upsert_from(&batch, origin).await?;
            if let Some(m) = meter {
                m.count(&batch, &report);
            }
            Ok((batch.len(), report))
        }));
        if self.in_flight.len() < DEPTH {
            return Ok(None);
        }
        self.in_flight.next().await.transpose()
    }

    /// Waits for every queued batch; returns their sizes and reports, oldest first.
    pub async fn finish(mut self) -> StoreResult<Vec<(usize, UpsertReport)>> {
        let mut done = Vec::with_capacity(self.in_flight.len());
        while let Some(r) = self.in_flight.next().await {
            done.push(r?);
        }
        Ok(done)
    }
}
