//! What the archiver relies on: candidates page oldest first below the cutoff,
//! and a delete removes only the version that was read.

use super::*;

pub(super) async fn archive_candidates_page_oldest_first_below_the_cutoff(store: Arc<dyn Store>) {
    let fs = findings(200, 9);
    store.upsert(&fs).await.unwrap();
    let cutoff = anchor() - Duration::days(60);
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .archive_candidates(cutoff, 16, cursor.as_deref())
            .await
            .unwrap();
        got.extend(page.candidates);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut expected: Vec<&Finding> = fs.iter().filter(|f| f.updated_at < cutoff).collect();
    expected.sort_by_key(|f| (f.updated_at.timestamp_micros(), f.id.clone()));
    assert!(!expected.is_empty());
    let got_ids: Vec<&str> = got.iter().map(|f| f.id.as_str()).collect();
    let want_ids: Vec<&str> = expected.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(got_ids, want_ids);
    for (c, want) in got.iter().zip(&expected) {
        assert_eq!(
            c.finding().unwrap(),
            stored_as(want, 1),
            "candidates carry the full finding with raw"
        );
        assert_eq!(c.updated_at, want.updated_at);
    }
}

pub(super) async fn deletes_only_remove_the_version_that_was_read(store: Arc<dyn Store>) {
    let fs = findings(10, 10);
    store.upsert(&fs).await.unwrap();
    // f[0] is updated by its provider after it was read, f[1] triaged by a person
    // (same provider time, next revision): neither old version may be deleted.
    store.upsert(&[version(&fs[0], 10)]).await.unwrap();
    let triage = WorkflowUpdate {
        workflow_status: WorkflowStatus::Notified,
        note: None,
    };
    store
        .set_workflow(&fs[1].id, &triage, "alice", anchor())
        .await
        .unwrap()
        .unwrap();
    let versions: Vec<FindingVersion> = fs
        .iter()
        .map(|f| FindingVersion {
            id: f.id.clone(),
            updated_at: f.updated_at,
            revision: 1,
        })
        .chain(std::iter::once(FindingVersion {
            id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            updated_at: anchor(),
            revision: 1,
        }))
        .collect();
    let r = store.delete_versions(&versions).await.unwrap();
    let deleted: HashSet<&str> = r.deleted.iter().map(String::as_str).collect();
    assert_eq!(deleted.len(), 8);
    for kept in [&fs[0].id, &fs[1].id] {
        assert!(!deleted.contains(kept.as_str()));
        assert!(r.kept.contains(kept));
        assert!(store.get(kept).await.unwrap().is_some());
    }
    assert!(store.get(&fs[2].id).await.unwrap().is_none());
    // The triaged one goes when its own revision is named.
    let r = store
        .delete_versions(&[FindingVersion {
            id: fs[1].id.clone(),
            updated_at: fs[1].updated_at,
            revision: 2,
        }])
        .await
        .unwrap();
    assert_eq!(r.deleted, vec![fs[1].id.clone()]);
}
