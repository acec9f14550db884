//! The loaded rule pack: built-in rules plus a user folder, indexed by event name
//! so each CloudTrail record is only checked against the rules that can match it.

use super::rule::{builtin_rules_with, Rule, RuleError};
use super::settings::{self, DetectionSettings, SettingsError};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A rule pack could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A rule file is invalid.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The rules folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Two files define the same id inside one origin (built-in or user folder).
    #[error("rule id {0} is defined twice")]
    Duplicate(String),
    /// The folder's `detection-settings.yaml` is invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// The rules in effect, indexed by `eventName`.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    by_name: HashMap<String, Vec<usize>>,
    /// Rules with a `*` pattern that name their event sources, by source.
    patterned_by_source: HashMap<String, Vec<usize>>,
    /// Rules with a `*` pattern and no source, checked against every record.
    patterned: Vec<usize>,
    /// The organisation's lists the rules were compiled with.
    settings: DetectionSettings,
}

impl RuleSet {
    /// Indexes rules (later rules with an id already present replace the earlier one,
    /// so a user rule overrides the built-in rule of the same id).
    pub fn new(rules: Vec<Rule>) -> RuleSet {
        let mut kept: Vec<Rule> = Vec::with_capacity(rules.len());
        for r in rules {
            match kept.iter_mut().find(|k| k.spec.id == r.spec.id) {
                Some(slot) => *slot = r,
                None => kept.push(r),
            }
        }
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut patterned_by_source: HashMap<String, Vec<usize>> = HashMap::new();
        let mut patterned = Vec::new();
        for (i, r) in kept.iter().enumerate() {
            // Inert rules (a required settings list is empty) cost nothing per record.
            if r.inert {
                continue;
            }
            if r.spec.matcher.name.iter().any(|n| n.ends_with('*')) {
                if r.spec.matcher.source.is_empty() {
                    patterned.push(i);
                } else {
                    for src in &r.spec.matcher.source {
                        patterned_by_source.entry(src.clone()).or_default().push(i);
                    }
                }
                continue;
            }
            for n in &r.spec.matcher.name {
                by_name.entry(n.clone()).or_default().push(i);
            }
        }
        RuleSet {
            rules: kept,
            by_name,
            patterned_by_source,
            patterned,
            settings: DetectionSettings::default(),
        }
    }

    /// The built-in pack alone, with the shipped (empty) settings.
    pub fn builtin() -> Result<RuleSet, LoadError> {
        RuleSet::with_settings(None, DetectionSettings::builtin())
    }

    /// The built-in pack, then every `*.yaml`/`*.yml` rule in `dir` (overriding
    /// built-in rules of the same id), all compiled with `dir`'s
    /// `detection-settings.yaml` when it has one.
    pub fn with_user_dir(dir: Option<&Path>) -> Result<RuleSet, LoadError> {
        RuleSet::with_settings(dir, DetectionSettings::for_dir(dir)?)
    }

    /// Like [`RuleSet::with_user_dir`], with the settings given.
    pub fn with_settings(
        dir: Option<&Path>,
        settings: DetectionSettings,
    ) -> Result<RuleSet, LoadError> {
        let mut rules = builtin_rules_with(&settings)?;
        if let Some(dir) = dir {
            let user = load_dir(dir, &settings)?;
            let mut seen = std::collections::HashSet::new();
            for r in &user {
                if !seen.insert(r.spec.id.clone()) {
                    return Err(LoadError::Duplicate(r.spec.id.clone()));
                }
            }
            rules.extend(user);
        }
        let mut set = RuleSet::new(rules);
        set.settings = settings;
        Ok(set)
    }

    /// The organisation's lists the rules were compiled with.
    pub fn settings(&self) -> &DetectionSettings {
        &self.settings
    }

    /// Every rule, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules that fire on a CloudTrail record.
    pub fn matching<'a>(&'a self, record: &'a Value) -> impl Iterator<Item = &'a Rule> + 'a {
        let field = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or("");
        let (name, source) = (field("eventName"), field("eventSource"));
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .chain(self.patterned_by_source.get(source).into_iter().flatten())
            .chain(self.patterned.iter())
            .map(|i| &self.rules[*i])
            .filter(move |r| r.matches(record))
    }
}

/// Whether a file in the rules folder is a rule file (alarm severity mappings and
/// the detection settings have their own names and are loaded by their own loaders).
pub fn is_rule_file(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !name.starts_with("alarm-severity.")
        && name != settings::FILE_NAME
}

