//! The organisation's own lists (`detection-settings.yaml`): decoy resources,
//! automation principals, usual instance types, trusted accounts.
//!
//! The built-in file (`backend/rules/detection-settings.yaml`) ships every list
//! empty; a `detection-settings.yaml` in the user rules folder replaces it whole.
//! Rules name the lists they cannot work without in `match.requires`, and a rule
//! whose required list is empty never fires: no list, no guesses, no noise.

use super::yaml_file::{self, YamlFileError};
use serde::Deserialize;
use std::path::Path;

/// File name of the settings, in `backend/rules/` and in a user rules folder.
pub const FILE_NAME: &str = "detection-settings.yaml";

/// The built-in (empty) settings file, embedded.
pub const BUILTIN: &str = include_str!("../../rules/detection-settings.yaml");

/// The settings file could not be read or parsed.
pub type SettingsError = YamlFileError;

/// One named list a rule can use (`in_setting: automation_principals`,
/// `requires: [usual_instance_types]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingList {
    /// Decoy resource names, ARNs or key ids.
    HoneytokenResources,
    /// ARN patterns of CI/CD and deployment principals.
    AutomationPrincipals,
    /// Instance type patterns the organisation launches.
    UsualInstanceTypes,
    /// Account ids trusted besides the event's own account.
    TrustedAccounts,
}

impl SettingList {
    /// The list's key in `detection-settings.yaml`.
    pub fn key(self) -> &'static str {
        match self {
            SettingList::HoneytokenResources => "honeytoken_resources",
            SettingList::AutomationPrincipals => "automation_principals",
            SettingList::UsualInstanceTypes => "usual_instance_types",
            SettingList::TrustedAccounts => "trusted_accounts",
        }
    }
}

/// The organisation's lists (all empty by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionSettings {
    /// Decoy resources nobody should touch.
    #[serde(default)]
    pub honeytoken_resources: Vec<String>,
    /// Principals whose changes are expected.
    #[serde(default)]
    pub automation_principals: Vec<String>,
    /// Instance types launched on purpose.
    #[serde(default)]
    pub usual_instance_types: Vec<String>,
    /// Accounts trusted besides the event's own.
    #[serde(default)]
    pub trusted_accounts: Vec<String>,
}

impl DetectionSettings {
    /// Parses settings text (`origin` names it in errors).
    pub fn from_yaml(origin: &str, text: &str) -> Result<DetectionSettings, SettingsError> {
        // An empty file (or one with only comments) is the empty settings.
        if text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#')
        }) {
            return Ok(DetectionSettings::default());
        }
        yaml_file::parse(origin, text)
    }

    /// The built-in settings (every list empty).
    pub fn builtin() -> DetectionSettings {
        DetectionSettings::from_yaml(FILE_NAME, BUILTIN).expect("built-in settings parse (tested)")
    }

    /// `dir/detection-settings.yaml` when it exists, else the built-in settings.
    pub fn for_dir(dir: Option<&Path>) -> Result<DetectionSettings, SettingsError> {
        let Some(path) = dir.map(|d| d.join(FILE_NAME)).filter(|p| p.is_file()) else {
            return Ok(DetectionSettings::builtin());
        };
        DetectionSettings::from_file(&path)
    }

    /// Reads a settings file given by name (`cspm rules eval --settings`).
    pub fn from_file(path: &Path) -> Result<DetectionSettings, SettingsError> {
        let text = yaml_file::read_text(path)?;
        DetectionSettings::from_yaml(&path.display().to_string(), &text)
    }

    /// The entries of one list.
    pub fn list(&self, which: SettingList) -> &[String] {
        match which {
            SettingList::HoneytokenResources => &self.honeytoken_resources,
            SettingList::AutomationPrincipals => &self.automation_principals,
            SettingList::UsualInstanceTypes => &self.usual_instance_types,
            SettingList::TrustedAccounts => &self.trusted_accounts,
        }
    }
}

/// Whether `text` matches a pattern where `*` stands for any run of characters.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        // No `*`: the whole text must be the pattern.
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_settings_are_all_empty() {
        assert_eq!(DetectionSettings::builtin(), DetectionSettings::default());
    }

    #[test]
    fn unknown_keys_are_errors_and_a_user_file_replaces_the_builtin_one() {
        let err = DetectionSettings::from_yaml("x.yaml", "honeytoken_resource: [a]\n")
            .expect_err("typo must fail");
        assert!(err.to_string().contains("honeytoken_resource"), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            DetectionSettings::for_dir(Some(dir.path())).expect("no file: builtin"),
            DetectionSettings::default()
        );
        std::fs::write(
            dir.path().join(FILE_NAME),
            "usual_instance_types: [t3.*]\ntrusted_accounts: ['111122223333']\n",
        )
        .expect("write");
        let s = DetectionSettings::for_dir(Some(dir.path())).expect("loads");
        assert_eq!(s.list(SettingList::UsualInstanceTypes), ["t3.*"]);
        assert_eq!(s.list(SettingList::TrustedAccounts), ["111122223333"]);
        assert!(s.list(SettingList::HoneytokenResources).is_empty());
        // Each list's key is the one the file spells.
        let keyed: DetectionSettings = serde_yaml::from_str(&format!(
            "{}: [a]\n{}: [b]\n{}: [c]\n{}: [d]\n",
            SettingList::HoneytokenResources.key(),
            SettingList::AutomationPrincipals.key(),
            SettingList::UsualInstanceTypes.key(),
            SettingList::TrustedAccounts.key()
        ))
        .expect("keys are the file's");
        assert_eq!(keyed.list(SettingList::UsualInstanceTypes), ["c"]);
        assert_eq!(keyed.list(SettingList::TrustedAccounts), ["d"]);
    }

    #[test]
    fn globs_match_prefixes_suffixes_and_inner_runs() {
        assert!(glob_matches("t3.*", "t3.micro"));
        assert!(!glob_matches("t3.*", "p3.2xlarge"));
        assert!(glob_matches(
            "arn:aws:iam::*:role/ci-*",
            "arn:aws:iam::111122223333:role/ci-deploy"
        ));
        assert!(!glob_matches(
            "arn:aws:iam::*:role/ci-*",
            "arn:aws:iam::111122223333:user/ci-deploy"
        ));
        assert!(glob_matches("exact", "exact"));
        assert!(!glob_matches("exact", "exactly"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*b*c", "aXbYc"));
        assert!(!glob_matches("a*b*c", "aXcYb"));
    }
}
