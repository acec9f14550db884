//! The built-in rules (conditions, paths, `@json` decoding, templates, finding
//! construction) on arbitrary events: as a raw record and as an EventBridge event.
#![no_main]

use cspm::sources::Normalizer;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static N: OnceLock<Normalizer> = OnceLock::new();
    let n = N.get_or_init(Normalizer::default);
    let Ok(record) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    n.parse_log_record(&record, 0);
    let event = json!({
        "version": "0", "id": "fuzz", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam", "account": "123456789012", "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1", "resources": [], "detail": record,
    });
    n.parse_document(&event);
});
