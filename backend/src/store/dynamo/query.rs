//! Reading the `SeverityTimestampIndex`: one Query per severity partition, merged
//! newest-first (or oldest-first for archival), with a hard read budget per call.
//!
//! Every request reads at most [`ReadBudget::items`] index entries however selective
//! its filters are: when the budget runs out before the page is full, the page is
//! returned short (possibly empty) with a cursor that continues exactly where the
//! reads stopped. So no request turns into an unbounded scan.

use super::cursor::{Key, Pos};
use super::error::{is_transient, Call};
use super::item::projection;
use super::INDEX_NAME;
use crate::retry::{retry, Backoff};
use crate::store::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, from_items, to_item};
use shared_types::Severity;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// A row that knows its position in the index.
pub trait Keyed {
    /// `(updated_at, id)`.
    fn key(&self) -> Key;
}

/// A filter expression with its placeholders.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The expression (`None` = no filter).
    pub expr: Option<String>,
    /// `#name` placeholders.
    pub names: HashMap<String, String>,
    /// `:value` placeholders.
    pub values: HashMap<String, AttributeValue>,
}

/// One merged read over several severity partitions.
pub struct IndexQuery<'a> {
    /// Client.
    pub client: &'a aws_sdk_dynamodb::Client,
    /// Table.
    pub table: &'a str,
    /// Newest first when true.
    pub descending: bool,
    /// Inclusive lower bound of `updated_at`.
    pub lower: Option<String>,
    /// Inclusive upper bound of `updated_at`.
    pub upper: Option<String>,
    /// Non-key conditions.
    pub filter: Filter,
    /// Attributes to read (`None` = the index projection).
    pub projection: Option<&'a [&'a str]>,
    /// Retry policy.
    pub backoff: Backoff,
}

/// Read limit per request, in index entries evaluated.
#[derive(Debug, Clone, Copy)]
pub struct ReadBudget {
    /// Entries.
    pub items: u32,
}

impl ReadBudget {
    /// The budget for a page of `limit` rows: enough for a full page of an unfiltered
    /// query over all five partitions, and a fixed ceiling otherwise.
    pub fn for_limit(limit: u32) -> ReadBudget {
        ReadBudget {
            items: (limit.saturating_mul(3)).max(2_000),
        }
    }
}

#[derive(Serialize)]
struct StartKey<'a> {
    id: &'a str,
    severity: Severity,
    updated_at: &'a str,
}

#[derive(serde::Deserialize)]
struct LastKey {
    id: String,
    updated_at: String,
}

struct Stream<T> {
    severity: Severity,
    fetch_pos: Pos,
    resume: Pos,
    buf: VecDeque<T>,
}

/// What one Query call returned.
struct Fetched<T> {
    rows: Vec<T>,
    /// Where the partition's next call starts.
    next: Pos,
    /// Index entries the call evaluated (`ScannedCount`: before the filter
    /// expression, so what it cost), at most its limit.
    evaluated: u32,
}

/// A merged page and where each partition resumes (`None` when all are done).
pub struct Merged<T> {
    /// Rows in order.
    pub rows: Vec<T>,
    /// Resume positions, or `None` when nothing is left.
    pub next: Option<BTreeMap<Severity, Pos>>,
}

