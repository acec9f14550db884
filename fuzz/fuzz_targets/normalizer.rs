//! The document reader and normalizer on arbitrary bytes, read as JSON and as
//! JSON Lines: every item is normalized, nothing may panic.
#![no_main]

use cspm::documents::{read_documents, Item};
use cspm::sources::Normalizer;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static N: OnceLock<Normalizer> = OnceLock::new();
    let n = N.get_or_init(Normalizer::default);
    for lines in [false, true] {
        let _ = read_documents(data, lines, &mut |item| match item {
            Item::Document { value, .. } => {
                n.parse_document(&value);
            }
            Item::Record { value, record, .. } => {
                n.parse_log_record(&value, record);
            }
            Item::Unreadable { .. } => {}
        });
    }
});
