//! Alarm severity mapping as data (`backend/rules/alarm-severity.yaml`, or an
//! `alarm-severity.yaml` in the user rules folder): alarm name pattern, namespace,
//! metric and description pattern → severity, with a default (HIGH).

use regex::Regex;
use serde::Deserialize;
use shared_types::Severity;

/// The built-in mapping.
pub const BUILTIN: &str = include_str!("../../../rules/alarm-severity.yaml");

/// A mapping file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AlarmSeverityError {
    /// YAML syntax, unknown field or wrong type.
    #[error("{file}: {source}")]
    Yaml {
        /// The file.
        file: String,
        /// serde_yaml's message.
        source: serde_yaml::Error,
    },
    /// A pattern does not compile.
    #[error("{file}: bad regex {pattern:?}: {reason}")]
    Regex {
        /// The file.
        file: String,
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    default: Severity,
    #[serde(default)]
    mappings: Vec<MappingSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingSpec {
    name: Option<String>,
    namespace: Option<String>,
    metric: Option<String>,
    description: Option<String>,
    severity: Severity,
}

#[derive(Debug, Clone)]
struct Mapping {
    name: Option<Regex>,
    namespace: Option<String>,
    metric: Option<String>,
    description: Option<Regex>,
    severity: Severity,
}

/// The compiled mapping.
#[derive(Debug, Clone)]
pub struct AlarmSeverityMap {
    default: Severity,
    mappings: Vec<Mapping>,
}

impl Default for AlarmSeverityMap {
    /// No mappings: every ALARM is HIGH.
    fn default() -> Self {
        AlarmSeverityMap {
            default: Severity::High,
            mappings: vec![],
        }
    }
}

impl AlarmSeverityMap {
    /// Parses a mapping file's text.
    pub fn from_yaml(file: &str, text: &str) -> Result<AlarmSeverityMap, AlarmSeverityError> {
        let spec: MapFile =
            serde_yaml::from_str(text).map_err(|source| AlarmSeverityError::Yaml {
                file: file.into(),
                source,
            })?;
        let re = |p: &Option<String>| -> Result<Option<Regex>, AlarmSeverityError> {
            p.as_deref()
                .map(|p| {
                    Regex::new(p).map_err(|e| AlarmSeverityError::Regex {
                        file: file.into(),
                        pattern: p.into(),
                        reason: e.to_string(),
                    })
                })
                .transpose()
        };
        let mappings = spec
            .mappings
            .iter()
            .map(|m| {
                Ok(Mapping {
                    name: re(&m.name)?,
                    namespace: m.namespace.clone(),
                    metric: m.metric.clone(),
                    description: re(&m.description)?,
                    severity: m.severity,
                })
            })
            .collect::<Result<_, AlarmSeverityError>>()?;
        Ok(AlarmSeverityMap {
            default: spec.default,
            mappings,
        })
    }

    /// The shipped mapping.
    pub fn builtin() -> Result<AlarmSeverityMap, AlarmSeverityError> {
        Self::from_yaml("alarm-severity.yaml", BUILTIN)
    }

    /// Severity of an alarm in ALARM.
    pub fn severity_for(
        &self,
        name: &str,
        namespace: &str,
        metric: &str,
        description: &str,
    ) -> Severity {
        self.mappings
            .iter()
            .find(|m| {
                m.name.as_ref().is_none_or(|r| r.is_match(name))
                    && m.namespace.as_deref().is_none_or(|n| n == namespace)
                    && m.metric.as_deref().is_none_or(|x| x == metric)
                    && m.description
                        .as_ref()
                        .is_none_or(|r| r.is_match(description))
            })
            .map_or(self.default, |m| m.severity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_mapping_wins_and_unmatched_alarms_get_the_default() {
        let m = AlarmSeverityMap::builtin().expect("builtin mapping compiles");
        assert_eq!(
            m.severity_for("RootAccountUsage", "", "", ""),
            Severity::Critical
        );
        assert_eq!(
            m.severity_for("cpu", "AWS/EC2", "CPUUtilization", ""),
            Severity::Medium
        );
        assert_eq!(
            m.severity_for("cpu", "AWS/EC2", "NetworkOut", ""),
            Severity::High
        );
        assert_eq!(
            m.severity_for("x", "", "", "owner=ops severity=low"),
            Severity::Low
        );
        assert_eq!(
            AlarmSeverityMap::default().severity_for("x", "", "", ""),
            Severity::High
        );
    }

    #[test]
    fn bad_mapping_files_are_rejected() {
        assert!(AlarmSeverityMap::from_yaml("f", "default: HIGH\nmapings: []").is_err());
        assert!(AlarmSeverityMap::from_yaml(
            "f",
            "default: HIGH\nmappings: [{name: '(', severity: LOW}]"
        )
        .is_err());
        assert!(AlarmSeverityMap::from_yaml("f", "default: SEVERE").is_err());
    }
}
