//! The throttle state in the fan-out state table (the `fanout` Lambda), where
//! several invocations decide for one channel at once. Every item is keyed by
//! `pk`; the parts after the kind are a JSON array, so no sink, route, rule or
//! resource name can make two keys collide:
//!
//! | item | `pk` | attributes |
//! |---|---|---|
//! | decided change | `thr#decided#["sink","key"]` | `decision` (`pending:alert` until confirmed), `expires_at` (8 days) |
//! | last alerted | `thr#alerted#["sink","finding"]` | `severity` |
//! | dedup window | `thr#dedup#["sink","route","rule","resource"]` | `since`, `n`, `expires_at` |
//! | digest window | `thr#window#["sink","route"]` | `route`, `due_sink`, `started_at`, `flush_at`, `sent`, `held`, and per held group (subject, severity, account) `g#[…]` (count) and `f#[…]` (first held) |
//!
//! A commit is one `TransactWriteItems`, each write conditioned on the value the
//! decision read; a cancelled transaction means another invocation moved the state
//! first, and the caller decides again. Held messages are counted per digest line
//! on the window item (a digest says "37 more HIGH findings in 111122223333 since
//! 10:02"), so a window is one item however many it holds. Due windows are found
//! through the sparse index `due` (`due_sink`, `flush_at`) and read again
//! consistently before their digest goes. Times are microseconds since the epoch.

use super::decide::{DedupEntry, Facts, Subject, Verdict, View, Window};
use super::state::{DueWindow, ThrottleState};
use crate::sinks::dedup::{done_unless_failed, dynamo_error};
use crate::sinks::SinkError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use items::*;
use std::collections::HashMap;

/// The index of windows by sink and due time (Terraform: modules/data/dynamodb.tf).
pub const DUE_INDEX: &str = "due";
/// How long a decided change key is remembered: longer than the stream keeps a
/// record that could be redelivered (24 hours) and than a parked batch waits.
const DECIDED_FOR: chrono::Duration = chrono::Duration::days(8);
/// How long a dedup window's item is kept after it opened, so the table trims
/// stale ones itself (a route's `dedup` longer than this is cut to it).
const DEDUP_KEPT: chrono::Duration = chrono::Duration::days(400);
/// Rounds of re-asking for the keys a `BatchGetItem` left unprocessed.
const BATCH_ROUNDS: usize = 5;

