//! Who is making a request, once authenticated.

use super::Role;

/// An authenticated caller: what the audit trail names and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The name written into the audit trail and the workflow history: `local`,
    /// `api-token`, `token:NAME` for a named token, or a person's `sub` with their
    /// e-mail or name.
    pub actor: String,
    /// Who the caller is, stably: `local`, `api-token`, `token:NAME`, or the
    /// person's `sub`. What they own (an export job) is theirs by this, not by
    /// `actor`, whose label (an e-mail, a display name) may change between two
    /// sign-ins and may be the same for two people.
    pub subject: String,
    /// What the caller may do.
    pub role: Role,
}

impl Principal {
    /// The caller on loopback when no authentication is configured: acts as admin.
    pub fn local() -> Self {
        Principal {
            actor: "local".into(),
            subject: "local".into(),
            role: Role::Admin,
        }
    }

    /// The holder of the `--api-token` (an admin token kept for scripts and
    /// existing deployments).
    pub fn api_token() -> Self {
        Principal {
            actor: "api-token".into(),
            subject: "api-token".into(),
            role: Role::Admin,
        }
    }

    /// The holder of the named token `name`.
    pub fn named_token(name: &str, role: Role) -> Self {
        Principal {
            actor: format!("token:{name}"),
            subject: format!("token:{name}"),
            role,
        }
    }

    /// A person from an identity provider: `sub`, with the e-mail or display name
    /// when the provider sends one (`sub` alone is stable but unreadable).
    pub fn person(sub: &str, label: Option<&str>, role: Role) -> Self {
        let actor = match label.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => format!("{sub} ({l})"),
            None => sub.to_string(),
        };
        Principal {
            actor,
            subject: sub.to_string(),
            role,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_named_by_sub_and_label() {
        let p = Principal::person("abc-123", Some("ana@example.com"), Role::Analyst);
        assert_eq!(p.actor, "abc-123 (ana@example.com)");
        assert_eq!(
            Principal::person("abc-123", Some(" "), Role::Viewer).actor,
            "abc-123"
        );
        assert_eq!(Principal::named_token("ci", Role::Ingest).actor, "token:ci");
        // The label is for people; the subject alone says who it is.
        let renamed = Principal::person("abc-123", Some("ana@new.example"), Role::Analyst);
        assert_eq!(renamed.subject, p.subject);
        assert_ne!(renamed.actor, p.actor);
        let namesake = Principal::person("xyz-789", Some("ana@example.com"), Role::Analyst);
        assert_ne!(namesake.subject, p.subject);
    }
}