/// Loads every rule file directly inside `dir` (sorted, so errors are repeatable).
pub fn load_dir(dir: &Path, settings: &DetectionSettings) -> Result<Vec<Rule>, LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_rule_file(p))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|source| LoadError::Io {
                path: p.clone(),
                source,
            })?;
            Ok(Rule::from_yaml_with(
                &p.display().to_string(),
                &text,
                settings,
            )?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_rule_with_a_builtin_id_replaces_it_and_new_ids_are_added() {
        let dir = tempfile::tempdir().expect("tempdir");
        let builtin = RuleSet::builtin().expect("builtin");
        let first = &builtin.rules()[0].spec;
        let replaced = super::super::rule::BUILTIN[0]
            .1
            .replacen(&first.title, "Replaced title", 1);
        std::fs::write(dir.path().join("a.yaml"), replaced).expect("write");
        // Any second built-in rule under a new id.
        let extra: String = super::super::rule::BUILTIN[1]
            .1
            .lines()
            .map(|l| match l.starts_with("id: ") {
                true => "id: custom.extra\n".to_string(),
                false => format!("{l}\n"),
            })
            .collect();
        std::fs::write(dir.path().join("b.yml"), extra).expect("write");
        std::fs::write(dir.path().join("notes.txt"), "ignored").expect("write");
        let set = RuleSet::with_user_dir(Some(dir.path())).expect("loads");
        assert_eq!(set.rules().len(), builtin.rules().len() + 1);
        let r = set
            .rules()
            .iter()
            .find(|r| r.spec.id == first.id)
            .expect("still there");
        assert_eq!(r.spec.title, "Replaced title");
    }

    #[test]
    fn the_folder_settings_wake_rules_that_require_a_list() {
        let rule = r#"
id: test.unusual-type
title: t
severity: LOW
description: d
remediation: {text: r}
match:
  name: [RunInstances]
  requires: [usual_instance_types]
  where:
    for_any: responseElements.instancesSet.items
    where: {not: {path: instanceType, in_setting: usual_instance_types}}
tests:
  - {name: unusual, expect: true, settings: {usual_instance_types: [t3.*]}, event: {eventName: RunInstances, responseElements: {instancesSet: {items: [{instanceType: p3.2xlarge}]}}}}
  - {name: usual, expect: false, settings: {usual_instance_types: [t3.*]}, event: {eventName: RunInstances, responseElements: {instancesSet: {items: [{instanceType: t3.micro}]}}}}
"#;
        let launch = serde_json::json!({"eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "responseElements": {"instancesSet": {"items": [{"instanceId": "i-1", "instanceType": "p3.16xlarge"}]}}});
        let fired = |set: &RuleSet| {
            set.matching(&launch)
                .any(|r| r.spec.id == "test.unusual-type")
        };
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("unusual.yaml"), rule).expect("write");
        let inert = RuleSet::with_user_dir(Some(dir.path())).expect("loads");
        assert!(!fired(&inert), "inert without the list");
        assert_eq!(
            crate::detect::rule::failing_tests(&inert.rules()[inert.rules().len() - 1]),
            Vec::<String>::new(),
            "test cases run with their own settings"
        );
        std::fs::write(
            dir.path().join(settings::FILE_NAME),
            "usual_instance_types: [t3.*]\n",
        )
        .expect("write");
        let set = RuleSet::with_user_dir(Some(dir.path())).expect("loads");
        assert!(fired(&set));
        assert_eq!(set.settings().usual_instance_types, ["t3.*"]);
        std::fs::write(dir.path().join(settings::FILE_NAME), "usual_types: []\n").expect("write");
        let err = RuleSet::with_user_dir(Some(dir.path())).expect_err("unknown key");
        assert!(err.to_string().contains("usual_types"), "{err}");
    }

    /// Rules meaning "not done by the organisation's automation" are inert until the
    /// automation is listed; rules whose meaning stands alone fire either way.
    #[test]
    fn not_by_automation_rules_wait_for_the_list_and_the_others_do_not() {
        let waiting = [
            "aws.ec2.security-group-changed-manually",
            "aws.iam.entity-created-outside-iac",
            "aws.lambda.code-updated-by-human",
            "aws.lambda.configuration-updated-by-human",
        ];
        let standing = [
            "aws.ec2.user-data-read",
            "aws.ec2.windows-password-read",
            "aws.ec2.snapshot-or-ami-shared-externally",
            "aws.rds.snapshot-shared-externally",
        ];
        let eval_settings = DetectionSettings::from_file(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/rules/eval/panther-settings.yaml"
        )))
        .expect("eval settings parse");
        let shipped = RuleSet::builtin().expect("builtin");
        let configured = RuleSet::with_settings(None, eval_settings).expect("loads");
        let inert = |set: &RuleSet, id: &str| {
            set.rules()
                .iter()
                .find(|r| r.spec.id == id)
                .unwrap_or_else(|| panic!("{id} is in the pack"))
                .inert
        };
        for id in waiting {
            assert!(inert(&shipped, id), "{id} inert with the shipped lists");
            assert!(
                !inert(&configured, id),
                "{id} live once automation is listed"
            );
        }
        for id in standing {
            assert!(!inert(&shipped, id) && !inert(&configured, id), "{id}");
        }
        // A real console change (Panther's test event): silent with the shipped
        // lists, reported once the automation roles are listed.
        let case = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/corpus/rule-case/panther__AWS.EC2.ManualSecurityGroupChange_T_AWS-Console---Ingress-SG-Authorization.json"
        );
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(case).expect("corpus case"))
            .expect("json");
        let fired = |set: &RuleSet| {
            set.matching(&doc["event"])
                .any(|r| r.spec.id == "aws.ec2.security-group-changed-manually")
        };
        assert!(!fired(&shipped));
        assert!(fired(&configured));
    }

    #[test]
    fn a_broken_user_rule_fails_loading_with_its_file_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bad.yaml"), "id: x\ntitle: [").expect("write");
        let err = RuleSet::with_user_dir(Some(dir.path())).expect_err("must fail");
        assert!(err.to_string().contains("bad.yaml"), "{err}");
    }
}
