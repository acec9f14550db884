//! The two cookies of sign-in and how they are read back.
//!
//! * `cspm_session`: the random session id. `HttpOnly` (page scripts never see it),
//!   `SameSite=Strict` (no other site can make the browser send it), `Path=/`,
//!   `Secure` unless the public URL is plain http on loopback.
//! * `cspm_login`: the `state` of a sign-in in progress, binding the callback to
//!   the browser that started it. `SameSite=Lax`, because the provider's redirect
//!   back to `/auth/callback` is a cross-site navigation that a Strict cookie would
//!   not accompany; it lives 10 minutes and is cleared by the callback.

use axum::http::{header, HeaderMap};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "cspm_session";
/// The sign-in-in-progress cookie's name.
pub const LOGIN_COOKIE: &str = "cspm_login";

/// How cookies are written for this deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookiePolicy {
    /// Adds `Secure` (everything but loopback http).
    pub secure: bool,
}

impl CookiePolicy {
    fn attributes(self, same_site: &str, max_age: i64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("; HttpOnly; SameSite={same_site}; Path=/; Max-Age={max_age}{secure}")
    }

    /// `Set-Cookie` for a new session id, kept by the browser for `max_age` seconds.
    pub fn session(self, id: &str, max_age: i64) -> String {
        format!(
            "{SESSION_COOKIE}={id}{}",
            self.attributes("Strict", max_age.max(0))
        )
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn clear_session(self) -> String {
        format!("{SESSION_COOKIE}={}", self.attributes("Strict", 0))
    }

    /// `Set-Cookie` for a sign-in in progress.
    pub fn login(self, state: &str, max_age: i64) -> String {
        format!(
            "{LOGIN_COOKIE}={state}{}",
            self.attributes("Lax", max_age.max(0))
        )
    }

    /// `Set-Cookie` that removes the sign-in cookie.
    pub fn clear_login(self) -> String {
        format!("{LOGIN_COOKIE}={}", self.attributes("Lax", 0))
    }
}

/// The value of cookie `name` in the request's `Cookie` headers. Only values of
/// the shape we issue (base64url, 1–128 characters) are returned, so nothing
/// unexpected reaches a hash or a log line. When the name appears twice (a cookie
/// planted for a parent domain beside ours), `None`: no way to tell which is ours.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            let Some((k, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if k == name {
                if found.is_some() {
                    return None;
                }
                found = Some(v);
            }
        }
    }
    found.filter(|v| well_formed(v))
}

fn well_formed(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_session_cookie_is_httponly_strict_and_secure_off_loopback() {
        let secure = CookiePolicy { secure: true };
        assert_eq!(
            secure.session("abc", 3600),
            "cspm_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=3600; Secure"
        );
        assert_eq!(
            CookiePolicy { secure: false }.session("abc", 60),
            "cspm_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=60"
        );
        assert!(secure.clear_session().contains("Max-Age=0"));
        assert!(secure.login("st", 600).contains("SameSite=Lax"));
    }

    #[test]
    fn cookies_are_read_by_exact_name_and_shape() {
        let h = cookies(&["a=1; cspm_session=abc_DEF-9", "other=x"]);
        assert_eq!(read(&h, SESSION_COOKIE), Some("abc_DEF-9"));
        assert_eq!(read(&h, LOGIN_COOKIE), None);
        assert_eq!(read(&cookies(&["xcspm_session=abc"]), SESSION_COOKIE), None);
        assert_eq!(read(&cookies(&["cspm_session=a b"]), SESSION_COOKIE), None);
        assert_eq!(read(&cookies(&["cspm_session="]), SESSION_COOKIE), None);
        assert_eq!(
            read(
                &cookies(&["cspm_session=a", "cspm_session=b"]),
                SESSION_COOKIE
            ),
            None
        );
    }
}
