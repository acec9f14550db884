//! The API's query-string, filter and cursor decoding on arbitrary text.
#![no_main]

use cspm::store::cursor::{decode, encode, scope_of, MAX_CURSOR_LEN};
use libfuzzer_sys::fuzz_target;
use shared_types::FindingFilter;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(text) {
        if let Ok(filter) =
            FindingFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            // What decodes encodes back to the same filter.
            let again = filter.to_pairs();
            let back = FindingFilter::from_pairs(again.iter().map(|(k, v)| (*k, v.as_str())))
                .expect("a filter's own pairs decode");
            assert_eq!(back, filter);
            let scope = scope_of(&filter);
            let _ = decode(text, &scope);
            // A cursor decodes to the position it was made from — when it fits the
            // length every cursor is held to. The stores' positions (times and
            // 22-character ids) always fit; a larger one is refused, never misread.
            let position = serde_json::Value::from(text);
            let cursor = encode(&scope, position.clone());
            if cursor.len() <= MAX_CURSOR_LEN {
                assert_eq!(decode(&cursor, &scope).ok(), Some(position));
            } else {
                assert!(decode(&cursor, &scope).is_err());
            }
        }
    }
    let _ = decode(text, "scope");
});
