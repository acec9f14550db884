//! Replays every saved fuzz input (`backend/tests/fuzz-regressions/TARGET/*`)
//! through the entry point its target fuzzes, on the stable toolchain: what once
//! crashed must now be handled (a value or a typed rejection).

use cspm::detect::lint::lint_text;
use cspm::detect::policy::{analyze_detailed, PolicyContext};
use cspm::detect::rule::Rule;
use cspm::documents::files::decoded;
use cspm::documents::{read_documents, Item};
use cspm::sources::Normalizer;
use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fuzz-regressions"
    ))
    .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

/// What one document reading did, in counts (to assert on).
#[derive(Default, Debug)]
struct Read {
    values: usize,
    unreadable: Vec<String>,
}

fn read(reader: impl std::io::BufRead, lines: bool, n: &Normalizer) -> Read {
    let mut r = Read::default();
    read_documents(reader, lines, &mut |item| match item {
        Item::Document { value, .. } => {
            r.values += 1;
            n.parse_document(&value);
        }
        Item::Record { value, record, .. } => {
            r.values += 1;
            n.parse_log_record(&value, record);
        }
        Item::Unreadable { reason, .. } => r.unreadable.push(reason),
    })
    .expect("no I/O error reading from memory");
    r
}

#[test]
fn saved_inputs_of_the_document_targets_are_read_or_rejected_with_a_reason() {
    let n = Normalizer::default();
    for (path, bytes) in inputs("normalizer") {
        for lines in [false, true] {
            let r = read(&bytes[..], lines, &n);
            assert!(r.values + r.unreadable.len() > 0, "{}", path.display());
            assert!(r.unreadable.iter().all(|u| !u.is_empty()));
        }
    }
    for (path, bytes) in inputs("cloudtrail_reader") {
        let r = read(
            decoded(Box::new(std::io::Cursor::new(bytes))).unwrap(),
            false,
            &n,
        );
        assert!(
            r.unreadable.iter().any(|u| u.contains("nested deeper")),
            "{}: {r:?}",
            path.display()
        );
    }
}

#[test]
fn saved_inputs_of_the_detection_targets_are_handled() {
    let n = Normalizer::default();
    for (path, bytes) in inputs("rule_eval").into_iter().chain(inputs("policy")) {
        // The hostile JSON is refused by the parser before any rule or analysis.
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(v) => {
                n.parse_log_record(&v, 0);
                analyze_detailed(&v, &PolicyContext::default());
            }
            Err(e) => assert!(
                e.to_string().contains("recursion limit"),
                "{}: {e}",
                path.display()
            ),
        }
    }
    for (path, bytes) in inputs("rules_load") {
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            Rule::from_yaml("r.yaml", &text).is_err(),
            "{}",
            path.display()
        );
        assert!(!lint_text("r.yaml", &text).is_empty(), "{}", path.display());
    }
    for (path, bytes) in inputs("config_yaml") {
        let text = String::from_utf8(bytes).unwrap();
        let p = path.display();
        assert!(
            cspm::remediate::config::RemediationConfig::parse("r.yaml", &text).is_err(),
            "{p}"
        );
        assert!(
            cspm::detect::settings::DetectionSettings::from_yaml("s.yaml", &text).is_err(),
            "{p}"
        );
        assert!(
            cspm::detect::suppress::Suppressions::from_yaml("x.yaml", &text).is_err(),
            "{p}"
        );
    }
    for (path, bytes) in inputs("sinks_yaml") {
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            cspm::sinks::config::parse(&text).is_err(),
            "{}",
            path.display()
        );
    }
}

#[test]
fn saved_inputs_of_the_query_target_are_refused_or_round_trip() {
    use cspm::store::cursor::{decode, encode, MAX_CURSOR_LEN};
    for (path, bytes) in inputs("query") {
        let text = String::from_utf8(bytes).unwrap();
        let p = path.display();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&text).unwrap_or_default();
        for (k, v) in &pairs {
            if k == "cursor" {
                assert!(v.len() > MAX_CURSOR_LEN);
                assert!(decode(v, "scope").is_err(), "{p}");
            }
        }
        // A filter that decodes encodes back to itself.
        if let Ok(filter) = shared_types::FindingFilter::from_pairs(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ) {
            let again = filter.to_pairs();
            let back = shared_types::FindingFilter::from_pairs(
                again.iter().map(|(k, v)| (*k, v.as_str())),
            );
            assert_eq!(
                back.as_ref().ok(),
                Some(&filter),
                "{p}: {again:?} -> {back:?}"
            );
        }
        // The input as a position (as the fuzz target uses it): a cursor too long
        // to accept is refused, one that fits decodes to its position.
        let position = serde_json::Value::from(text.as_str());
        let cursor = encode("scope", position.clone());
        if cursor.len() > MAX_CURSOR_LEN {
            assert!(decode(&cursor, "scope").is_err(), "{p}");
        } else {
            assert_eq!(decode(&cursor, "scope").ok(), Some(position), "{p}");
        }
    }
}
