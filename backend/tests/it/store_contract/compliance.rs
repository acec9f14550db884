//! Daily compliance snapshots: the last of each day is kept, read by range.

use super::*;

fn snapshot(day: NaiveDate, slug: &str, score: Option<u8>) -> cspm::store::ScoreSnapshot {
    cspm::store::ScoreSnapshot {
        date: day,
        slug: slug.into(),
        score,
        passed: u32::from(score.unwrap_or(0)),
        failed: 3,
        unknown: 1,
    }
}

/// A day's compliance snapshot replaces what the day had (a later one that
/// day, for fewer standards, leaves only its own), none is written for no
/// scores, and they are read back by day range, oldest first, then by slug.
pub(super) async fn compliance_snapshots_keep_the_last_of_each_day(store: Arc<dyn Store>) {
    let d1 = NaiveDate::from_ymd_opt(2026, 5, 30).unwrap();
    let d2 = d1 + Duration::days(1);
    let d3 = d1 + Duration::days(2);
    let first = vec![
        snapshot(d1, "cis-1.4", Some(40)),
        snapshot(d1, "aws-fsbp", None),
    ];
    assert!(store.put_compliance_snapshot(d1, &first).await.unwrap());
    let again = vec![
        snapshot(d1, "aws-fsbp", Some(99)),
        snapshot(d1, "pci-dss-3.2.1", Some(10)),
    ];
    assert!(store.put_compliance_snapshot(d1, &again).await.unwrap());
    let last = vec![
        snapshot(d1, "aws-fsbp", Some(98)),
        snapshot(d1, "cis-1.4", Some(41)),
    ];
    assert!(store.put_compliance_snapshot(d1, &last).await.unwrap());
    assert!(!store.put_compliance_snapshot(d2, &[]).await.unwrap());
    let third = vec![snapshot(d3, "aws-fsbp", Some(70))];
    assert!(store.put_compliance_snapshot(d3, &third).await.unwrap());
    let got = store.compliance_snapshots(d1, d3).await.unwrap();
    let want = vec![
        snapshot(d1, "aws-fsbp", Some(98)),
        snapshot(d1, "cis-1.4", Some(41)),
        snapshot(d3, "aws-fsbp", Some(70)),
    ];
    assert_eq!(got, want);
    assert_eq!(store.compliance_snapshots(d2, d2).await.unwrap(), vec![]);
    assert_eq!(
        store.compliance_snapshots(d3, d3).await.unwrap(),
        want[2..].to_vec()
    );
    // A day whose scores are gone (no control finding left) is emptied, once.
    let d4 = d1 + Duration::days(3);
    assert!(store
        .put_compliance_snapshot(
            d4,
            &third[..1]
                .iter()
                .map(|s| snapshot(d4, &s.slug, s.score))
                .collect::<Vec<_>>()
        )
        .await
        .unwrap());
    assert!(store.put_compliance_snapshot(d4, &[]).await.unwrap());
    assert!(!store.put_compliance_snapshot(d4, &[]).await.unwrap());
    assert_eq!(store.compliance_snapshots(d4, d4).await.unwrap(), vec![]);
    // Snapshots are not findings: the summary does not count them.
    assert_eq!(store.summary(d3).await.unwrap().total, 0);
}
