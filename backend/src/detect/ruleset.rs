//! The loaded rule pack: built-in rules plus a user folder, indexed by event name
//! so each CloudTrail record is only checked against the rules that can match it.

use super::rule::{builtin_rules, Rule, RuleError};
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
}

/// The rules in effect, indexed by `eventName`.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    by_name: HashMap<String, Vec<usize>>,
    /// Rules with a `*` pattern, checked against every record.
    patterned: Vec<usize>,
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
        let mut patterned = Vec::new();
        for (i, r) in kept.iter().enumerate() {
            if r.spec.matcher.name.iter().any(|n| n.ends_with('*')) {
                patterned.push(i);
                continue;
            }
            for n in &r.spec.matcher.name {
                by_name.entry(n.clone()).or_default().push(i);
            }
        }
        RuleSet {
            rules: kept,
            by_name,
            patterned,
        }
    }

    /// The built-in pack alone.
    pub fn builtin() -> Result<RuleSet, LoadError> {
        Ok(RuleSet::new(builtin_rules()?))
    }

    /// The built-in pack, then every `*.yaml`/`*.yml` rule in `dir` (overriding
    /// built-in rules of the same id).
    pub fn with_user_dir(dir: Option<&Path>) -> Result<RuleSet, LoadError> {
        let mut rules = builtin_rules()?;
        if let Some(dir) = dir {
            let user = load_dir(dir)?;
            let mut seen = std::collections::HashSet::new();
            for r in &user {
                if !seen.insert(r.spec.id.clone()) {
                    return Err(LoadError::Duplicate(r.spec.id.clone()));
                }
            }
            rules.extend(user);
        }
        Ok(RuleSet::new(rules))
    }

    /// Every rule, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules that fire on a CloudTrail record.
    pub fn matching<'a>(&'a self, record: &'a Value) -> impl Iterator<Item = &'a Rule> + 'a {
        let name = record
            .get("eventName")
            .and_then(Value::as_str)
            .unwrap_or("");
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .chain(self.patterned.iter())
            .map(|i| &self.rules[*i])
            .filter(move |r| r.matches(record))
    }
}

/// Whether a file in the rules folder is a rule file (alarm severity mappings and
/// suppressions have their own names and are loaded by their own loaders).
pub fn is_rule_file(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    (name.ends_with(".yaml") || name.ends_with(".yml")) && !name.starts_with("alarm-severity.")
}

/// Loads every rule file directly inside `dir` (sorted, so errors are repeatable).
pub fn load_dir(dir: &Path) -> Result<Vec<Rule>, LoadError> {
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
            Ok(Rule::from_yaml(&p.display().to_string(), &text)?)
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
        let extra = super::super::rule::BUILTIN[1].1.replacen(
            "id: aws.cloudtrail",
            "id: custom.cloudtrail",
            1,
        );
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
    fn a_broken_user_rule_fails_loading_with_its_file_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bad.yaml"), "id: x\ntitle: [").expect("write");
        let err = RuleSet::with_user_dir(Some(dir.path())).expect_err("must fail");
        assert!(err.to_string().contains("bad.yaml"), "{err}");
    }
}
