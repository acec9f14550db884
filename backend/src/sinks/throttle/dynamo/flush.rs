//! Digest windows on schedule: the due ones found through the sparse index
//! `due` and read again consistently, and a window closed after its digest went
//! (deleted when nothing changed in it, otherwise only what the digest told
//! taken out).

use super::items::*;
use super::{DynamoThrottle, DUE_INDEX};
use crate::sinks::dedup::{condition_failed, done_unless_failed, dynamo_error};
use crate::sinks::throttle::state::DueWindow;
use crate::sinks::SinkError;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

impl DynamoThrottle {
    /// [`ThrottleState::due`](crate::sinks::throttle::state::ThrottleState::due): the windows of `sink` due at `now`, oldest first.
    pub(super) async fn due_windows(
        &self,
        sink: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<DueWindow>, SinkError> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(DUE_INDEX)
                .key_condition_expression("due_sink = :sink AND flush_at <= :now")
                .expression_attribute_values(":sink", s(sink))
                .expression_attribute_values(":now", n(us(now)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| dynamo_error("Query", &self.table, e))?;
            keys.extend(
                out.items()
                    .iter()
                    .filter_map(|i| text(i, "pk").map(str::to_string)),
            );
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        // The index is eventually consistent: what it lists is read again, so a
        // window closed a moment ago is not flushed twice.
        let mut out = Vec::new();
        for chunk in keys.chunks(100) {
            for item in self.read(chunk).await?.into_values() {
                let (Some(window), Some(route)) = (window_of(&item), text(&item, "route")) else {
                    continue;
                };
                if window.flush_at <= now {
                    out.push(DueWindow {
                        route: route.to_string(),
                        window,
                        held: held_of(&item),
                        flushed: num(&item, "flushed").unwrap_or(0),
                    });
                }
            }
        }
        out.sort_by_key(|d| d.window.flush_at);
        Ok(out)
    }

    /// [`ThrottleState::close`](crate::sinks::throttle::state::ThrottleState::close): the window after its digest went.
    pub(super) async fn close_window(&self, sink: &str, due: &DueWindow) -> Result<(), SinkError> {
        let pk = key("window", &[sink, &due.route]);
        let w = &due.window;
        let r = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk.clone()))
            .condition_expression("started_at = :s AND held = :h AND sent = :n AND flushed = :f")
            .expression_attribute_values(":s", n(us(w.started_at)))
            .expression_attribute_values(":h", n(w.held))
            .expression_attribute_values(":n", n(w.sent))
            .expression_attribute_values(":f", n(due.flushed))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => self.take_flushed(&pk, due).await,
            Err(e) => Err(dynamo_error("DeleteItem", &self.table, e)),
        }
    }

    /// A window in which more happened while its digest went (or that is gone, or
    /// that another flush closed): takes out only what the digest told and counts
    /// the digest, so the rest goes in the next one under its own key. Each group
    /// told starts its "since" afresh at this flush.
    async fn take_flushed(&self, pk: &str, due: &DueWindow) -> Result<(), SinkError> {
        let mut groups: HashMap<String, u32> = HashMap::new();
        for h in &due.held {
            let g = serde_json::to_string(&[h.subject.as_str(), h.severity.as_str(), &h.account])
                .unwrap_or_default();
            *groups.entry(format!("g#{g}")).or_default() += 1;
        }
        let mut names = HashMap::from([
            ("#held".to_string(), "held".to_string()),
            ("#start".to_string(), "started_at".to_string()),
            ("#flushed".to_string(), "flushed".to_string()),
        ]);
        let mut values = HashMap::from([
            (":h".to_string(), n(-i64::from(due.window.held))),
            (":s".to_string(), n(us(due.window.started_at))),
            (":f".to_string(), n(due.flushed)),
            (":one".to_string(), n(1)),
            (":now".to_string(), n(us(Utc::now()))),
        ]);
        let mut add = vec!["#held :h".to_string(), "#flushed :one".to_string()];
        let mut set = Vec::new();
        for (i, (name, count)) in groups.into_iter().enumerate() {
            let first = format!("f#{}", name.trim_start_matches("g#"));
            names.insert(format!("#g{i}"), name);
            names.insert(format!("#f{i}"), first);
            values.insert(format!(":g{i}"), n(-i64::from(count)));
            add.push(format!("#g{i} :g{i}"));
            set.push(format!("#f{i} = :now"));
        }
        let set = if set.is_empty() {
            String::new()
        } else {
            format!(" SET {}", set.join(", "))
        };
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .update_expression(format!("ADD {}{set}", add.join(", ")))
            .condition_expression("#start = :s AND #flushed = :f")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        // Gone, a newer window, or another flush took it: nothing left to do.
        done_unless_failed("UpdateItem", &self.table, r)
    }
}
