//! The summary counters (`GET /summary`): exact through new findings,
//! updates and deletes, against counts of the model.

use super::*;

fn expected_counts(
    fs: &HashMap<String, Finding>,
) -> (BTreeMap<Severity, u64>, BTreeMap<WorkflowStatus, u64>) {
    let mut sev: BTreeMap<Severity, u64> = Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
    let mut st: BTreeMap<WorkflowStatus, u64> =
        WorkflowStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for f in fs.values() {
        *sev.entry(f.severity).or_default() += 1;
        *st.entry(f.workflow_status).or_default() += 1;
    }
    (sev, st)
}

async fn assert_summary(store: &dyn Store, model: &HashMap<String, Finding>, today: NaiveDate) {
    let s = store.summary(today).await.unwrap();
    let (sev, st) = expected_counts(model);
    assert_eq!(s.total, model.len() as u64);
    assert_eq!(s.by_severity, sev);
    assert_eq!(s.by_status, st);
    assert_eq!(s.trend.len(), 30);
    assert_eq!(s.trend.last().unwrap().date, today);
    for p in &s.trend {
        let n = model
            .values()
            .filter(|f| f.created_at.date_naive() == p.date)
            .count();
        assert_eq!(p.count, n as u64, "trend on {}", p.date);
    }
    let mut accounts: HashMap<&str, u64> = HashMap::new();
    for f in model.values() {
        *accounts.entry(&f.account_id).or_default() += 1;
    }
    for kc in &s.top_accounts {
        assert_eq!(accounts.get(kc.key.as_str()), Some(&kc.count));
    }
    assert_eq!(s.top_accounts.len(), accounts.len().min(10));
}

pub(super) async fn summary_is_exact_through_updates_and_deletes(store: Arc<dyn Store>) {
    let today = anchor().date_naive();
    let fs = findings(300, 7);
    store.upsert(&fs).await.unwrap();
    let mut model: HashMap<String, Finding> =
        fs.iter().map(|f| (f.id.clone(), f.clone())).collect();
    assert_summary(store.as_ref(), &model, today).await;

    // Updates that change severity and status (and some stale ones that must not count).
    let mut changed = Vec::new();
    for (n, f) in fs.iter().enumerate().take(120) {
        let mut v = version(f, 30);
        v.severity = Severity::ALL_DESC[n % 5];
        v.workflow_status = WorkflowStatus::ALL[n % 4];
        changed.push(v.clone());
        changed.push(version(f, -30));
        // A suppressed finding stays suppressed whatever the provider says (row 1);
        // otherwise the provider's own status is stored (the fixtures fail their
        // controls and are active, so nothing resolves or reopens them).
        if f.workflow_status == WorkflowStatus::Suppressed {
            v.workflow_status = WorkflowStatus::Suppressed;
        }
        model.insert(v.id.clone(), v);
    }
    store.upsert(&changed).await.unwrap();
    assert_summary(store.as_ref(), &model, today).await;

    let gone: Vec<FindingVersion> = fs[200..260]
        .iter()
        .map(|f| FindingVersion {
            id: f.id.clone(),
            updated_at: f.updated_at,
            revision: 1,
        })
        .collect();
    let r = store.delete_versions(&gone).await.unwrap();
    assert_eq!(r.deleted.len(), 60);
    for v in &gone {
        model.remove(&v.id);
    }
    assert_summary(store.as_ref(), &model, today).await;
}
