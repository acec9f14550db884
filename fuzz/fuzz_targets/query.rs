//! The API's query-string, filter and cursor decoding on arbitrary text.
#![no_main]

use cspm::store::cursor::{decode, encode, scope_of};
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
            let position = serde_json::Value::from(text);
            assert_eq!(
                decode(&encode(&scope, position.clone()), &scope).ok(),
                Some(position)
            );
        }
    }
    let _ = decode(text, "scope");
});
