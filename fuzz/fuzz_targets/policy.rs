//! The IAM policy analyzer on arbitrary policy JSON, with and without context.
#![no_main]

use cspm::detect::policy::{analyze_detailed, PolicyContext};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = analyze_detailed(&doc, &PolicyContext::default());
    let trusted = ["111122223333".to_string()];
    let ctx = PolicyContext {
        own_account: Some("123456789012"),
        trusted_accounts: &trusted,
    };
    let _ = analyze_detailed(&doc, &ctx);
});
