//! CSRF for cookie-authenticated requests. `SameSite=Strict` already keeps other
//! sites from sending the cookie; the header is the second lock for browsers or
//! same-site subdomains where that is not enough: a state-changing request must
//! echo the session's token in `X-CSRF-Token`, which only a page of our origin can
//! read (from `GET /auth/session`). Bearer requests need no header: a browser never
//! adds an `Authorization` header on another site's behalf.

use crate::auth::oidc::secrets_match;
use axum::http::{HeaderMap, Method};

/// The request header carrying the token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// True for methods that may change state (RFC 9110 §9.2.1: not safe).
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// True when the request may go on: a safe method, or the header equals `expected`
/// (compared in constant time; exactly one header).
pub fn allows(method: &Method, headers: &HeaderMap, expected: &str) -> bool {
    if !is_unsafe(method) {
        return true;
    }
    let mut values = headers.get_all(CSRF_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(v), None) => v
            .to_str()
            .is_ok_and(|got| secrets_match(expected, got.trim())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(CSRF_HEADER, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn safe_methods_need_no_token() {
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(allows(&m, &HeaderMap::new(), "t"), "{m}");
        }
    }

    #[test]
    fn unsafe_methods_need_exactly_the_sessions_token() {
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(allows(&m, &with(&["tok"]), "tok"), "{m}");
            assert!(!allows(&m, &HeaderMap::new(), "tok"), "{m}");
            assert!(!allows(&m, &with(&["tOk"]), "tok"), "{m}");
            assert!(!allows(&m, &with(&["tok", "tok"]), "tok"), "{m}");
            assert!(!allows(&m, &with(&[""]), "tok"), "{m}");
        }
    }
}
