//! Match conditions, written as data:
//! `{path: P, equals|in|prefix|suffix|contains|regex|exists|gt|gte|lt|lte|cidr_contains|in_cidr|in_setting|equals_path|dangerous_policy|policy_issues: X}`,
//! `{all: [..]}`, `{any: [..]}`, `{not: C}`, `{for_any: P, where: C}` (C holds for some
//! element, paths in C relative to it). A path condition holds when any value the
//! path reaches satisfies every operator given.
//!
//! `in_setting` names a list of the organisation's settings
//! (`detection-settings.yaml`); it is resolved when the rule is compiled, so a
//! settings change means reloading the pack, and evaluation stays a plain match.

use super::path::{decode_json_text, Path, PathError};
use super::policy::{self, PolicyContext};
use super::settings::{glob_matches, DetectionSettings, SettingList};
use ipnet::IpNet;
use regex::{Regex, RegexBuilder};
use serde_json::Value;
use serde_yaml::Value as Yaml;
use std::net::IpAddr;

mod ops;
use ops::{op_holds, EvalCtx};

/// A condition could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    /// A path inside the condition is malformed.
    #[error(transparent)]
    Path(#[from] PathError),
    /// A regex does not compile.
    #[error("bad regex {pattern:?}: {reason}")]
    Regex {
        /// The pattern as written.
        pattern: String,
        /// The regex crate's message.
        reason: String,
    },
    /// Unknown key, wrong type or missing operand.
    #[error("bad condition: {0}")]
    Shape(String),
}

#[derive(Debug, Clone)]
enum Op {
    Equals(Value),
    In(Vec<Value>),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Regex(Regex),
    Exists(bool),
    Cmp(CmpKind, f64),
    CidrContains(IpNet),
    InCidr(Vec<IpNet>),
    /// The value matches one of the patterns of a settings list (resolved at compile time).
    InSetting(Vec<String>),
    /// The value equals one of the values another path reaches (from the record root).
    EqualsPath(Path),
    /// Whether the value (a policy document, or JSON text of one) is dangerous.
    DangerousPolicy(bool),
    /// Whether the policy has one of these issues.
    PolicyIssues(Vec<policy::PolicyIssue>),
}

#[derive(Debug, Clone, Copy)]
enum CmpKind {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Condition {
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// Some element reached by the path satisfies the inner condition.
    ForAny(Path, Box<Condition>),
    /// A value at a path satisfies operators.
    Field(FieldCond),
}

/// `{path, op...}`: the operators are all checked against each reached value.
#[derive(Debug, Clone)]
pub struct FieldCond {
    path: Path,
    ops: Vec<Op>,
    /// Accounts trusted besides the record's own (for the policy operators).
    trusted_accounts: Vec<String>,
}

fn shape(msg: impl Into<String>) -> ConditionError {
    ConditionError::Shape(msg.into())
}

fn yaml_to_json(y: &Yaml) -> Result<Value, ConditionError> {
    serde_json::to_value(y).map_err(|e| shape(format!("operand is not plain data: {e}")))
}

fn yaml_str(y: &Yaml, what: &str) -> Result<String, ConditionError> {
    match y {
        Yaml::String(s) => Ok(s.clone()),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Bool(b) => Ok(b.to_string()),
        _ => Err(shape(format!("{what} needs a text operand"))),
    }
}

/// Compiled size allowed for one rule regex (the regex crate's default is 10 MiB
/// per regex; a rule's pattern is a few dozen characters, so a pattern that
/// compiles past this is a mistake or hostile, e.g. `(a{1000}){1000}`). Matching
/// stays linear in the field's length whatever the pattern.
pub const MAX_REGEX_COMPILED_BYTES: usize = 1024 * 1024;
/// Longest regex pattern accepted in a rule.
pub const MAX_REGEX_PATTERN_BYTES: usize = 4096;

/// Compiles a rule's regex within [`MAX_REGEX_PATTERN_BYTES`] and [`MAX_REGEX_COMPILED_BYTES`].
fn compile_regex(pattern: &str) -> Result<Regex, String> {
    if pattern.len() > MAX_REGEX_PATTERN_BYTES {
        return Err(format!(
            "pattern of {} bytes, longer than {MAX_REGEX_PATTERN_BYTES}",
            pattern.len()
        ));
    }
    RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_COMPILED_BYTES)
        .dfa_size_limit(MAX_REGEX_COMPILED_BYTES)
        .build()
        .map_err(|e| e.to_string())
}

fn parse_net(s: &str) -> Result<IpNet, ConditionError> {
    ip_net(s).ok_or_else(|| shape(format!("{s:?} is not an IP address or CIDR")))
}

/// A CIDR or a bare address (as a /32 or /128); `None` costs nothing, which matters
/// when evaluating records whose address field holds a service name.
fn ip_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .ok()
}

impl Condition {
    /// Compiles a condition from its YAML form, with empty settings lists.
    pub fn compile(y: &Yaml) -> Result<Condition, ConditionError> {
        Condition::compile_with(y, &DetectionSettings::default())
    }

