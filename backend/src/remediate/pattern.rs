//! `*` patterns, as the remediation file writes protected principals
//! (`arn:aws:iam::*:role/break-glass-*`), accounts and regions. Only `*` is
//! special (any run of characters, `:` and `/` included); everything else matches
//! itself, case-sensitively, as ARNs compare.

/// True when `text` matches `pattern` as a whole.
pub fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    // No `*`: the only part is the whole pattern.
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        // Leftmost match keeps the most text for the parts after it.
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// True when any of `patterns` matches `text`.
pub fn any_matches(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| matches(p, text))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn star_spans_any_text_and_the_rest_is_literal() {
        let cases = [
            ("*", "", true),
            ("*", "anything:at/all", true),
            ("123456789012", "123456789012", true),
            ("123456789012", "1234567890123", false),
            ("us-*", "us-east-1", true),
            ("us-*", "eu-west-1", false),
            (
                "arn:aws:iam::*:role/break-glass-*",
                "arn:aws:iam::123456789012:role/break-glass-alice",
                true,
            ),
            (
                "arn:aws:iam::*:role/break-glass-*",
                "arn:aws:iam::123456789012:role/ops",
                false,
            ),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXcYYb", false),
            // The last part must not reuse characters a middle part consumed.
            ("*ab*ab", "ab", false),
            ("*ab*ab", "abab", true),
            ("Role/*", "role/x", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(matches(pattern, text), want, "{pattern:?} vs {text:?}");
        }
    }
}
