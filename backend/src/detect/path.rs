//! Paths into JSON events: `requestParameters.ipPermissions.items[*].fromPort`,
//! `userIdentity.sessionContext.attributes.mfaAuthenticated`,
//! `requestParameters.policyDocument.@json.Statement`.
//!
//! A path can yield many values (wildcards, and keys applied to arrays map over the
//! elements, because real events put lists where strings are expected). `@json`
//! decodes a string that holds a JSON document — IAM events carry policies as
//! (sometimes URL-encoded) JSON strings — so rules can look inside them. `@name`
//! turns an ARN or path into its last segment (`arn:aws:iam::1:user/ops/alice` →
//! `alice`, `arn:aws:sts::1:assumed-role/Admin/alice` → `alice`), which is how a
//! caller is compared with the user an IAM call targets. `@account` is the account
//! field of an ARN (`arn:aws:kms:us-east-1:999999999999:key/1` → `999999999999`;
//! nothing for text that is not an ARN with an account), which is how a key or
//! resource is told to belong to another account.

use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A path could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad path {path:?}: {reason}")]
pub struct PathError {
    /// The path text as written.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
    Wildcard,
    Json,
    Name,
    Account,
}

/// A parsed path. `$.` at the start anchors it at the event root when used inside
/// a `for_any` scope (where plain paths are relative to the element); `@` alone is
/// the element itself (for lists of plain values).
#[derive(Clone, PartialEq, Eq)]
pub struct Path {
    text: String,
    root: bool,
    segs: Vec<Seg>,
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({})", self.text)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Path {
    /// Parses `a.b[0].c[*].@json.d`; keys may hold any character but `.`, `[`, `]`.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let err = |reason: &str| PathError {
            path: text.to_string(),
            reason: reason.to_string(),
        };
        let mut rest = text.trim();
        let mut root = false;
        if rest == "$" || rest == "@" {
            // `$` is the record itself, `@` the value in scope (a `for_any` element).
            return Ok(Path {
                text: text.to_string(),
                root: rest == "$",
                segs: vec![],
            });
        }
        if let Some(r) = rest.strip_prefix("$.") {
            root = true;
            rest = r;
        }
        if rest.is_empty() {
            return Err(err("empty path"));
        }
        let mut segs = Vec::new();
        for part in rest.split('.') {
            if part.is_empty() {
                return Err(err("empty segment (doubled or trailing '.')"));
            }
            let (key, mut brackets) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.contains(']') {
                return Err(err("unbalanced ']'"));
            }
            match key {
                "" => {}
                "*" => segs.push(Seg::Wildcard),
                "@json" => segs.push(Seg::Json),
                "@name" => segs.push(Seg::Name),
                "@account" => segs.push(Seg::Account),
                k if k.starts_with('@') => {
                    return Err(err(&format!(
                        "unknown transform {k:?} (only @json, @name and @account)"
                    )))
                }
                k => segs.push(Seg::Key(k.to_string())),
            }
            if key.is_empty() && brackets.is_empty() {
                return Err(err("empty segment"));
            }
            while !brackets.is_empty() {
                let Some(close) = brackets.find(']') else {
                    return Err(err("unclosed '['"));
                };
                if !brackets.starts_with('[') {
                    return Err(err("text after ']' must be another '[...]' or '.'"));
                }
                let inner = &brackets[1..close];
                match inner {
                    "*" => segs.push(Seg::Wildcard),
                    n => match n.parse::<usize>() {
                        Ok(i) => segs.push(Seg::Index(i)),
                        Err(_) => return Err(err(&format!("index {n:?} is not a number or '*'"))),
                    },
                }
                brackets = &brackets[close + 1..];
            }
        }
        Ok(Path {
            text: text.to_string(),
            root,
            segs,
        })
    }

    /// Whether the path starts with `$.` (anchored at the event root).
    pub fn is_rooted(&self) -> bool {
        self.root
    }

    /// The first key of the path, if it starts with one (used by lint to check the
    /// field exists in the source's event schema).
    pub fn first_key(&self) -> Option<&str> {
        match self.segs.first() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// Calls `f` on every value the path reaches until `f` returns true; returns
    /// whether it did. `root` is used for `$.` paths, `here` for the others.
    pub fn visit(&self, root: &Value, here: &Value, f: &mut dyn FnMut(&Value) -> bool) -> bool {
        let start = if self.root { root } else { here };
        visit_from(start, &self.segs, f)
    }
}