impl IndexQuery<'_> {
    fn precedes(&self, a: &Key, b: &Key) -> bool {
        if self.descending {
            a > b
        } else {
            a < b
        }
    }

    /// Reads up to `limit` rows in order from the partitions, starting at `start`.
    pub async fn page<T: Keyed + DeserializeOwned>(
        &self,
        start: BTreeMap<Severity, Pos>,
        limit: usize,
        budget: ReadBudget,
    ) -> StoreResult<Merged<T>> {
        let mut streams: Vec<Stream<T>> = start
            .into_iter()
            .map(|(severity, pos)| Stream {
                severity,
                fetch_pos: pos.clone(),
                resume: pos,
                buf: VecDeque::new(),
            })
            .collect();
        let filtered = self.filter.expr.is_some();
        // No single fetch may take more than its share, so every partition gets read
        // and each request makes progress even when the budget runs out.
        let per_fetch_cap = (budget.items / (2 * streams.len().max(1) as u32)).max(1);
        let mut budget_left = budget.items;
        let mut rows = Vec::new();
        while rows.len() < limit {
            let head = streams
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.buf.front().map(|r| (i, r.key())))
                .min_by(|a, b| {
                    if self.precedes(&a.1, &b.1) {
                        std::cmp::Ordering::Less
                    } else {
                        std::cmp::Ordering::Greater
                    }
                });
            let blocking = streams.iter().position(|s| {
                s.buf.is_empty()
                    && match (&s.fetch_pos, &head) {
                        (Pos::Done, _) => false,
                        (Pos::Start, _) | (_, None) => true,
                        (Pos::After(k), Some((_, h))) => self.precedes(k, h),
                    }
            });
            match (blocking, head) {
                (None, None) => break,
                (None, Some((i, _))) => {
                    let s = &mut streams[i];
                    if let Some(row) = s.buf.pop_front() {
                        s.resume = Pos::After(row.key());
                        rows.push(row);
                    }
                }
                (Some(i), _) => {
                    if budget_left == 0 {
                        break;
                    }
                    let need = (limit - rows.len()) as u32;
                    let want = if filtered {
                        need.saturating_mul(4).max(100)
                    } else {
                        need.max(25)
                    };
                    let lim = want.min(per_fetch_cap).min(budget_left).min(1_000);
                    let s = &mut streams[i];
                    let fetched = self.fetch::<T>(s.severity, &s.fetch_pos, lim).await?;
                    // The budget pays for what was read, not for what was asked: a
                    // partition that ends early (or a 1 MB page) leaves the rest to
                    // the others. At least one per call, so the loop always ends.
                    budget_left -= fetched.evaluated.clamp(1, lim);
                    s.buf.extend(fetched.rows);
                    s.fetch_pos = fetched.next;
                }
            }
        }
        let mut next = BTreeMap::new();
        for s in streams {
            let pos = if s.buf.is_empty() {
                s.fetch_pos
            } else {
                s.resume
            };
            next.insert(s.severity, pos);
        }
        let done = next.values().all(|p| *p == Pos::Done);
        Ok(Merged {
            rows,
            next: (!done).then_some(next),
        })
    }

    /// One Query call on one partition (retried on throttling).
    async fn fetch<T: DeserializeOwned>(
        &self,
        severity: Severity,
        from: &Pos,
        limit: u32,
    ) -> StoreResult<Fetched<T>> {
        let start = match from {
            Pos::Done => {
                return Ok(Fetched {
                    rows: Vec::new(),
                    next: Pos::Done,
                    evaluated: 0,
                })
            }
            Pos::Start => None,
            Pos::After(k) => Some(
                to_item(StartKey {
                    id: &k.id,
                    severity,
                    updated_at: &k.u,
                })
                .map_err(|e| StoreError::Backend(Box::new(e)))?,
            ),
        };
        let mut names = self.filter.names.clone();
        let projection = self.projection.map(|attrs| {
            let (expr, proj_names) = projection(attrs);
            names.extend(proj_names);
            expr
        });
        names.insert("#sev".into(), "severity".into());
        let mut values = self.filter.values.clone();
        values.insert(":sev".into(), AttributeValue::S(severity.as_str().into()));
        let range = match (&self.lower, &self.upper) {
            (Some(lo), Some(hi)) => {
                values.insert(":lo".into(), AttributeValue::S(lo.clone()));
                values.insert(":hi".into(), AttributeValue::S(hi.clone()));
                " AND #upd BETWEEN :lo AND :hi"
            }
            (Some(lo), None) => {
                values.insert(":lo".into(), AttributeValue::S(lo.clone()));
                " AND #upd >= :lo"
            }
            (None, Some(hi)) => {
                values.insert(":hi".into(), AttributeValue::S(hi.clone()));
                " AND #upd <= :hi"
            }
            (None, None) => "",
        };
        if !range.is_empty() {
            names.insert("#upd".into(), "updated_at".into());
        }
        let out = retry(&self.backoff, is_transient, || {
            self.client
                .query()
                .table_name(self.table)
                .index_name(INDEX_NAME)
                .key_condition_expression(format!("#sev = :sev{range}"))
                .set_filter_expression(self.filter.expr.clone())
                .set_projection_expression(projection.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!self.descending)
                .limit(limit as i32)
                .set_exclusive_start_key(start.clone())
                .send()
        })
        .await
        .map_err(|e| Call::new("Query", self.table).store_error(e))?;
        let rows: Vec<T> =
            from_items(out.items().to_vec()).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let next = match out.last_evaluated_key() {
            Some(k) => {
                let k: LastKey =
                    from_item(k.clone()).map_err(|e| StoreError::Backend(Box::new(e)))?;
                Pos::After(Key {
                    u: k.updated_at,
                    id: k.id,
                })
            }
            None => Pos::Done,
        };
        Ok(Fetched {
            rows,
            next,
            evaluated: u32::try_from(out.scanned_count()).unwrap_or(limit),
        })
    }
}
