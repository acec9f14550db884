//! How the throttle state is laid out in items of the fan-out state table (the
//! table in [`super`]'s docs): item keys, attribute values and their reading
//! back, the digest-line counters of a window, and the conditions a commit puts
//! on the values it read.

use super::super::decide::{Facts, Subject, Window};
use super::super::state::Held;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

pub(super) use crate::aws::item::{n, num, s, text, Item};

/// The key of the item of `kind` for `parts`.
pub(super) fn key(kind: &str, parts: &[&str]) -> String {
    format!(
        "thr#{kind}#{}",
        serde_json::to_string(parts).unwrap_or_default()
    )
}

pub(super) fn us(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(super) fn time(item: &Item, name: &str) -> Option<DateTime<Utc>> {
    num::<i64>(item, name).and_then(DateTime::from_timestamp_micros)
}

pub(super) fn window_of(item: &Item) -> Option<Window> {
    Some(Window {
        started_at: time(item, "started_at")?,
        flush_at: time(item, "flush_at")?,
        sent: num(item, "sent")?,
        held: num(item, "held")?,
    })
}

/// The attribute names of one digest line's count and first time on the window.
pub(super) fn group_names(subject: Subject, f: &Facts) -> (String, String) {
    let g = serde_json::to_string(&[subject.as_str(), f.severity.as_str(), &f.account])
        .unwrap_or_default();
    (format!("g#{g}"), format!("f#{g}"))
}

/// The held messages a window item counts, one [`Held`] per message (the digest
/// groups them again), each at its group's first time.
pub(super) fn held_of(item: &Item) -> Vec<Held> {
    let mut out = Vec::new();
    for (name, value) in item {
        let (Some(g), AttributeValue::N(count)) = (name.strip_prefix("g#"), value) else {
            continue;
        };
        let Ok(count) = count.parse::<u32>() else {
            continue;
        };
        let Ok([subject, severity, account]) = serde_json::from_str::<[String; 3]>(g) else {
            continue;
        };
        // A group this version cannot read (written by a newer one) is skipped
        // rather than failing the whole digest.
        let (Some(subject), Ok(severity)) = (Subject::parse(&subject), severity.parse()) else {
            continue;
        };
        let Some(at) = time(item, &format!("f#{g}")) else {
            continue;
        };
        out.extend((0..count).map(|_| Held {
            subject,
            severity,
            account: account.clone(),
            at,
        }));
    }
    out.sort_by_key(|h| h.at);
    out
}

/// Whether a failed transaction was cancelled by a condition or a concurrent
/// transaction (the state moved: decide again) rather than by trouble.
pub(super) fn state_moved(
    e: &aws_sdk_dynamodb::error::SdkError<
        TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> bool {
    crate::aws::item::cancellation_reasons(e).is_some_and(|reasons| {
        reasons.iter().all(|c| {
            matches!(
                c.as_str(),
                "None" | "ConditionalCheckFailed" | "TransactionConflict"
            )
        })
    })
}

/// Builds one conditioned write: `cond` with its `names` and `values`.
pub(super) struct Cond {
    pub(super) expr: Vec<String>,
    pub(super) names: HashMap<String, String>,
    pub(super) values: HashMap<String, AttributeValue>,
}

impl Cond {
    pub(super) fn new() -> Cond {
        Cond {
            expr: Vec::new(),
            names: HashMap::new(),
            values: HashMap::new(),
        }
    }

    /// The item must not exist yet.
    pub(super) fn absent(mut self) -> Cond {
        self.expr.push("attribute_not_exists(pk)".into());
        self
    }

    /// Attribute `name` must still hold `value`.
    pub(super) fn is(mut self, name: &str, value: AttributeValue) -> Cond {
        let i = self.names.len();
        self.expr.push(format!("#c{i} = :c{i}"));
        self.names.insert(format!("#c{i}"), name.into());
        self.values.insert(format!(":c{i}"), value);
        self
    }

    pub(super) fn text(&self) -> String {
        self.expr.join(" AND ")
    }
}

/// The condition that `read` (a window or nothing) is still what is stored.
pub(super) fn window_cond(read: Option<&Window>) -> Cond {
    match read {
        None => Cond::new().absent(),
        Some(w) => Cond::new()
            .is("started_at", n(us(w.started_at)))
            .is("sent", n(w.sent))
            .is("held", n(w.held)),
    }
}
