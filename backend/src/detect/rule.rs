//! The rule model: one YAML file per rule, shipped inside the binary
//! (`backend/rules/*.yaml`, listed in `pack.rs`), each with its own embedded test
//! events.

use super::condition::{Condition, ConditionError};
pub use super::pack::BUILTIN;
use super::settings::{DetectionSettings, SettingList};
use super::template::{Template, TemplateError};
use serde::Deserialize;
use serde_json::Value;
use shared_types::Severity;

/// A rule file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// YAML syntax, unknown field or wrong type.
    #[error("{file}: {source}")]
    Yaml {
        /// File the rule came from.
        file: String,
        /// serde_yaml's message (names unknown fields).
        source: serde_yaml::Error,
    },
    /// The `match.where` condition does not compile.
    #[error("{file}: rule {id}: {source}")]
    Condition {
        /// File the rule came from.
        file: String,
        /// Rule id.
        id: String,
        /// What is wrong.
        source: ConditionError,
    },
    /// A dedup window is not a duration.
    #[error("{file}: rule {id}: bad dedup window {window:?} (use e.g. 90s, 15m, 1h, 1d)")]
    Window {
        /// File the rule came from.
        file: String,
        /// Rule id.
        id: String,
        /// The window as written.
        window: String,
    },
    /// A template does not parse.
    #[error("{file}: rule {id}: {source}")]
    Template {
        /// File the rule came from.
        file: String,
        /// Rule id.
        id: String,
        /// What is wrong.
        source: TemplateError,
    },
}

/// How to fix, in words and as a link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    /// What to do.
    pub text: String,
    /// Documentation link.
    pub url: Option<String>,
}

/// Which events a rule looks at.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// `eventSource` values (any of).
    #[serde(default)]
    pub source: Vec<String>,
    /// `eventName` values (any of). A trailing `*` matches a prefix (Lambda's
    /// `AddPermission20150331v2`); `*` alone matches every event.
    pub name: Vec<String>,
    /// Also match calls that failed (`errorCode` or `errorMessage` set); off by
    /// default because a denied call changed nothing.
    #[serde(default)]
    pub include_failed: bool,
    /// Settings lists the rule cannot work without; while one is empty
    /// (`detection-settings.yaml` ships them empty) the rule never fires.
    #[serde(default)]
    pub requires: Vec<SettingList>,
    /// Further conditions.
    #[serde(default, rename = "where")]
    pub condition: Option<serde_yaml::Value>,
}

/// One embedded test event and its expected outcome.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTest {
    /// What the case shows.
    pub name: String,
    /// Whether the rule must fire.
    pub expect: bool,
    /// Settings the case runs with (for rules that read the organisation's lists);
    /// absent: the shipped, empty settings.
    #[serde(default)]
    pub settings: Option<DetectionSettings>,
    /// The event (raw CloudTrail record or EventBridge envelope).
    pub event: Value,
}

/// A rule file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Stable id (becomes the finding's generator id).
    pub id: String,
    /// Title template.
    pub title: String,
    /// Severity label.
    pub severity: Severity,
    /// Description template.
    pub description: String,
    /// How to fix.
    pub remediation: Remediation,
    /// MITRE ATT&CK technique ids.
    #[serde(default)]
    pub mitre: Vec<String>,
    /// Event selection.
    #[serde(rename = "match")]
    pub matcher: MatchSpec,
    /// Resources the finding is about (templates); default: the event's own
    /// `resources`, else the account.
    #[serde(default)]
    pub resources: Vec<ResourceSpec>,
    /// Folds repeats into one finding per key and time window.
    #[serde(default)]
    pub dedup: Option<DedupSpec>,
    /// Embedded test cases.
    #[serde(default)]
    pub tests: Vec<RuleTest>,
}

/// One resource of a rule's findings, as templates over the event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSpec {
    /// ASFF resource type, e.g. `AwsIamUser`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Id template, e.g. `{{responseElements.user.arn}}`.
    pub id: String,
}

/// Repeats of the same key within one window update a single finding.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupSpec {
    /// Key template, e.g. `{{userIdentity.arn}}`.
    pub key: String,
    /// Window length: `90s`, `15m`, `1h`, `1d`.
    pub window: String,
}

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written.
    pub spec: RuleFile,
    /// Compiled `where`.
    pub condition: Option<Condition>,
    /// Compiled title.
    pub title: Template,
    /// Compiled description.
    pub description: Template,
    /// Compiled resource templates (type, id).
    pub resources: Vec<(String, Template)>,
    /// Compiled dedup key and window in seconds.
    pub dedup: Option<(Template, i64)>,
    /// A list named in `match.requires` is empty: the rule never fires.
    pub inert: bool,
}

