//! The streaming CloudTrail log reader, plain and gzip: the input is read as a
//! file's bytes (gzip detected by its magic bytes, as `cspm ingest` does), and
//! also gzip-compressed first so the fuzzer reaches the JSON under the decoder.
#![no_main]

use cspm::documents::files::decoded;
use cspm::documents::{read_documents, Item};
use cspm::sources::Normalizer;
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::sync::OnceLock;

fn read(bytes: Vec<u8>, n: &Normalizer) {
    let Ok(reader) = decoded(Box::new(std::io::Cursor::new(bytes))) else {
        return;
    };
    let _ = read_documents(reader, false, &mut |item| {
        if let Item::Record { value, record, .. } = item {
            n.parse_log_record(&value, record);
        }
    });
}

fuzz_target!(|data: &[u8]| {
    static N: OnceLock<Normalizer> = OnceLock::new();
    let n = N.get_or_init(Normalizer::default);
    read(data.to_vec(), n);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if gz.write_all(data).is_ok() {
        if let Ok(bytes) = gz.finish() {
            read(bytes, n);
        }
    }
});
