//! The summary counters, kept exact on write. A write transaction collects the
//! facets it adds and removes and applies the net change once, before it commits:
//! one upsert per distinct key per batch, where per-row triggers cost six upserts
//! (and a statement journal) per row.
//!
//! Beside the per-dimension counters, `view_counts` counts findings per
//! combination of the list's equality filters (store/count.rs): one more upsert
//! per distinct combination per batch, not per finding.
//!
//! `group_counts` does the same per generator (store/groups.rs): the
//! combination plus the generator, so grouping a view by generator, or counting
//! one generator's findings, is a sum over its rows. There are few generators,
//! so a batch adds few upserts.
//!
//! Resources are many, so their net changes are only appended here
//! (resource_counts.rs) and folded into their counters later in large batches.

use super::error::corrupt;
use super::group_counts::{GroupRowWriter, ViewKey};
use super::resource_counts::ResourceDeltas;
use super::StoreResult;
use crate::store::facets::Facets;
use chrono::{DateTime, NaiveDate};
use rusqlite::{params, Connection};
use shared_types::{Severity, WorkflowStatus};
use std::collections::HashMap;

/// Day number (days since 1970-01-01) of a date: the `created_day` counter key.
pub(super) fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::default()).num_days()
}

/// Net counter changes of one transaction.
#[derive(Debug, Default)]
pub(super) struct CounterDeltas {
    total: i64,
    severity: [i64; 5],
    status: HashMap<WorkflowStatus, i64>,
    account: HashMap<String, i64>,
    resource_type: HashMap<String, i64>,
    created_day: HashMap<i64, i64>,
    views: HashMap<ViewKey, i64>,
    groups: HashMap<(String, ViewKey), i64>,
    resources: ResourceDeltas,
}

/// The groups a finding version counts in besides its view combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GroupKeys<'a> {
    /// Its generator id.
    pub(super) generator: &'a str,
    /// Its primary resource id.
    pub(super) resource: &'a str,
}

/// Adds `by` to `key`'s entry without allocating when the key is already there.
fn bump(map: &mut HashMap<String, i64>, key: &str, by: i64) {
    match map.get_mut(key) {
        Some(n) => *n += by,
        None => {
            map.insert(key.to_owned(), by);
        }
    }
}

impl CounterDeltas {
    /// Counts a finding version of `g`'s generator and resource in (`by` = 1)
    /// or out (`by` = -1).
    pub(super) fn shift(&mut self, f: &Facets, g: GroupKeys<'_>, by: i64) {
        self.total += by;
        self.severity[usize::from(f.severity.rank())] += by;
        *self.status.entry(f.status).or_default() += by;
        bump(&mut self.account, &f.account, by);
        bump(&mut self.resource_type, &f.resource_type, by);
        *self
            .created_day
            .entry(day_number(f.created_day))
            .or_default() += by;
        let key = (
            f.severity.rank(),
            f.status,
            f.account.clone(),
            f.region.clone(),
            f.resource_type.clone(),
            f.product.clone(),
        );
        *self
            .groups
            .entry((g.generator.to_owned(), key.clone()))
            .or_default() += by;
        self.resources.add(g.resource, &key, by);
        *self.views.entry(key).or_default() += by;
    }

    /// Writes the net changes (zero changes are skipped).
    pub(super) fn apply(self, c: &Connection) -> StoreResult<()> {
        let mut stmt = c.prepare_cached(
            "INSERT INTO counters (dim, key, n) VALUES (?1, ?2, ?3) \
             ON CONFLICT (dim, key) DO UPDATE SET n = n + excluded.n",
        )?;
        let severity = self
            .severity
            .iter()
            .enumerate()
            .map(|(rank, n)| (rank.to_string(), *n));
        let rows = std::iter::once(("total", String::new(), self.total))
            .chain(severity.map(|(k, n)| ("severity", k, n)))
            .chain(
                self.status
                    .into_iter()
                    .map(|(s, n)| ("status", s.as_str().to_owned(), n)),
            )
            .chain(self.account.into_iter().map(|(k, n)| ("account", k, n)))
            .chain(
                self.resource_type
                    .into_iter()
                    .map(|(k, n)| ("resource_type", k, n)),
            )
            .chain(
                self.created_day
                    .into_iter()
                    .map(|(d, n)| ("created_day", d.to_string(), n)),
            );
        for (dim, key, n) in rows {
            if n != 0 {
                stmt.execute(params![dim, key, n])?;
            }
        }
        let mut view = c.prepare_cached(
            "INSERT INTO view_counts (severity, workflow_status, account_id, region, \
             resource_type, product_name, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for ((sev, status, account, region, rt, product), n) in self.views {
            if n != 0 {
                view.execute(params![
                    sev,
                    status.as_str(),
                    account,
                    region,
                    rt,
                    product,
                    n
                ])?;
            }
        }
        // A generator's rows empty as its findings leave or move: the writer
        // drops them.
        let mut group = GroupRowWriter::new(c, "generator")?;
        for ((key, (sev, status, account, region, rt, product)), n) in &self.groups {
            if *n != 0 {
                let row = (
                    key.as_str(),
                    i64::from(*sev),
                    status.as_str(),
                    account.as_str(),
                    region.as_str(),
                    rt.as_str(),
                    product.as_str(),
                );
                group.add(row, *n)?;
            }
        }
        self.resources.append(c)
    }
}

/// The counted columns of a stored row (`severity` rank, status text, …,
/// `created_at` in microseconds).
pub(super) struct StoredFacets<'a> {
    pub(super) severity: u8,
    pub(super) status: &'a str,
    pub(super) account: String,
    pub(super) region: String,
    pub(super) resource_type: String,
    pub(super) product: String,
    pub(super) created_at: i64,
}

/// Facets of a stored row from its columns.
pub(super) fn facets_of(id: &str, r: StoredFacets<'_>) -> StoreResult<Facets> {
    Ok(Facets {
        severity: Severity::from_rank(r.severity)
            .ok_or_else(|| corrupt(id, "bad stored severity"))?,
        status: r
            .status
            .parse()
            .map_err(|_| corrupt(id, "bad stored workflow status"))?,
        account: r.account,
        region: r.region,
        resource_type: r.resource_type,
        product: r.product,
        created_day: DateTime::from_timestamp_micros(r.created_at)
            .ok_or_else(|| corrupt(id, "timestamp out of range"))?
            .date_naive(),
    })
}
