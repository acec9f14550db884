//! Detection settings: the rules folder, suppressions and the account override,
//! built into the [`Normalizer`] every writer shares.

use super::ENV_ACCOUNT_ID_OVERRIDE;
use crate::detect::finding::FindingSettings;
use crate::detect::on_demand::OnDemandRules;
use crate::detect::ruleset::{LoadError, RuleSet};
use crate::detect::settings::DetectionSettings;
use crate::detect::suppress::{SuppressionError, Suppressions};
use crate::sources::cloudwatch_alarm::{AlarmSeverityError, AlarmSeverityMap};
use crate::sources::Normalizer;
use std::path::PathBuf;

/// Where detection settings come from: rules folder, suppressions, account override.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetectionConfig {
    /// User rules folder.
    pub rules_dir: Option<PathBuf>,
    /// Suppressions file.
    pub suppressions: Option<PathBuf>,
    /// Account id override.
    pub account_override: Option<String>,
}

/// Detection settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DetectionConfigError {
    /// A rule file is invalid.
    #[error(transparent)]
    Rules(#[from] LoadError),
    /// The suppressions file is invalid.
    #[error(transparent)]
    Suppressions(#[from] SuppressionError),
    /// The alarm severity mapping is invalid.
    #[error(transparent)]
    AlarmSeverity(#[from] AlarmSeverityError),
    /// The account override is not an account id.
    #[error("{ENV_ACCOUNT_ID_OVERRIDE}: {0:?} is not a 12-digit account id")]
    Account(String),
}

impl DetectionConfig {
    /// Builds the normalizer these settings describe.
    pub fn normalizer(&self) -> Result<Normalizer, DetectionConfigError> {
        let account_override = match self.account_override.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => {
                Some(a.to_string())
            }
            Some(a) => return Err(DetectionConfigError::Account(a.to_string())),
        };
        // A rules folder is compiled now, so a broken rule stops the start-up; the
        // built-in pack alone waits for the first CloudTrail event.
        let rules = match self.rules_dir.as_deref() {
            Some(dir) => OnDemandRules::compiled(RuleSet::with_user_dir(Some(dir))?),
            None => OnDemandRules::builtin_with(DetectionSettings::builtin()),
        };
        let mapping = self
            .rules_dir
            .as_ref()
            .map(|d| d.join("alarm-severity.yaml"))
            .filter(|p| p.is_file());
        let alarm_severity = match mapping {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|source| LoadError::Io {
                    path: p.clone(),
                    source,
                })?;
                AlarmSeverityMap::from_yaml(&p.display().to_string(), &text)?
            }
            None => AlarmSeverityMap::builtin()?,
        };
        let suppressions = match &self.suppressions {
            Some(p) => Suppressions::load(p)?,
            None => Suppressions::default(),
        };
        Ok(Normalizer {
            rules,
            suppressions,
            alarm_severity,
            settings: FindingSettings { account_override },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_pack_waits_for_cloudtrail_and_a_rules_folder_is_checked_at_start() {
        let plain = DetectionConfig::default().normalizer().unwrap();
        assert!(!plain.rules.is_compiled());

        let dir = tempfile::tempdir().unwrap();
        let rule = include_str!("../../rules/access-key-created.yaml").replace(
            "id: aws.iam.access-key-created",
            "id: org.access-key-created",
        );
        std::fs::write(dir.path().join("mine.yaml"), rule).unwrap();
        let config = DetectionConfig {
            rules_dir: Some(dir.path().to_path_buf()),
            ..DetectionConfig::default()
        };
        let with_folder = config.normalizer().unwrap();
        assert!(with_folder.rules.is_compiled());
        assert!(with_folder
            .rules
            .get()
            .rules()
            .iter()
            .any(|r| r.spec.id == "org.access-key-created"));

        std::fs::write(dir.path().join("broken.yaml"), "id: org.broken\n").unwrap();
        assert!(config.normalizer().is_err());
    }
}
