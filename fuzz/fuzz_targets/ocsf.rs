//! The OCSF reader on arbitrary bytes, read as JSON and as JSON Lines: every
//! document goes to `sources::ocsf` directly (whatever its shape, so the reader
//! sees what kind detection would send elsewhere) and through the normalizer;
//! nothing may panic.
#![no_main]

use cspm::documents::{read_documents, Item};
use cspm::sources::{ocsf, Normalizer};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static N: OnceLock<Normalizer> = OnceLock::new();
    let n = N.get_or_init(Normalizer::default);
    for lines in [false, true] {
        let _ = read_documents(data, lines, &mut |item| match item {
            Item::Document { value, .. } => {
                ocsf::parse_document(&value);
                n.parse_document(&value);
            }
            Item::Record { value, .. } => {
                ocsf::parse_document(&value);
            }
            Item::Unreadable { .. } => {}
        });
    }
});