fn visit_from(v: &Value, segs: &[Seg], f: &mut dyn FnMut(&Value) -> bool) -> bool {
    let Some((seg, rest)) = segs.split_first() else {
        return f(v);
    };
    match (seg, v) {
        (Seg::Key(k), Value::Object(m)) => m.get(k).is_some_and(|c| visit_from(c, rest, f)),
        // A key applied to a list maps over its elements: real events hold lists
        // where documentation shows one value.
        (Seg::Key(_), Value::Array(items)) => items.iter().any(|c| visit_from(c, segs, f)),
        (Seg::Index(i), Value::Array(items)) => {
            items.get(*i).is_some_and(|c| visit_from(c, rest, f))
        }
        (Seg::Wildcard, Value::Array(items)) => items.iter().any(|c| visit_from(c, rest, f)),
        (Seg::Wildcard, Value::Object(m)) => m.values().any(|c| visit_from(c, rest, f)),
        (Seg::Json, Value::String(s)) => match decode_json_text(s) {
            Some(decoded) => visit_from(&decoded, rest, f),
            None => false,
        },
        // Already-decoded documents (some producers log the policy as an object).
        (Seg::Json, Value::Object(_) | Value::Array(_)) => visit_from(v, rest, f),
        (Seg::Name, Value::String(s)) => {
            visit_from(&Value::String(last_segment(s).to_string()), rest, f)
        }
        (Seg::Name, Value::Array(items)) => items.iter().any(|c| visit_from(c, segs, f)),
        (Seg::Account, Value::String(s)) => match arn_account(s) {
            Some(account) => visit_from(&Value::String(account.to_string()), rest, f),
            None => false,
        },
        (Seg::Account, Value::Array(items)) => items.iter().any(|c| visit_from(c, segs, f)),
        _ => false,
    }
}

/// The account field of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`),
/// when it is there and not empty.
pub fn arn_account(s: &str) -> Option<&str> {
    let mut parts = s.trim().splitn(6, ':');
    (parts.next() == Some("arn") && parts.clone().count() == 5)
        .then(|| parts.nth(3))
        .flatten()
        .filter(|a| !a.is_empty())
}

/// The last `/`-separated segment of an ARN or path, else the part after the last
/// `:` (`arn:aws:iam::123456789012:root` → `root`).
pub fn last_segment(s: &str) -> &str {
    let s = s.trim();
    match s.rfind('/') {
        Some(i) => &s[i + 1..],
        None => s.rsplit(':').next().unwrap_or(s),
    }
}

/// Decodes a string holding JSON, URL-decoding it first when it is percent-encoded
/// (IAM's `GetPolicyVersion` and older CloudTrail records encode policy documents).
pub fn decode_json_text(s: &str) -> Option<Value> {
    let t = s.trim();
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    if t.contains('%') {
        let decoded: Cow<'_, str> = percent_encoding::percent_decode_str(t).decode_utf8().ok()?;
        let plus_fixed = decoded.replace('+', " ");
        return serde_json::from_str(&decoded)
            .ok()
            .or_else(|| serde_json::from_str(&plus_fixed).ok());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all(p: &str, v: &Value) -> Vec<Value> {
        let path = Path::parse(p).expect("valid path");
        let mut out = vec![];
        path.visit(v, v, &mut |x| {
            out.push(x.clone());
            false
        });
        out
    }

    #[test]
    fn wildcards_indexes_and_implicit_array_mapping_reach_every_value() {
        let v = json!({"a": {"items": [{"p": 1}, {"p": 2}, {"q": 3}]}});
        assert_eq!(all("a.items[*].p", &v), vec![json!(1), json!(2)]);
        assert_eq!(all("a.items.p", &v), vec![json!(1), json!(2)]);
        assert_eq!(all("a.items[1].p", &v), vec![json!(2)]);
        assert_eq!(all("a.*[2].q", &v), vec![json!(3)]);
        assert!(all("a.missing", &v).is_empty());
    }

    #[test]
    fn json_segment_decodes_plain_and_url_encoded_policy_strings() {
        let plain = json!({"doc": "{\"Statement\":[{\"Effect\":\"Allow\"}]}"});
        assert_eq!(
            all("doc.@json.Statement.Effect", &plain),
            vec![json!("Allow")]
        );
        let enc = json!({"doc": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%7D%5D%7D"});
        assert_eq!(
            all("doc.@json.Statement[0].Effect", &enc),
            vec![json!("Deny")]
        );
        let obj = json!({"doc": {"Statement": {"Effect": "Allow"}}});
        assert_eq!(
            all("doc.@json.Statement.Effect", &obj),
            vec![json!("Allow")]
        );
        assert!(all("doc.@json.x", &json!({"doc": "not json"})).is_empty());
    }

    #[test]
    fn name_segment_is_the_last_part_of_an_arn() {
        let v = json!({"a": ["arn:aws:iam::1:user/ops/alice", "arn:aws:sts::1:assumed-role/Admin/bob", "arn:aws:iam::1:root"]});
        assert_eq!(
            all("a.@name", &v),
            vec![json!("alice"), json!("bob"), json!("root")]
        );
        assert!(all("n.@name", &json!({"n": 5})).is_empty());
    }

    #[test]
    fn account_is_the_fifth_field_of_an_arn() {
        let v = json!({"k": ["arn:aws:kms:us-east-1:999999999999:key/1", "arn:aws:s3:::bucket", "alias/mine", "arn:aws:iam::111122223333:role/a:b"]});
        assert_eq!(
            all("k.@account", &v),
            vec![json!("999999999999"), json!("111122223333")]
        );
    }

    #[test]
    fn malformed_paths_are_rejected_with_a_reason() {
        for bad in ["", "a..b", "a.", "a[", "a[x]", "a]b", "@yaml.x", "a[0]b"] {
            assert!(Path::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let rooted = Path::parse("$.eventName").expect("valid");
        assert!(rooted.is_rooted());
        assert_eq!(rooted.first_key(), Some("eventName"));
    }
}
