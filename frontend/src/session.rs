//! Who is using the dashboard and what the page offers them, kept apart from the
//! browser so it is tested natively: the sign-in state read from `GET /auth/session`,
//! which controls a role sees, the sign-in link with its `return_to`, and the name
//! shown in the top bar.
//!
//! The API enforces every role itself; this only spares a viewer buttons that
//! would answer 403.

use crate::url::percent_encode;
use shared_types::{SessionInfo, SessionUser};

/// Where the dashboard stands with sign-in.
#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    /// Sign-in is not configured here (the session route answers 404, e.g.
    /// `cspm serve` open on loopback or with bearer tokens only): the page works as
    /// it always did and the API decides per request.
    NotConfigured,
    /// Signed in with this session.
    SignedIn(SessionInfo),
    /// Sign-in is configured and this browser has no live session (never signed
    /// in, signed out, or the session ended mid-use).
    SignedOut,
}

impl SignIn {
    /// The state for an answer of `GET /auth/session` with `status` other than 200;
    /// `None` when that status says nothing about sign-in (a 5xx, a proxy error), so
    /// the caller reports a failure instead of guessing. A server without browser
    /// sign-in answers 204 (one before it, 404).
    pub fn from_status(status: u16) -> Option<SignIn> {
        match status {
            401 => Some(SignIn::SignedOut),
            204 | 404 => Some(SignIn::NotConfigured),
            _ => None,
        }
    }

    /// What the page lets this user try.
    pub fn access(&self) -> Access {
        match self {
            // Without sign-in the API's own answer is the only authority; show
            // everything, as before sign-in existed.
            SignIn::NotConfigured => Access::Unrestricted,
            SignIn::SignedIn(s) => Access::Role(Role::parse(&s.role)),
            SignIn::SignedOut => Access::Role(Role::Viewer),
        }
    }
}

/// The roles of the API's route table (`docs/auth.md`), in increasing power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads findings, the summary and the live feed.
    Viewer,
    /// Viewer + workflow changes and notes.
    Analyst,
    /// Everything.
    Admin,
}

impl Role {
    /// The role named by the API; an unknown name (`ingest`, a newer role) is
    /// taken as `Viewer`, the least, as the server does.
    pub fn parse(name: &str) -> Role {
        match name {
            "admin" => Role::Admin,
            "analyst" => Role::Analyst,
            _ => Role::Viewer,
        }
    }
}

/// Something the dashboard can do that a route requires more than `viewer` for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Change findings' workflow status and note (`PATCH /findings/{id}`,
    /// `POST /findings/workflow`).
    ChangeWorkflow,
    /// Approve a remediation (`POST /findings/{id}/remediation`).
    Remediate,
}

impl Action {
    /// The least role the API's route table requires (backend/src/http/routes.rs).
    pub fn required(self) -> Role {
        match self {
            Action::ChangeWorkflow | Action::Remediate => Role::Analyst,
        }
    }
}

/// Which controls the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No sign-in here: every control, the API answers for itself.
    Unrestricted,
    /// Signed in (or about to be) with this role.
    Role(Role),
}

impl Access {
    /// True when the page offers `action`.
    pub fn allows(self, action: Action) -> bool {
        match self {
            Access::Unrestricted => true,
            Access::Role(r) => r >= action.required(),
        }
    }
}

/// The `/auth/login` link that signs in and comes back to `here` (the page's path,
/// query and fragment). `base` is the API's prefix (`""` or `/api`). A `here` the
/// server would refuse as `return_to` (not a plain same-site path) is replaced by
/// `/`, so the button always works.
pub fn login_href(base: &str, here: &str) -> String {
    let b = here.as_bytes();
    let acceptable = b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && !here.contains('\\')
        && here.len() <= 1024
        && b.iter().all(|c| (0x21..=0x7e).contains(c));
    let target = if acceptable { here } else { "/" };
    format!("{base}/auth/login?return_to={}", percent_encode(target))
}

