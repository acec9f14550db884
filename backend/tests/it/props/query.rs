//! Cursors, query strings and filters on hostile input: a typed rejection or a
//! value, never a panic; a cursor from page N resumes exactly after page N.

use crate::helpers::findings;
use cspm::store::cursor::{decode, encode, scope_of};
use cspm::store::{SqliteStore, Store};
use proptest::prelude::*;
use serde_json::{json, Value};
use shared_types::FindingFilter;

/// Positions shaped like the stores' (SQLite: sort key and id; DynamoDB: a key map).
fn position() -> impl Strategy<Value = Value> {
    prop_oneof![
        (any::<i64>(), "[A-Za-z0-9_-]{22}").prop_map(|(t, id)| json!([t, id])),
        ("[A-Z]{3,8}", ".{0,30}", "[A-Za-z0-9_-]{22}").prop_map(
            |(s, u, id)| json!({"severity": {"S": s}, "updated_at": {"S": u}, "id": {"S": id}})
        ),
    ]
}

proptest! {
    #![proptest_config(super::config(256))]

    #[test]
    fn a_cursor_decodes_to_its_position_and_only_for_its_scope(
        p in position(),
        a in ".{0,20}",
        b in ".{0,20}",
    ) {
        let scope = scope_of(&a);
        let cursor = encode(&scope, p.clone());
        prop_assert_eq!(decode(&cursor, &scope).unwrap(), p);
        if a != b {
            prop_assert!(decode(&cursor, &scope_of(&b)).is_err());
        }
    }

    #[test]
    fn cursor_decoding_never_panics(s in ".{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let scope = scope_of(&"x");
        let _ = decode(&s, &scope);
        // Valid base64url of arbitrary bytes reaches the JSON and check stages.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        prop_assert!(decode(&b64, &scope).is_err());
    }

    #[test]
    fn query_strings_and_filters_decode_or_are_refused_never_panic(q in "[a-z_=&%,0-9A-Z.:+-]{0,80}|.{0,80}") {
        if let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(&q) {
            if let Ok(f) = FindingFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                // What decodes encodes back to the same filter.
                let again: Vec<(&str, String)> = f.to_pairs();
                let back = FindingFilter::from_pairs(again.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
                prop_assert_eq!(back, f);
            }
        }
    }
}

proptest! {
    // Each case builds a store: fewer cases.
    #![proptest_config(super::config(16))]

    #[test]
    fn a_cursor_from_page_n_resumes_right_after_page_n(n in 1usize..60, limit in 1u32..12, seed in any::<u64>()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::open_dir(dir.path()).unwrap();
            let made = findings(n, seed);
            store.upsert(&made).await.unwrap();
            let filter = FindingFilter::default();
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = store.list(&filter, limit, cursor.as_deref()).await.unwrap();
                let ids: Vec<String> = page.items.iter().map(|i| i.id.clone()).collect();
                // The same cursor, asked again, gives the same page.
                let again = store.list(&filter, limit, cursor.as_deref()).await.unwrap();
                let again: Vec<String> = again.items.iter().map(|i| i.id.clone()).collect();
                assert_eq!(ids, again);
                seen.extend(ids);
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            // Every finding once, none skipped or repeated across pages.
            let expected: std::collections::BTreeSet<&str> = made.iter().map(|f| f.id.as_str()).collect();
            let unique: std::collections::BTreeSet<&str> = seen.iter().map(String::as_str).collect();
            assert_eq!(unique.len(), seen.len(), "a finding repeated across pages");
            assert_eq!(unique, expected);
        });
    }
}