    /// Compiles a condition, resolving `in_setting` lists from `settings`.
    pub fn compile_with(
        y: &Yaml,
        settings: &DetectionSettings,
    ) -> Result<Condition, ConditionError> {
        let Yaml::Mapping(m) = y else {
            return Err(shape("a condition must be a mapping"));
        };
        let get = |k: &str| m.get(Yaml::String(k.to_string()));
        let list = |k: &str| -> Result<Vec<Condition>, ConditionError> {
            match get(k) {
                Some(Yaml::Sequence(items)) if !items.is_empty() => items
                    .iter()
                    .map(|i| Condition::compile_with(i, settings))
                    .collect(),
                _ => Err(shape(format!("`{k}` needs a non-empty list of conditions"))),
            }
        };
        let only = |k: &str| -> Result<(), ConditionError> {
            if m.len() == 1 {
                Ok(())
            } else {
                Err(shape(format!("`{k}` must be alone in its mapping")))
            }
        };
        if get("all").is_some() {
            only("all")?;
            return Ok(Condition::All(list("all")?));
        }
        if get("any").is_some() {
            only("any")?;
            return Ok(Condition::Any(list("any")?));
        }
        if let Some(inner) = get("not") {
            only("not")?;
            return Ok(Condition::Not(Box::new(Condition::compile_with(
                inner, settings,
            )?)));
        }
        if let Some(p) = get("for_any") {
            for k in m.keys() {
                let k = k.as_str().unwrap_or("");
                if k != "for_any" && k != "where" {
                    return Err(shape(format!("unknown key {k:?} beside `for_any`")));
                }
            }
            let path = Path::parse(&yaml_str(p, "for_any")?)?;
            let inner = get("where").ok_or_else(|| shape("`for_any` needs `where`"))?;
            return Ok(Condition::ForAny(
                path,
                Box::new(Condition::compile_with(inner, settings)?),
            ));
        }
        let path = match get("path") {
            Some(p) => Path::parse(&yaml_str(p, "path")?)?,
            None => return Err(shape("expected one of all/any/not/for_any/path")),
        };
        let mut ops = Vec::new();
        for (k, v) in m {
            let key = k.as_str().unwrap_or("");
            let op = match key {
                "path" => continue,
                "equals" => Op::Equals(yaml_to_json(v)?),
                "in" => match v {
                    Yaml::Sequence(items) => {
                        Op::In(items.iter().map(yaml_to_json).collect::<Result<_, _>>()?)
                    }
                    _ => return Err(shape("`in` needs a list")),
                },
                "prefix" => Op::Prefix(yaml_str(v, key)?),
                "suffix" => Op::Suffix(yaml_str(v, key)?),
                "contains" => Op::Contains(yaml_str(v, key)?),
                "regex" => {
                    let pattern = yaml_str(v, key)?;
                    Op::Regex(compile_regex(&pattern).map_err(|e| ConditionError::Regex {
                        pattern: pattern.clone(),
                        reason: e,
                    })?)
                }
                "exists" => match v {
                    Yaml::Bool(b) => Op::Exists(*b),
                    _ => return Err(shape("`exists` needs true or false")),
                },
                "gt" | "gte" | "lt" | "lte" => {
                    let n = v
                        .as_f64()
                        .ok_or_else(|| shape(format!("`{key}` needs a number")))?;
                    let kind = match key {
                        "gt" => CmpKind::Gt,
                        "gte" => CmpKind::Gte,
                        "lt" => CmpKind::Lt,
                        _ => CmpKind::Lte,
                    };
                    Op::Cmp(kind, n)
                }
                "in_setting" => {
                    let which: SettingList = serde_yaml::from_value(v.clone()).map_err(|e| {
                        shape(format!("`in_setting` needs a settings list name: {e}"))
                    })?;
                    Op::InSetting(settings.list(which).to_vec())
                }
                "equals_path" => Op::EqualsPath(Path::parse(&yaml_str(v, key)?)?),
                "dangerous_policy" => match v {
                    Yaml::Bool(b) => Op::DangerousPolicy(*b),
                    _ => return Err(shape("`dangerous_policy` needs true or false")),
                },
                "policy_issues" => {
                    Op::PolicyIssues(serde_yaml::from_value(v.clone()).map_err(|e| {
                        shape(format!("`policy_issues` needs a list of issue names: {e}"))
                    })?)
                }
                "cidr_contains" => Op::CidrContains(parse_net(&yaml_str(v, key)?)?),
                "in_cidr" => match v {
                    Yaml::Sequence(items) => Op::InCidr(
                        items
                            .iter()
                            .map(|i| yaml_str(i, key).and_then(|s| parse_net(&s)))
                            .collect::<Result<_, _>>()?,
                    ),
                    _ => return Err(shape("`in_cidr` needs a list")),
                },
                other => return Err(shape(format!("unknown operator {other:?}"))),
            };
            ops.push(op);
        }
        if ops.is_empty() {
            return Err(shape(format!("path {path} has no operator")));
        }
        Ok(Condition::Field(FieldCond {
            path,
            ops,
            trusted_accounts: settings.trusted_accounts.clone(),
        }))
    }

