//! Who may do what: the four roles and how claims and names map to them.

use std::fmt;
use std::str::FromStr;

/// A role. `Viewer < Analyst < Admin` each include everything the one before may
/// do; `Ingest` is a side branch for machines that only deliver events: it may
/// `POST /events` and nothing else (not even read), and `Analyst` and `Admin`
/// include it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Write events only (`POST /events`); for named tokens given to event shippers.
    Ingest,
    /// Read findings, summary, export, live updates.
    Viewer,
    /// Viewer plus workflow changes and notes, and event ingest.
    Analyst,
    /// Everything, including `/metrics` and settings.
    Admin,
}

/// Every role, for tables and messages.
pub const ROLES: [Role; 4] = [Role::Viewer, Role::Analyst, Role::Admin, Role::Ingest];

impl Role {
    /// The name used in configuration, tokens, claims and `x-required-role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// True when a principal with this role may do what `required` allows.
    pub fn includes(self, required: Role) -> bool {
        match self {
            Role::Admin => true,
            Role::Analyst => required != Role::Admin,
            Role::Viewer => required == Role::Viewer,
            Role::Ingest => required == Role::Ingest,
        }
    }

    /// The role a person gets from the groups (or role claim values) their identity
    /// provider sends: the highest of `viewer`, `analyst`, `admin` among them, and
    /// `viewer` when none is known — never more. `ingest` is not taken from claims:
    /// it is a token role for machines, and an unknown or machine-only group must
    /// not leave a signed-in person unable to read.
    pub fn from_groups<I, S>(groups: I) -> Role
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        groups
            .into_iter()
            .filter_map(|g| g.as_ref().parse::<Role>().ok())
            .filter(|r| *r != Role::Ingest)
            .fold(
                Role::Viewer,
                |best, r| if r.includes(best) { r } else { best },
            )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a role (`cspm tokens create --role` refuses it; claims
/// with it are ignored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected viewer, analyst, admin or ingest")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    /// Case-insensitive, surrounding blanks ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ingest" => Ok(Role::Ingest),
            "viewer" => Ok(Role::Viewer),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            _ => Err(UnknownRole(s.chars().take(64).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_case_insensitively_and_anything_else_is_refused() {
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!(" analyst ".parse::<Role>(), Ok(Role::Analyst));
        assert_eq!("VIEWER".parse::<Role>(), Ok(Role::Viewer));
        assert_eq!("ingest".parse::<Role>(), Ok(Role::Ingest));
        for bad in ["", "root", "administrator", "admin,viewer"] {
            assert!(bad.parse::<Role>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn groups_give_the_highest_known_role_and_unknown_or_none_give_viewer() {
        assert_eq!(
            Role::from_groups(["viewer", "admin", "analyst"]),
            Role::Admin
        );
        assert_eq!(Role::from_groups(["Analyst", "viewer"]), Role::Analyst);
        assert_eq!(Role::from_groups(["ops", "Domain Admins"]), Role::Viewer);
        assert_eq!(Role::from_groups(Vec::<String>::new()), Role::Viewer);
        // A machine role from a directory never replaces a person's read access.
        assert_eq!(Role::from_groups(["ingest"]), Role::Viewer);
        assert_eq!(Role::from_groups(["ingest", "analyst"]), Role::Analyst);
    }

    #[test]
    fn each_role_includes_exactly_what_it_may_do() {
        use Role::*;
        let allowed = |r: Role| {
            ROLES
                .into_iter()
                .filter(|q| r.includes(*q))
                .collect::<Vec<_>>()
        };
        assert_eq!(allowed(Viewer), [Viewer]);
        assert_eq!(allowed(Analyst), [Viewer, Analyst, Ingest]);
        assert_eq!(allowed(Admin), [Viewer, Analyst, Admin, Ingest]);
        assert_eq!(allowed(Ingest), [Ingest]);
    }
}
