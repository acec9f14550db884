//! A sink that writes each change as one structured log line (JSON on Lambda,
//! readable text locally): the cheapest trail, and a way to watch the feed.

use super::{Filter, Sink, SinkError};
use crate::store::Change;
use async_trait::async_trait;

/// Logs every change it wants at INFO under the `cspm::sinks::log` target.
#[derive(Debug, Clone)]
pub struct LogSink {
    name: String,
    filter: Filter,
}

impl LogSink {
    /// A log sink named `name`.
    pub fn new(name: impl Into<String>, filter: Filter) -> LogSink {
        LogSink {
            name: name.into(),
            filter,
        }
    }
}

#[async_trait]
impl Sink for LogSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, change: &Change) -> bool {
        self.filter.accepts(change)
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        for c in changes {
            let f = &c.finding.item;
            tracing::info!(
                target: "cspm::sinks::log",
                sink = %self.name, seq = c.seq, key = %c.key, kind = %c.kind,
                severity = %f.severity, status = %f.workflow_status, title = %f.title,
                account = %f.account_id, region = %f.region, resource = %f.resource_id,
                actor = c.actor.as_deref().unwrap_or("-"), "finding changed"
            );
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        1000
    }
}
