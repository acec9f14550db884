//! IAM policy documents as the IAM actions read and keep them: IAM returns a
//! document URL-encoded; it is decoded to JSON (kept as text when it is not
//! JSON, so nothing read is lost from the record), and the policy analyzer says
//! whether it still grants too much.

use crate::detect::policy::{analyze_with, PolicyContext};
use serde_json::Value;

/// A document as IAM returns it (URL-encoded JSON), as JSON; the decoded text
/// as a string when it does not parse.
pub fn decode(encoded: &str) -> Value {
    let text = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map(|t| t.into_owned())
        .unwrap_or_else(|_| encoded.to_string());
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// The document as the text a `Put*Policy` call takes back (restoring it).
pub fn as_text(doc: &Value) -> String {
    match doc {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The analyzer's risks of `doc` in `account` (`full_admin`, …; empty when it
/// grants nothing dangerous).
pub fn risks(doc: &Value, account: &str) -> Vec<String> {
    let ctx = PolicyContext {
        own_account: Some(account),
        trusted_accounts: &[],
    };
    analyze_with(doc, &ctx)
        .into_iter()
        .filter(|i| i.is_risk())
        .map(|i| snake(&format!("{i:?}")))
        .collect()
}

/// `FullAdmin` → `full_admin`, as rule files name the issues.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_are_decoded_and_judged() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let doc = decode(encoded);
        assert_eq!(
            doc,
            json!({"Version": "2012-10-17",
                   "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
        );
        assert_eq!(risks(&doc, "111122223333"), ["full_admin"]);
        // Plain JSON (as the emulator returns it) reads the same.
        assert_eq!(decode(&doc.to_string()), doc);
        let narrow = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
        assert!(risks(&narrow, "111122223333").is_empty());
        assert_eq!(decode("not json"), json!("not json"));
        assert_eq!(as_text(&json!("not json")), "not json");
    }
}
