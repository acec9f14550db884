//! Where the browser goes after signing in. Only a path on our own origin is
//! accepted — never an absolute URL, a scheme-relative `//host`, or a backslash
//! trick browsers read as one — so `/auth/login?return_to=` cannot be used to send
//! a freshly signed-in user to another site (an open redirect).

/// Where to go when `return_to` is absent or refused.
pub const DEFAULT_RETURN_TO: &str = "/";

/// Longest `return_to` kept (it is stored with the sign-in attempt).
const MAX_LEN: usize = 1024;

/// `value` when it is a same-origin absolute path, else `None`.
pub fn safe_return_to(value: &str) -> Option<&str> {
    let b = value.as_bytes();
    let ok = value.len() <= MAX_LEN
        && b.first() == Some(&b'/')
        // `//evil.example` and `/\evil.example` are read as another host.
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && !value.contains('\\')
        // Visible ASCII only: controls (a tab inside `/\t/evil`) are dropped by URL
        // parsers, turning what we checked into something else, and the value goes
        // into a `Location` header as it is. Other characters arrive percent-encoded.
        && b.iter().all(|c| (0x21..=0x7e).contains(c));
    ok.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_paths_are_kept() {
        for ok in [
            "/",
            "/ui/findings?severity=CRITICAL",
            "/ui/findings/abc#note",
        ] {
            assert_eq!(safe_return_to(ok), Some(ok));
        }
    }

    #[test]
    fn anything_that_can_leave_the_origin_is_refused() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "javascript:alert(1)",
            "ui/findings",
            "",
            "/a\\b",
            "/ui/ü",
            "/ui/a b",
        ] {
            assert_eq!(safe_return_to(bad), None, "{bad:?}");
        }
        assert_eq!(safe_return_to(&format!("/{}", "a".repeat(2000))), None);
    }
}
