//! The normalizer on structure-aware mutations of real documents: a custom mutator
//! keeps the input valid JSON and changes one node at a time — another type in a
//! field's place (a number where a timestamp was, an object where a list was), a
//! removed key, a value copied from elsewhere in the document, a string edited by
//! libFuzzer's own byte mutations — so the fuzzer explores the fields a normalizer
//! reads instead of stopping at the JSON parser. Seeded with the corpus documents.
#![no_main]

use cspm::documents::{read_documents, Item};
use cspm::sources::Normalizer;
use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use serde_json::{Map, Value};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static N: OnceLock<Normalizer> = OnceLock::new();
    let n = N.get_or_init(Normalizer::default);
    let _ = read_documents(data, false, &mut |item| match item {
        Item::Document { value, .. } => {
            n.parse_document(&value);
        }
        Item::Record { value, record, .. } => {
            n.parse_log_record(&value, record);
        }
        Item::Unreadable { .. } => {}
    });
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let Ok(mut doc) = serde_json::from_slice::<Value>(&data[..size]) else {
        // Not JSON (yet): libFuzzer's byte mutations until it is.
        return fuzzer_mutate(data, size, max_size);
    };
    let mut rng = Rng(u64::from(seed) | 1 << 40);
    let count = count_nodes(&doc);
    let target = rng.below(count);
    let donor = nth(&doc, rng.below(count)).cloned().unwrap_or(Value::Null);
    let mut seen = 0;
    mutate_nth(&mut doc, target, &mut seen, &mut rng, &donor);
    let Ok(out) = serde_json::to_vec(&doc) else {
        return fuzzer_mutate(data, size, max_size);
    };
    if out.len() > max_size {
        return fuzzer_mutate(data, size, max_size);
    }
    data[..out.len()].copy_from_slice(&out);
    out.len()
});

/// A small deterministic generator: the same seed must give the same mutation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `n`th node in pre-order.
fn nth(v: &Value, n: usize) -> Option<&Value> {
    fn walk<'a>(v: &'a Value, n: usize, seen: &mut usize) -> Option<&'a Value> {
        if *seen == n {
            return Some(v);
        }
        *seen += 1;
        let children: Box<dyn Iterator<Item = &'a Value> + 'a> = match v {
            Value::Array(a) => Box::new(a.iter()),
            Value::Object(o) => Box::new(o.values()),
            _ => return None,
        };
        for c in children {
            if let Some(found) = walk(c, n, seen) {
                return Some(found);
            }
        }
        None
    }
    walk(v, n, &mut 0)
}

/// Replaces the `target`th node (pre-order) with a mutation of it; true once done.
fn mutate_nth(v: &mut Value, target: usize, seen: &mut usize, rng: &mut Rng, donor: &Value) -> bool {
    if *seen == target {
        *v = mutation(v, rng, donor);
        return true;
    }
    *seen += 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|c| mutate_nth(c, target, seen, rng, donor)),
        Value::Object(o) => o.values_mut().any(|c| mutate_nth(c, target, seen, rng, donor)),
        _ => false,
    }
}

/// One change of a node: a value of another type, an edge value, the donor, or a
/// byte-level edit of a string (timestamps, ARNs and ids live in strings).
fn mutation(old: &Value, rng: &mut Rng, donor: &Value) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.next() as i64),
        3 => Value::from([0.0, -1.0, 1e308, -0.5, 9_007_199_254_740_993.0][rng.below(5)]),
        4 => Value::String(String::new()),
        5 => Value::Array(vec![]),
        6 => Value::Object(Map::new()),
        7 => Value::Array(vec![old.clone(), donor.clone()]),
        8 => donor.clone(),
        9 => Value::String(
            ["1977-05-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "0000-01-01T00:00:00Z",
             "2024-02-30T25:61:61Z", "arn:aws:s3:::", "*", "\u{0}", "\u{202e}"][rng.below(8)]
                .to_string(),
        ),
        _ => match old {
            Value::String(s) => {
                let mut bytes = s.clone().into_bytes();
                let len = bytes.len();
                bytes.resize(len * 2 + 16, 0);
                let max = bytes.len();
                let new_len = fuzzer_mutate(&mut bytes, len, max);
                bytes.truncate(new_len);
                Value::String(String::from_utf8_lossy(&bytes).into_owned())
            }
            Value::Number(n) => Value::String(n.to_string()),
            // A key or a list element gone (often a required one).
            Value::Object(o) if !o.is_empty() => {
                let mut o = o.clone();
                let key = o.keys().nth(rng.below(o.len())).cloned().unwrap_or_default();
                o.remove(&key);
                Value::Object(o)
            }
            Value::Array(a) if !a.is_empty() => {
                let mut a = a.clone();
                a.remove(rng.below(a.len()));
                Value::Array(a)
            }
            other => Value::String(other.to_string()),
        },
    }
}