    /// Every path the condition reads (for lint).
    pub fn paths(&self) -> Vec<&Path> {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().flat_map(|c| c.paths()).collect(),
            Condition::Not(c) => c.paths(),
            // Paths under for_any are relative to the element; only the scope path is rooted.
            Condition::ForAny(p, _) => vec![p],
            Condition::Field(f) => {
                let mut out = vec![&f.path];
                out.extend(f.ops.iter().filter_map(|o| match o {
                    Op::EqualsPath(p) => Some(p),
                    _ => None,
                }));
                out
            }
        }
    }

    /// Evaluates against `here`, with `root` the whole event (for `$.` paths).
    pub fn eval(&self, root: &Value, here: &Value) -> bool {
        match self {
            Condition::All(cs) => cs.iter().all(|c| c.eval(root, here)),
            Condition::Any(cs) => cs.iter().any(|c| c.eval(root, here)),
            Condition::Not(c) => !c.eval(root, here),
            Condition::ForAny(p, c) => p.visit(root, here, &mut |el| match el {
                Value::Array(items) => items.iter().any(|i| c.eval(root, i)),
                other => c.eval(root, other),
            }),
            Condition::Field(f) => f.eval(root, here),
        }
    }
}

impl FieldCond {
    fn eval(&self, root: &Value, here: &Value) -> bool {
        // exists:false holds only when nothing non-null is reached.
        let mut found_any = false;
        let ctx = EvalCtx {
            root,
            trusted_accounts: &self.trusted_accounts,
        };
        let hit = self.path.visit(root, here, &mut |v| {
            if !v.is_null() {
                found_any = true;
            }
            self.ops.iter().all(|op| op_holds(op, v, &ctx))
        });
        let wants_absent = self.ops.iter().any(|o| matches!(o, Op::Exists(false)));
        if wants_absent {
            return !found_any && self.ops.iter().all(|o| matches!(o, Op::Exists(false)));
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(y: &str) -> Condition {
        Condition::compile(&serde_yaml::from_str(y).expect("yaml")).expect("compiles")
    }

    #[test]
    fn operators_match_scalars_lists_and_coerced_text() {
        let ev = json!({"a": "true", "n": "22", "ips": ["10.0.0.0/8", "0.0.0.0/0"], "s": "arn:aws:iam::1:user/bob"});
        assert!(cond("{path: a, equals: true}").eval(&ev, &ev));
        assert!(cond("{path: n, gte: 20, lte: 25}").eval(&ev, &ev));
        assert!(!cond("{path: n, gt: 22}").eval(&ev, &ev));
        assert!(cond("{path: ips, cidr_contains: 8.8.8.8}").eval(&ev, &ev));
        assert!(!cond("{path: ips, in_cidr: [192.168.0.0/16]}").eval(&ev, &ev));
        assert!(cond("{path: s, regex: 'user/[a-z]+$', prefix: 'arn:'}").eval(&ev, &ev));
        assert!(cond("{path: missing, exists: false}").eval(&ev, &ev));
        assert!(!cond("{path: a, exists: false}").eval(&ev, &ev));
        assert!(cond("{not: {path: s, suffix: alice}}").eval(&ev, &ev));
        let pol = json!({"doc": "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}", "narrow": {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}});
        assert!(cond("{path: doc, dangerous_policy: true}").eval(&pol, &pol));
        assert!(cond("{path: narrow, dangerous_policy: false}").eval(&pol, &pol));
        assert!(!cond("{path: narrow, dangerous_policy: true}").eval(&pol, &pol));
        assert!(cond("{path: doc, policy_issues: [full_admin]}").eval(&pol, &pol));
        assert!(!cond("{path: doc, policy_issues: [public_principal]}").eval(&pol, &pol));
    }

    #[test]
    fn for_any_correlates_fields_of_the_same_element() {
        let ev = json!({"items": [{"cidr": "10.0.0.0/8", "port": 22}, {"cidr": "0.0.0.0/0", "port": 443}]});
        let open_ssh = cond("{for_any: items, where: {all: [{path: cidr, equals: 0.0.0.0/0}, {path: port, equals: 22}]}}");
        assert!(!open_ssh.eval(&ev, &ev));
        let open_https = cond("{for_any: 'items[*]', where: {all: [{path: cidr, equals: 0.0.0.0/0}, {path: port, equals: 443}]}}");
        assert!(open_https.eval(&ev, &ev));
    }

    #[test]
    fn unknown_operators_bad_regexes_and_bad_cidrs_are_compile_errors() {
        for bad in [
            "{path: a, equal: 1}",
            "{path: a, regex: '('}",
            "{path: a, cidr_contains: nope}",
            "{path: a, policy_issues: [not_an_issue]}",
            "{path: a}",
            "{all: []}",
            "{foo: 1}",
            "[1]",
        ] {
            let y: Yaml = serde_yaml::from_str(bad).expect("yaml");
            assert!(Condition::compile(&y).is_err(), "{bad} should not compile");
        }
    }
}
