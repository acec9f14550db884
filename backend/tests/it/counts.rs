//! View counts on a 100,000-finding SQLite store, checked against counts this
//! test computes with its own SQL on the database file: every counted filter
//! and their combinations exact, time windows alone or with one other filter
//! exact, every estimate (free text, or a time window with several filters,
//! over more rows than a count reads) inside its stated bound.

use super::store_contract::count::{churn, filters, Values};
use cspm::store::{SqliteStore, Store};
use rusqlite::types::Value;
use rusqlite::Connection;
use shared_types::{FindingFilter, Severity};

/// Findings written (before 40 are archived).
const FINDINGS: usize = 100_000;

/// The test's own translation of a filter into SQL over `findings`: severity
/// ranks spelled out, free text by `instr` on lower-cased columns (not the
/// store's LIKE), times in microseconds.
fn truth(db: &Connection, f: &FindingFilter) -> u64 {
    let mut conds: Vec<String> = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    if !f.severities.is_empty() {
        let ranks: Vec<String> = f
            .severities
            .iter()
            .map(|s| {
                match s {
                    Severity::Informational => "0",
                    Severity::Low => "1",
                    Severity::Medium => "2",
                    Severity::High => "3",
                    Severity::Critical => "4",
                }
                .to_string()
            })
            .collect();
        conds.push(format!("severity IN ({})", ranks.join(",")));
    }
    if !f.statuses.is_empty() {
        let list: Vec<String> = f
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        conds.push(format!("workflow_status IN ({})", list.join(",")));
    }
    for (col, v) in [
        ("account_id", &f.account),
        ("region", &f.region),
        ("resource_type", &f.resource_type),
        ("product_name", &f.product),
    ] {
        if let Some(v) = v {
            conds.push(format!("{col} = ?"));
            params.push(Value::Text(v.clone()));
        }
    }
    if let Some(q) = &f.q {
        conds.push(
            "(instr(lower(title), lower(?)) > 0 OR instr(lower(description), lower(?)) > 0 \
             OR instr(lower(resource_id), lower(?)) > 0 OR instr(lower(asff_id), lower(?)) > 0)"
                .into(),
        );
        params.extend(std::iter::repeat_n(Value::Text(q.clone()), 4));
    }
    if let Some(t) = f.since {
        conds.push("updated_at >= ?".into());
        params.push(Value::Integer(t.timestamp_micros()));
    }
    if let Some(t) = f.until {
        conds.push("updated_at < ?".into());
        params.push(Value::Integer(t.timestamp_micros()));
    }
    let sql = if conds.is_empty() {
        "SELECT count(*) FROM findings".to_string()
    } else {
        format!(
            "SELECT count(*) FROM findings WHERE {}",
            conds.join(" AND ")
        )
    };
    db.query_row(&sql, rusqlite::params_from_iter(params), |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as u64
}

fn distinct(db: &Connection, col: &str) -> Vec<String> {
    let mut stmt = db
        .prepare(&format!("SELECT DISTINCT {col} FROM findings ORDER BY 1"))
        .unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[tokio::test]
async fn counts_agree_with_the_tests_own_sql_on_a_hundred_thousand_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counts.db");
    let store = SqliteStore::open(&path).unwrap();
    churn(&store, FINDINGS).await;
    let db = Connection::open(&path).unwrap();
    let values = Values {
        accounts: distinct(&db, "account_id"),
        regions: distinct(&db, "region"),
        types: distinct(&db, "resource_type"),
        products: distinct(&db, "product_name"),
    };
    assert_eq!(truth(&db, &FindingFilter::default()), FINDINGS as u64 - 40);
    let (mut exact, mut estimates, mut worst) = (0, 0, 0.0f64);
    for filter in filters(&values) {
        let want = truth(&db, &filter);
        let c = store.count(&filter).await.unwrap();
        let residual = filter.q.is_some() || filter.since.is_some() || filter.until.is_some();
        // A time window alone or with one other filter is counted exactly
        // inside that filter's index at this size (store/sqlite/count.rs).
        let others = [
            !filter.severities.is_empty(),
            !filter.statuses.is_empty(),
            filter.account.is_some(),
            filter.region.is_some(),
            filter.resource_type.is_some(),
            filter.product.is_some(),
            filter.generator.is_some(),
        ];
        let one_index = filter.q.is_none()
            && filter.resource.is_none()
            && others.iter().filter(|o| **o).count() <= 1;
        if !residual || one_index {
            assert!(c.exact, "{filter:?}: {c:?}");
        }
        if c.exact {
            exact += 1;
            assert_eq!(c.total, want, "{filter:?}");
            continue;
        }
        estimates += 1;
        assert!(c.low <= want && want <= c.high, "{filter:?}: {want} {c:?}");
        assert!(c.low <= c.total && c.total <= c.high, "{filter:?}: {c:?}");
        let err = (c.total as f64 - want as f64).abs() / (want.max(1) as f64);
        worst = worst.max(err);
        eprintln!(
            "estimate {} for {} ({:+.1} %): {filter:?}",
            c.total,
            want,
            100.0 * (c.total as f64 - want as f64) / want.max(1) as f64
        );
    }
    eprintln!(
        "{exact} exact, {estimates} estimates, worst relative error {:.1} %",
        100.0 * worst
    );
    assert!(exact > 60, "{exact} exact");
    assert!(estimates > 0, "no view was large enough to estimate");
}
