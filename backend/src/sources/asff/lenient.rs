//! Deserializers that never fail on a field: real ASFF drifts from the schema (lists
//! where strings are expected, numbers as strings, objects in lists), and one odd field
//! must not cost us the whole finding. Each reads the field as JSON and keeps what it
//! can; the normalizer then decides whether a missing value is fatal.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A text field. Numbers and booleans become their text; a list yields its first
/// non-empty scalar (identifiers such as `SecurityControlId` are sometimes published as
/// one-element lists); objects and `null` yield `None`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_text(Value::deserialize(d)?))
}

/// A list of text. A single scalar becomes a one-element list; non-scalars are skipped.
pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().filter_map(scalar_text).collect(),
        other => scalar_text(other).into_iter().collect(),
    })
}

/// An integer. Integral floats (`40.0`) and numeric strings (`"40"`) are accepted;
/// anything else, including fractions, yields `None` rather than a guess.
pub fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(integral)),
        Value::String(s) => s.trim().parse::<f64>().ok().and_then(integral),
        _ => None,
    })
}

/// A floating-point number, from a JSON number or a numeric string.
pub fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    })
}

/// A nested object. A list yields its first element that reads as `T`; anything else `None`.
pub fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().find_map(as_object),
        other => as_object(other),
    })
}

/// A list of objects. A single object becomes a one-element list; elements that are
/// not objects are skipped.
pub fn objects<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().filter_map(as_object).collect(),
        other => as_object(other).into_iter().collect(),
    })
}

/// A free-form map (`ProductFields`); values stay JSON because real data nests objects there.
pub fn map<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(m) => m,
        _ => Map::new(),
    })
}

/// The text of a scalar, or of the first non-empty scalar in a list.
pub fn scalar_text(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => items
            .into_iter()
            .filter_map(scalar_text)
            .find(|s| !s.trim().is_empty()),
        Value::Null | Value::Object(_) => None,
    }
}

fn as_object<T: DeserializeOwned>(v: Value) -> Option<T> {
    if v.is_object() {
        serde_json::from_value(v).ok()
    } else {
        None
    }
}

fn integral(f: f64) -> Option<i64> {
    // Bounds keep the cast exact; Normalized scores are 0–100 anyway.
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15).then_some(f as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Probe {
        #[serde(default, deserialize_with = "string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "strings")]
        l: Vec<String>,
        #[serde(default, deserialize_with = "integer")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "float")]
        f: Option<f64>,
    }

    fn probe(v: Value) -> Probe {
        match serde_json::from_value(v) {
            Ok(p) => p,
            Err(e) => panic!("lenient probe failed: {e}"),
        }
    }

    #[test]
    fn scalars_lists_and_strings_are_coerced_not_rejected() {
        let p = probe(json!({"s": ["", "EC2.19", "x"], "l": "one", "i": "40", "f": "6.0"}));
        assert_eq!(p.s.as_deref(), Some("EC2.19"));
        assert_eq!(p.l, vec!["one".to_string()]);
        assert_eq!(p.i, Some(40));
        assert_eq!(p.f, Some(6.0));
        let p = probe(json!({"s": 123456789012_i64, "l": ["a", 1, {"x": 1}], "i": 40.0}));
        assert_eq!(p.s.as_deref(), Some("123456789012"));
        assert_eq!(p.l, vec!["a".to_string(), "1".to_string()]);
        assert_eq!(p.i, Some(40));
    }

    #[test]
    fn unusable_values_become_none_or_empty() {
        let p = probe(json!({"s": {"a": 1}, "l": {"a": 1}, "i": 40.5, "f": "x"}));
        assert_eq!(
            p,
            Probe {
                s: None,
                l: vec![],
                i: None,
                f: None
            }
        );
        let p = probe(json!({"s": null, "l": null, "i": [1], "f": null}));
        assert_eq!(
            p,
            Probe {
                s: None,
                l: vec![],
                i: None,
                f: None
            }
        );
    }
}