/// Parses `90s`, `15m`, `1h`, `1d` into seconds (positive only).
pub fn parse_window(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: i64 = num.parse().ok().filter(|n| *n > 0)?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl Rule {
    /// Parses and compiles one rule file with the shipped (empty) settings.
    pub fn from_yaml(file: &str, text: &str) -> Result<Rule, RuleError> {
        Rule::from_yaml_with(file, text, &DetectionSettings::default())
    }

    /// Parses and compiles one rule file with the organisation's settings.
    pub fn from_yaml_with(
        file: &str,
        text: &str,
        settings: &DetectionSettings,
    ) -> Result<Rule, RuleError> {
        let spec: RuleFile = serde_yaml::from_str(text).map_err(|source| RuleError::Yaml {
            file: file.to_string(),
            source,
        })?;
        Rule::compile(file, spec, settings)
    }

    /// Compiles a parsed rule file.
    pub fn compile(
        file: &str,
        spec: RuleFile,
        settings: &DetectionSettings,
    ) -> Result<Rule, RuleError> {
        let id = spec.id.clone();
        let condition = match &spec.matcher.condition {
            Some(y) => Some(Condition::compile_with(y, settings).map_err(|source| {
                RuleError::Condition {
                    file: file.into(),
                    id: id.clone(),
                    source,
                }
            })?),
            None => None,
        };
        let tpl = |t: &str| {
            Template::parse(t).map_err(|source| RuleError::Template {
                file: file.into(),
                id: id.clone(),
                source,
            })
        };
        let title = tpl(&spec.title)?;
        let description = tpl(&spec.description)?;
        let resources = spec
            .resources
            .iter()
            .map(|r| Ok((r.resource_type.clone(), tpl(&r.id)?)))
            .collect::<Result<Vec<_>, RuleError>>()?;
        let dedup = match &spec.dedup {
            Some(d) => {
                let secs = parse_window(&d.window).ok_or_else(|| RuleError::Window {
                    file: file.into(),
                    id: id.clone(),
                    window: d.window.clone(),
                })?;
                Some((tpl(&d.key)?, secs))
            }
            None => None,
        };
        let inert = spec
            .matcher
            .requires
            .iter()
            .any(|l| settings.list(*l).is_empty());
        Ok(Rule {
            condition,
            title,
            description,
            resources,
            dedup,
            inert,
            spec,
        })
    }

    /// Whether the rule fires on a CloudTrail record.
    pub fn matches(&self, record: &Value) -> bool {
        if self.inert {
            return false;
        }
        let m = &self.spec.matcher;
        let field = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or("");
        let name = field("eventName");
        if !m.name.iter().any(|n| name_matches(n, name)) {
            return false;
        }
        if !m.source.is_empty() && !m.source.iter().any(|s| s == field("eventSource")) {
            return false;
        }
        // CloudTrail marks a failed call with errorCode, and some sign-in and
        // console events with errorMessage alone.
        let failed = ["errorCode", "errorMessage"].iter().any(|k| {
            record
                .get(*k)
                .is_some_and(|e| !e.is_null() && e.as_str() != Some(""))
        });
        if failed && !m.include_failed {
            return false;
        }
        self.condition
            .as_ref()
            .is_none_or(|c| c.eval(record, record))
    }
}

/// Whether an `eventName` pattern (exact, `Prefix*` or `*`) matches a name.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// The CloudTrail record inside an event: the `detail` of an EventBridge envelope,
/// or the event itself.
pub fn cloudtrail_record(event: &Value) -> &Value {
    match event.get("detail") {
        Some(d) if event.get("detail-type").is_some() => d,
        _ => event,
    }
}

/// Loads the built-in pack with the shipped (empty) settings.
pub fn builtin_rules() -> Result<Vec<Rule>, RuleError> {
    builtin_rules_with(&DetectionSettings::builtin())
}

/// Loads the built-in pack with the organisation's settings.
pub fn builtin_rules_with(settings: &DetectionSettings) -> Result<Vec<Rule>, RuleError> {
    BUILTIN
        .iter()
        .map(|(f, t)| Rule::from_yaml_with(f, t, settings))
        .collect()
}

/// Runs every embedded test of a rule; returns the failing case names. A case
/// with its own `settings` runs against the rule compiled with them.
pub fn failing_tests(rule: &Rule) -> Vec<String> {
    rule.spec
        .tests
        .iter()
        .filter(|t| {
            let fired = match &t.settings {
                None => rule.matches(cloudtrail_record(&t.event)),
                Some(s) => match Rule::compile("test", rule.spec.clone(), s) {
                    Ok(r) => r.matches(cloudtrail_record(&t.event)),
                    Err(_) => !t.expect,
                },
            };
            fired != t.expect
        })
        .map(|t| t.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_rule_compiles_and_passes_its_embedded_tests() {
        let rules = builtin_rules().expect("built-in rules compile");
        assert_eq!(rules.len(), BUILTIN.len());
        for rule in &rules {
            assert!(
                rule.spec.tests.iter().any(|t| t.expect),
                "{} has no positive test",
                rule.spec.id
            );
            assert!(
                rule.spec.tests.iter().any(|t| !t.expect),
                "{} has no negative test",
                rule.spec.id
            );
            assert_eq!(
                failing_tests(rule),
                Vec::<String>::new(),
                "rule {}",
                rule.spec.id
            );
        }
    }

    #[test]
    fn every_rule_file_in_the_rules_folder_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("rules folder")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                n.ends_with(".yaml")
                    && n != "alarm-severity.yaml"
                    && n != super::super::settings::FILE_NAME
            })
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = BUILTIN.iter().map(|(f, _)| f.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn unknown_fields_in_a_rule_file_are_rejected() {
        let text = BUILTIN[0]
            .1
            .replacen("severity:", "severty: HIGH\nseverity:", 1);
        assert!(matches!(
            Rule::from_yaml("x.yaml", &text),
            Err(RuleError::Yaml { .. })
        ));
    }

    /// Real published events (../shared/corpus): each must fire exactly the listed rules.
    #[test]
    fn builtin_rules_fire_exactly_as_expected_on_real_corpus_events() {
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");
        let cases: &[(&str, &[&str])] = &[
            ("cloudtrail/stratus__aws.defense-evasion.cloudtrail-stop_StopLogging.json", &["aws.cloudtrail.stopped-or-deleted"]),
            ("cloudtrail/stratus__aws.defense-evasion.cloudtrail-delete_DeleteTrail.json", &["aws.cloudtrail.stopped-or-deleted"]),
            // Restarting a trail is a CloudTrail configuration change (informational).
            ("cloudtrail/awsdocs__cloudtrail_cloudtrail-event-reference_StartLogging.json", &["aws.cloudtrail.trail-changed"]),
            ("cloudtrail/stratus__aws.initial-access.console-login-without-mfa_ConsoleLogin.json", &["aws.signin.console-login-without-mfa"]),
            ("cloudtrail/reflex__AuthorizeSecurityGroupIngress_open_world_eventbridge.json", &["aws.ec2.security-group-open-to-world"]),
            ("cloudtrail/reflex__CreateSecurityGroup_eventbridge.json", &[]),
            ("rule-case/panther__AWS.KMS.CustomerManagedKeyLoss_F_KMS-Disable-Key-Error.json", &[]),
            ("rule-case/panther__AWS.KMS.CustomerManagedKeyLoss_T_KMS-Key-Scheduled-For-Deletion.json", &["aws.kms.key-scheduled-for-deletion"]),
            // Root creating its own key: any key, an IAM change, and a root key.
            ("rule-case/panther__AWS.CloudTrail.RootAccessKeyCreated_T_Root-Access-Key-Created.json", &["aws.iam.access-key-created", "aws.iam.changed", "aws.iam.root-access-key-created"]),
            ("rule-case/panther__AWS.IAM.Backdoor.User.Keys_F_CreateKey-returns-error-code.json", &[]),
        ];
        let rules = builtin_rules().expect("built-in rules compile");
        for (file, want) in cases {
            let text =
                std::fs::read_to_string(format!("{corpus}/{file}")).expect("corpus file readable");
            let doc: Value = serde_json::from_str(&text).expect("corpus file is JSON");
            // rule-case files wrap the event; the others are the event.
            let event = doc.get("event").unwrap_or(&doc);
            let got: Vec<&str> = rules
                .iter()
                .filter(|r| r.matches(cloudtrail_record(event)))
                .map(|r| r.spec.id.as_str())
                .collect();
            assert_eq!(&got, want, "{file}");
        }
    }
}
