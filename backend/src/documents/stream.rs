//! Streaming of large JSON documents: a CloudTrail log file's `Records` array and
//! top-level arrays are handed out one element at a time (a serde `DeserializeSeed`
//! over the array), so a 100 MB log file is never held in memory whole. Any other
//! document is read whole.

use super::limits::{self, DocumentMeter, LimitExceeded, Metered};
use super::Item;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Reads every top-level JSON value from `reader`, streaming arrays and `Records`.
/// Returns `Err` only for I/O errors; bad JSON, and a document over one of the
/// [`limits`], is reported as an item and ends the input (the stream's position
/// is unknown after it).
pub fn stream_documents(
    reader: impl std::io::Read,
    sink: &mut dyn FnMut(Item),
) -> std::io::Result<()> {
    let meter = DocumentMeter::default();
    let metered = Metered::new(reader, meter.clone(), limits::MAX_DOCUMENT_BYTES);
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
        limits::READ_BUFFER_BYTES,
        metered,
    ));
    // Each document handed out starts the count of the next one.
    let sink = &mut |item: Item| {
        meter.reset();
        sink(item)
    };
    let mut next = 0usize;
    loop {
        let mut started = false;
        let mut current = next;
        let seed = TopLevel {
            sink: &mut *sink,
            started: &mut started,
            next: &mut next,
            current: &mut current,
        };
        match seed.deserialize(&mut de) {
            Ok(()) => {}
            Err(e) if e.is_io() => {
                let e = std::io::Error::from(e);
                let Some(limit) = LimitExceeded::from_io(&e) else {
                    return Err(e);
                };
                sink(Item::Unreadable {
                    index: Some(current),
                    reason: limit.to_string(),
                });
                return Ok(());
            }
            // End of input between documents: done.
            Err(e) if e.is_eof() && !started => return Ok(()),
            Err(e) => {
                let reason = if LimitExceeded::is_too_deep(&e) {
                    LimitExceeded::TooDeep.to_string()
                } else {
                    format!("not JSON: {e}")
                };
                sink(Item::Unreadable {
                    index: Some(current),
                    reason,
                });
                return Ok(());
            }
        }
    }
}

/// One top-level value.
struct TopLevel<'a> {
    sink: &'a mut dyn FnMut(Item),
    started: &'a mut bool,
    /// Index the next document gets.
    next: &'a mut usize,
    /// Index of the document being read, reported if reading it fails.
    current: &'a mut usize,
}

impl TopLevel<'_> {
    fn take_index(&mut self) -> usize {
        let i = *self.next;
        *self.next += 1;
        i
    }
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        *self.started = true;
        let mut any = false;
        loop {
            *self.current = *self.next;
            let Some(value) = seq.next_element::<Value>()? else {
                break;
            };
            any = true;
            let index = self.take_index();
            (self.sink)(Item::Document { index, value });
        }
        if !any {
            let index = self.take_index();
            (self.sink)(Item::Document {
                index,
                value: Value::Array(vec![]),
            });
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        *self.started = true;
        let index = self.take_index();
        *self.current = index;
        let mut rest = Map::new();
        let mut records_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" && !records_seen {
                records_seen = true;
                map.next_value_seed(Records {
                    sink: &mut *self.sink,
                    index,
                })?;
            } else {
                let v: Value = map.next_value()?;
                rest.insert(key, v);
            }
        }
        if !records_seen {
            (self.sink)(Item::Document {
                index,
                value: Value::Object(rest),
            });
        } else if !rest.is_empty() {
            let keys: Vec<&str> = rest.keys().map(String::as_str).collect();
            (self.sink)(Item::Unreadable {
                index: Some(index),
                reason: format!(
                    "keys beside Records are not part of a CloudTrail log file, ignored: {}",
                    keys.join(", ")
                ),
            });
        }
        Ok(())
    }

    // Scalars are documents too (sources reject them with a reason).
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.scalar(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.scalar(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.scalar(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.scalar(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.scalar(Value::from(v))
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.scalar(Value::Null)
    }
}

impl TopLevel<'_> {
    fn scalar<E>(mut self, value: Value) -> Result<(), E> {
        *self.started = true;
        let index = self.take_index();
        (self.sink)(Item::Document { index, value });
        Ok(())
    }
}

/// The value of `Records`: each element is handed out and dropped.
struct Records<'a> {
    sink: &'a mut dyn FnMut(Item),
    /// The document the records belong to.
    index: usize,
}