/// The provider's sign-out page from `POST /auth/logout`, when it is a web
/// address: the page navigates there, so anything else (a `javascript:` URL from
/// a tampered answer) is dropped and the dashboard's own sign-in screen shown.
pub fn provider_logout_url(url: Option<&str>) -> Option<&str> {
    url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// How the top bar names the signed-in person: their name, else their e-mail,
/// else the provider's id for them.
pub fn user_label(user: &SessionUser) -> String {
    [&user.name, &user.email]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or(&user.sub)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn session(role: &str) -> SignIn {
        SignIn::SignedIn(SessionInfo {
            user: SessionUser {
                sub: "alice".into(),
                email: Some("alice@example.com".into()),
                name: None,
            },
            role: role.into(),
            expires_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
            csrf_token: "t".into(),
        })
    }

    #[test]
    fn only_analyst_and_admin_see_workflow_controls() {
        let sees = |s: SignIn| s.access().allows(Action::ChangeWorkflow);
        let applies = |s: SignIn| s.access().allows(Action::Remediate);
        assert!(!applies(session("viewer")) && !applies(SignIn::SignedOut));
        assert!(applies(session("analyst")) && applies(session("admin")));
        assert!(!sees(session("viewer")));
        assert!(sees(session("analyst")));
        assert!(sees(session("admin")));
        // Unknown and ingest-only roles get the least, as on the server.
        assert!(!sees(session("ingest")));
        assert!(!sees(session("Admin")));
        assert!(!sees(SignIn::SignedOut));
        // No sign-in configured: everything is offered, as before sign-in existed.
        assert!(sees(SignIn::NotConfigured));
    }

    #[test]
    fn session_status_maps_to_sign_in_state() {
        assert_eq!(SignIn::from_status(401), Some(SignIn::SignedOut));
        assert_eq!(SignIn::from_status(204), Some(SignIn::NotConfigured));
        assert_eq!(SignIn::from_status(404), Some(SignIn::NotConfigured));
        assert_eq!(SignIn::from_status(503), None);
        assert_eq!(SignIn::from_status(500), None);
    }

    #[test]
    fn login_link_keeps_the_page_encoded_in_return_to() {
        assert_eq!(login_href("", "/"), "/auth/login?return_to=%2F");
        assert_eq!(
            login_href("/api", "/ui/findings?severity=CRITICAL&limit=50#top"),
            "/api/auth/login?return_to=%2Fui%2Ffindings%3Fseverity%3DCRITICAL%26limit%3D50%23top"
        );
    }

    #[test]
    fn login_link_falls_back_to_the_start_page_for_paths_the_server_refuses() {
        for bad in [
            "",
            "//evil.example/x",
            "/\\evil",
            "/a b",
            "/ü",
            "ui/findings",
        ] {
            assert_eq!(login_href("", bad), "/auth/login?return_to=%2F", "{bad:?}");
        }
        assert_eq!(
            login_href("", &format!("/{}", "a".repeat(1100))),
            "/auth/login?return_to=%2F"
        );
    }

    #[test]
    fn only_web_addresses_are_followed_after_sign_out() {
        let end = "https://idp.example/logout?id_token_hint=x&client_id=c";
        assert_eq!(provider_logout_url(Some(end)), Some(end));
        assert_eq!(
            provider_logout_url(Some("http://127.0.0.1:9400/logout")),
            Some("http://127.0.0.1:9400/logout")
        );
        assert_eq!(provider_logout_url(Some("javascript:alert(1)")), None);
        assert_eq!(provider_logout_url(Some("//idp.example/logout")), None);
        assert_eq!(provider_logout_url(None), None);
    }

    #[test]
    fn top_bar_names_by_name_then_email_then_sub() {
        let mut u = SessionUser {
            sub: "00u1".into(),
            email: Some("a@example.com".into()),
            name: Some("Alice Liddell".into()),
        };
        assert_eq!(user_label(&u), "Alice Liddell");
        u.name = Some("  ".into());
        assert_eq!(user_label(&u), "a@example.com");
        u.email = None;
        assert_eq!(user_label(&u), "00u1");
    }
}
