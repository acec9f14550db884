//! Real-time detection engine: rules are data (YAML), evaluated against CloudTrail
//! events. Split by concern: paths into events, templates for titles/keys.

/// Match conditions (equals/in/prefix/regex/exists/numeric/CIDR, all/any/not/for_any).
pub mod condition;
/// Precision/recall on labelled rule cases; policy analyzer agreement.
pub mod eval;
/// Rule matches → findings (ids, ProductArn, resources, timestamps).
pub mod finding;
/// `cspm rules lint`: every problem in every rule file.
pub mod lint;
/// A rule set compiled when first needed (only CloudTrail is evaluated with rules).
pub mod on_demand;
/// The built-in rule pack: the rule files embedded at compile time.
pub mod pack;
/// Paths into JSON events, including `@json` decoding of embedded policy documents.
pub mod path;
/// IAM policy analysis grounded in the IAM documentation: broad grants, escalation,
/// credential exposure, public and trust principals, Deny neutralisation, grammar.
pub mod policy;
/// The rule model and its test runner.
pub mod rule;
/// The loaded pack (built-in + user folder), indexed by event name.
pub mod ruleset;
/// The organisation's lists (`detection-settings.yaml`): decoys, automation, instance types, trusted accounts.
pub mod settings;
/// Suppressions as data (conditions, reason, owner, expiry).
pub mod suppress;
/// `{{path || "fallback"}}` templates for titles, descriptions and keys.
pub mod template;
/// Reading and parsing the YAML files of the rules folder (settings, suppressions).
pub mod yaml_file;