/// Throttle state in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoThrottle {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoThrottle {
    /// Throttle state in `table` (its `pk` hash key, `expires_at` TTL and `due`
    /// index as Terraform makes them).
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoThrottle {
        DynamoThrottle {
            client,
            table: table.into(),
        }
    }

    fn build_error(&self, e: aws_sdk_dynamodb::error::BuildError) -> SinkError {
        SinkError::permanent(format!("throttle state request: {e}"))
    }

    /// Reads `keys` consistently in one `BatchGetItem` (again for what it left).
    async fn read(&self, keys: &[String]) -> Result<HashMap<String, Item>, SinkError> {
        let mut wanted = keys
            .iter()
            .map(|k| HashMap::from([("pk".to_string(), s(k.clone()))]))
            .collect::<Vec<_>>();
        let mut found = HashMap::new();
        for _ in 0..BATCH_ROUNDS {
            if wanted.is_empty() {
                return Ok(found);
            }
            let ask = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut wanted)))
                .consistent_read(true)
                .build()
                .map_err(|e| self.build_error(e))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, ask)
                .send()
                .await
                .map_err(|e| dynamo_error("BatchGetItem", &self.table, e))?;
            for item in out
                .responses
                .unwrap_or_default()
                .remove(&self.table)
                .unwrap_or_default()
            {
                if let Some(pk) = text(&item, "pk") {
                    found.insert(pk.to_string(), item);
                }
            }
            if let Some(left) = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                wanted = left.keys;
            }
        }
        if wanted.is_empty() {
            Ok(found)
        } else {
            Err(SinkError::retryable(format!(
                "DynamoDB BatchGetItem on table {}: keys still unprocessed after {BATCH_ROUNDS} rounds",
                self.table
            )))
        }
    }

    fn put(&self, item: Item, cond: Cond) -> Result<TransactWriteItem, SinkError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(cond.text())
            .set_expression_attribute_names((!cond.names.is_empty()).then_some(cond.names))
            .set_expression_attribute_values((!cond.values.is_empty()).then_some(cond.values))
            .build()
            .map_err(|e| self.build_error(e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The window item's update: its fields as `w`, and for a hold one more
    /// message in the group of `held`; conditioned on the window being as `read`.
    fn window_update(
        &self,
        pk: &str,
        sink: &str,
        route: &str,
        w: &Window,
        held: Option<(Subject, &Facts, DateTime<Utc>)>,
        read: Option<&Window>,
    ) -> Result<TransactWriteItem, SinkError> {
        let cond = window_cond(read);
        let opens = read.map(|r| r.started_at) != Some(w.started_at);
        let mut names = cond.names;
        let mut values = cond.values;
        let mut fields: Vec<(&str, AttributeValue)> = vec![
            ("route", s(route)),
            ("due_sink", s(sink)),
            ("started_at", n(us(w.started_at))),
            ("flush_at", n(us(w.flush_at))),
            ("sent", n(w.sent)),
            ("held", n(w.held)),
        ];
        if opens {
            // A new window has had no digest yet (an open one keeps its count).
            fields.push(("flushed", n(0)));
        }
        let mut set = Vec::new();
        for (i, (name, value)) in fields.into_iter().enumerate() {
            names.insert(format!("#w{i}"), name.into());
            values.insert(format!(":w{i}"), value);
            set.push(format!("#w{i} = :w{i}"));
        }
        let mut expr = String::new();
        if let Some((subject, f, now)) = held {
            let (count, first) = group_names(subject, f);
            names.insert("#gc".into(), count);
            names.insert("#gf".into(), first);
            values.insert(":one".into(), n(1));
            values.insert(":now".into(), n(us(now)));
            set.push("#gf = if_not_exists(#gf, :now)".into());
            expr = " ADD #gc :one".into();
        }
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(pk))
            .update_expression(format!("SET {}{expr}", set.join(", ")))
            .condition_expression(cond.expr.join(" AND "))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| self.build_error(e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[async_trait]
impl ThrottleState for DynamoThrottle {
    async fn view(&self, sink: &str, route: &str, f: &Facts) -> Result<View, SinkError> {
        let keys = [
            key("decided", &[sink, &f.key]),
            key("alerted", &[sink, &f.finding]),
            key("dedup", &[sink, route, &f.rule, &f.resource]),
            key("window", &[sink, route]),
        ];
        let found = self.read(&keys).await?;
        let decided = found.get(&keys[0]);
        let decision = decided.and_then(|i| text(i, "decision"));
        Ok(View {
            decided: decided.is_some(),
            pending: decision
                .and_then(|d| d.strip_prefix("pending:"))
                .and_then(Subject::parse),
            last_alerted: found
                .get(&keys[1])
                .and_then(|i| text(i, "severity"))
                .and_then(|s| s.parse().ok()),
            dedup: found.get(&keys[2]).and_then(|i| {
                Some(DedupEntry {
                    since: time(i, "since")?,
                    count: num(i, "n")?,
                })
            }),
            window: found.get(&keys[3]).and_then(window_of),
        })
    }

    async fn commit(
        &self,
        sink: &str,
        route: &str,
        f: &Facts,
        read: &View,
        verdict: &Verdict,
        now: DateTime<Utc>,
    ) -> Result<bool, SinkError> {
        let next = &verdict.next;
        let mut writes = Vec::new();
        if next.decided && !read.decided {
            let decision = match next.pending {
                Some(subject) => format!("pending:{}", subject.as_str()),
                None => verdict.decision.label().to_string(),
            };
            let item = HashMap::from([
                ("pk".to_string(), s(key("decided", &[sink, &f.key]))),
                ("decision".to_string(), s(decision)),
                ("expires_at".to_string(), n((now + DECIDED_FOR).timestamp())),
            ]);
            // Whoever stores the key first owns the change.
            writes.push(self.put(item, Cond::new().absent())?);
        }
        if next.last_alerted != read.last_alerted {
            let pk = key("alerted", &[sink, &f.finding]);
            let cond = match read.last_alerted {
                None => Cond::new().absent(),
                Some(r) => Cond::new().is("severity", s(r.as_str())),
            };
            match next.last_alerted {
                Some(sev) => {
                    let item = HashMap::from([
                        ("pk".to_string(), s(pk)),
                        ("severity".to_string(), s(sev.as_str())),
                    ]);
                    writes.push(self.put(item, cond)?);
                }
                None => {
                    let delete = Delete::builder()
                        .table_name(&self.table)
                        .key("pk", s(pk))
                        .condition_expression(cond.text())
                        .set_expression_attribute_names(Some(cond.names))
                        .set_expression_attribute_values(Some(cond.values))
                        .build()
                        .map_err(|e| self.build_error(e))?;
                    writes.push(TransactWriteItem::builder().delete(delete).build());
                }
            }
        }
        if let Some(d) = next.dedup.filter(|d| read.dedup != Some(*d)) {
            let cond = match read.dedup {
                None => Cond::new().absent(),
                Some(e) => Cond::new().is("since", n(us(e.since))).is("n", n(e.count)),
            };
            let item = HashMap::from([
                (
                    "pk".to_string(),
                    s(key("dedup", &[sink, route, &f.rule, &f.resource])),
                ),
                ("since".to_string(), n(us(d.since))),
                ("n".to_string(), n(d.count)),
                (
                    "expires_at".to_string(),
                    n((d.since + DEDUP_KEPT).timestamp()),
                ),
            ]);
            writes.push(self.put(item, cond)?);
        }
        let held = match verdict.decision {
            super::decide::Decision::Hold(subject) => Some((subject, f, now)),
            _ => None,
        };
        if let Some(w) = next
            .window
            .filter(|w| held.is_some() || read.window != Some(*w))
        {
            let pk = key("window", &[sink, route]);
            writes.push(self.window_update(&pk, sink, route, &w, held, read.window.as_ref())?);
        }
        if writes.is_empty() {
            return Ok(true);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if state_moved(&e) => Ok(false),
            Err(e) => Err(dynamo_error("TransactWriteItems", &self.table, e)),
        }
    }

    async fn settle(&self, sink: &str, key_: &str) -> Result<(), SinkError> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key("decided", &[sink, key_])))
            .update_expression("SET decision = :send")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":send", s("send"))
            .send()
            .await;
        // Expired meanwhile: nothing is pending any more.
        done_unless_failed("UpdateItem", &self.table, r)
    }

    async fn due(&self, sink: &str, now: DateTime<Utc>) -> Result<Vec<DueWindow>, SinkError> {
        self.due_windows(sink, now).await
    }

    async fn close(&self, sink: &str, due: &DueWindow) -> Result<(), SinkError> {
        self.close_window(sink, due).await
    }
}

/// Finding due digest windows and closing them after their digest.
mod flush;
/// The item layout.
mod items;
#[cfg(test)]
mod tests;