impl<'de> DeserializeSeed<'de> for Records<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Records to be a list of CloudTrail records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut record = 0;
        while let Some(value) = seq.next_element::<Value>()? {
            (self.sink)(Item::Record {
                index: self.index,
                record,
                value,
            });
            record += 1;
        }
        if record == 0 {
            (self.sink)(Item::Unreadable {
                index: Some(self.index),
                reason: "CloudTrail log file with an empty Records list: no events".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<Item> {
        let mut out = Vec::new();
        stream_documents(text.as_bytes(), &mut |i| out.push(i)).expect("no io error");
        out
    }

    #[test]
    fn records_and_top_level_arrays_are_handed_out_element_by_element() {
        let got = items(r#"{"Records":[{"eventName":"A"},{"eventName":"B"}]} [1,2] {"x":1} 3"#);
        assert!(
            matches!(&got[0], Item::Record { index: 0, record: 0, value } if value["eventName"] == "A")
        );
        assert!(matches!(
            &got[1],
            Item::Record {
                index: 0,
                record: 1,
                ..
            }
        ));
        assert!(matches!(&got[2], Item::Document { index: 1, .. }));
        assert!(matches!(&got[3], Item::Document { index: 2, .. }));
        assert!(matches!(&got[4], Item::Document { index: 3, value } if value["x"] == 1));
        assert!(matches!(&got[5], Item::Document { index: 4, value } if *value == 3));
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn truncated_or_malformed_input_is_reported_after_the_records_read_so_far() {
        let got = items(r#"{"Records":[{"eventName":"A"},{"eventName":"#);
        assert!(matches!(&got[0], Item::Record { record: 0, .. }));
        assert!(
            matches!(&got[1], Item::Unreadable { reason, .. } if reason.starts_with("not JSON"))
        );
        let got = items(r#"{"Records": "nope"}"#);
        assert!(
            matches!(&got[0], Item::Unreadable { reason, .. } if reason.contains("list of CloudTrail records"))
        );
        assert!(items("  \n ").is_empty());
    }

    #[test]
    fn a_document_over_a_limit_is_reported_with_its_index_and_reason() {
        // The limit is counted to within one read buffer: go past it by two.
        let limit = limits::MAX_DOCUMENT_BYTES as usize + 2 * limits::READ_BUFFER_BYTES;
        let big = format!(
            r#"{{"a":1}} {{"detail":"{}"}} {{"a":2}}"#,
            "x".repeat(limit)
        );
        let got = items(&big);
        assert!(matches!(&got[0], Item::Document { index: 0, .. }));
        assert!(
            matches!(&got[1], Item::Unreadable { index: Some(1), reason } if reason.contains("larger than 16777216 bytes")),
            "{:?}",
            got.iter()
                .map(|i| format!("{i:?}").chars().take(120).collect::<String>())
                .collect::<Vec<_>>()
        );
        assert_eq!(got.len(), 2, "reading ends at the oversized document");
        // A record nested too deep: reported against its log file (document 0).
        let deep = format!(
            r#"{{"Records":[{{"eventName":"A"}},{}{}]}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let got = items(&deep);
        assert!(matches!(&got[0], Item::Record { record: 0, .. }));
        assert!(
            matches!(&got[1], Item::Unreadable { index: Some(0), reason } if reason.contains(&format!("nested deeper than {} levels", limits::MAX_DEPTH)))
        );
        // Many documents each under the limit but over it together are all read.
        let doc = format!(r#"{{"detail":"{}"}}"#, "x".repeat(limit / 3));
        assert_eq!(items(&[doc.as_str(); 6].join("\n")).len(), 6);
    }

    #[test]
    fn extra_keys_beside_records_are_reported() {
        let got = items(r#"{"Records":[{"eventName":"A"}],"other":1}"#);
        assert!(matches!(&got[1], Item::Unreadable { reason, .. } if reason.contains("other")));
    }
}
