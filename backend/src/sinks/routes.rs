//! Routes: which sinks a change goes to, written in the sinks file.
//!
//! ```yaml
//! routes:
//!   - {name: critical-prod, match: {severity_at_least: CRITICAL, account: ["111122223333"]}, to: [oncall, secmail]}
//!   - {name: iam, match: {rule: ["aws.iam.*"]}, to: [secmail], stop: true}
//!   - {name: team, match: {severity: HIGH}, to: [team]}
//! ```
//!
//! Every route whose `match` holds sends to its `to` sinks, in file order, until a
//! matching route says `stop: true`. Within `match`, every key given must hold
//! (and), and a key with several values holds when one of them does (or); a route
//! without `match` matches everything. When a file has `routes:`, a sink that no
//! matching route names receives nothing. [`matching`] is the one function that
//! decides this, over the change record alone.

use super::duration::HumanDuration;
use crate::store::Change;
use serde::{Deserialize, Deserializer};
use shared_types::{ChangeKind, FindingSource, Severity};

/// One route.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The route's name (lint messages, audit): 1-64 of `a-z 0-9 - _`.
    pub name: RouteName,
    /// What a change must be like; absent: every change.
    #[serde(rename = "match", default)]
    pub when: RouteMatch,
    /// The names of the sinks it sends to (at least one; the file's check
    /// refuses names no sink has).
    #[serde(deserialize_with = "one_or_many")]
    pub to: Vec<String>,
    /// No later route is considered for a change this one matched.
    #[serde(default)]
    pub stop: bool,
    /// Within this long, the same rule on the same resource sends one message and
    /// counts the rest (throttle/, which reads these four keys).
    #[serde(default)]
    pub dedup: Option<HumanDuration>,
    /// More than this many messages to one sink within `digest_window`: the rest
    /// are held for one digest at the end of the window.
    #[serde(default)]
    pub digest_after: Option<u32>,
    /// The digest window (given together with `digest_after`).
    #[serde(default)]
    pub digest_window: Option<HumanDuration>,
    /// A finding this route alerted on sends a "✓ resolved by …" follow-up when it
    /// is resolved (off by default: most channels only want what needs action).
    #[serde(default)]
    pub resolved_followup: bool,
}

/// The match keys. Each list key takes one value or a list; an empty list is
/// refused (it would silently match nothing).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteMatch {
    /// The finding is at least this severe.
    #[serde(default)]
    pub severity_at_least: Option<Severity>,
    /// The finding has one of these severities.
    #[serde(default, deserialize_with = "one_or_many")]
    pub severity: Vec<Severity>,
    /// It came from one of these sources (`security_hub`, `cloudtrail`,
    /// `cloudwatch_alarm`, `guardduty`, `ocsf`, `demo`).
    #[serde(default, deserialize_with = "one_or_many")]
    pub source: Vec<FindingSource>,
    /// It is about one of these accounts.
    #[serde(default, deserialize_with = "one_or_many")]
    pub account: Vec<String>,
    /// It was reported in one of these regions.
    #[serde(default, deserialize_with = "one_or_many")]
    pub region: Vec<String>,
    /// Its primary resource has one of these types (`AwsS3Bucket`).
    #[serde(default, deserialize_with = "one_or_many")]
    pub resource_type: Vec<String>,
    /// Its generator (rule, control, detector) id matches one of these globs.
    #[serde(default, deserialize_with = "one_or_many")]
    pub rule: Vec<Glob>,
    /// Its product name is one of these (`GuardDuty`, `cspm-monitor`).
    #[serde(default, deserialize_with = "one_or_many")]
    pub product: Vec<String>,
    /// The change is one of these kinds.
    #[serde(default, deserialize_with = "one_or_many")]
    pub change: Vec<ChangeKind>,
}

/// A route name: 1-64 of `a-z 0-9 - _`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteName(pub String);

impl<'de> Deserialize<'de> for RouteName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(RouteName(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "route name {s:?}: use 1-64 of a-z, 0-9, - and _"
            )))
        }
    }
}

/// One value or a non-empty list of them (also the SES sink's `to`).
pub(crate) fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    // Not an untagged enum: it hides why neither shape fit. Reading a YAML value
    // first and then the type keeps the inner error (a bad severity names itself).
    let v = serde_yaml::Value::deserialize(d)?;
    let out: Vec<T> = match v {
        serde_yaml::Value::Sequence(_) => {
            serde_yaml::from_value(v).map_err(serde::de::Error::custom)?
        }
        one => vec![serde_yaml::from_value(one).map_err(serde::de::Error::custom)?],
    };
    if out.is_empty() {
        return Err(serde::de::Error::custom(
            "an empty list matches nothing: give at least one value or leave the key out",
        ));
    }
    Ok(out)
}

/// A glob on generator ids: `*` is any run of characters (`/` and `.` included),
/// `?` one character; everything else matches itself, case-sensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    /// A glob from its pattern.
    pub fn new(pattern: impl Into<String>) -> Glob {
        Glob(pattern.into())
    }

    /// True when `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let (p, t): (Vec<char>, Vec<char>) = (self.0.chars().collect(), text.chars().collect());
        // Iterative wildcard match with one backtrack point: linear in practice,
        // never exponential on patterns like `*a*a*a*b`.
        let (mut i, mut j) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while j < t.len() {
            if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
                i += 1;
                j += 1;
            } else if i < p.len() && p[i] == '*' {
                star = Some((i, j));
                i += 1;
            } else if let Some((si, sj)) = star {
                i = si + 1;
                j = sj + 1;
                star = Some((si, sj + 1));
            } else {
                return false;
            }
        }
        p[i..].iter().all(|&c| c == '*')
    }
}

impl<'de> Deserialize<'de> for Glob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Err(serde::de::Error::custom("rule: an empty pattern"));
        }
        Ok(Glob(s))
    }
}

impl RouteMatch {
    /// True when every key given holds for `change`.
    pub fn holds(&self, change: &Change) -> bool {
        let f = &change.finding;
        let item = &f.item;
        let any = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        self.severity_at_least.is_none_or(|m| item.severity >= m)
            && (self.severity.is_empty() || self.severity.contains(&item.severity))
            && (self.source.is_empty() || self.source.contains(&item.source))
            && any(&self.account, &item.account_id)
            && any(&self.region, &item.region)
            && any(&self.resource_type, &item.resource_type)
            && (self.rule.is_empty() || self.rule.iter().any(|g| g.matches(&f.generator_id)))
            && any(&self.product, &item.product_name)
            && (self.change.is_empty() || self.change.contains(&change.kind))
    }
}

/// The routes that send `change`, in file order: every matching route up to and
/// including the first matching one with `stop: true`.
pub fn matching<'a>(routes: &'a [Route], change: &Change) -> Vec<&'a Route> {
    let mut out = Vec::new();
    for r in routes {
        if r.when.holds(change) {
            out.push(r);
            if r.stop {
                break;
            }
        }
    }
    out
}

/// True when some route that sends `change` names `sink`.
pub fn sends_to(routes: &[Route], change: &Change, sink: &str) -> bool {
    matching(routes, change)
        .iter()
        .any(|r| r.to.iter().any(|n| n == sink))
}

/// The severity of the shipped default route.
pub const DEFAULT_SEVERITY: Severity = Severity::High;

/// The shipped default, used when a file has no `routes:`: one route sending HIGH
/// and above to every sink in `to` (the channels that only ever send as routed:
/// Slack and e-mail; the older kinds keep their own filters, see config.rs).
pub fn default_routes(to: Vec<String>) -> Vec<Route> {
    vec![Route {
        name: RouteName("default".into()),
        when: RouteMatch {
            severity_at_least: Some(DEFAULT_SEVERITY),
            ..RouteMatch::default()
        },
        to,
        stop: false,
        dedup: None,
        digest_after: None,
        digest_window: None,
        resolved_followup: false,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_generator_ids() {
        let cases = [
            ("aws.iam.*", "aws.iam.access_key_created", true),
            ("aws.iam.*", "aws.iam.", true),
            ("aws.iam.*", "aws.s3.public", false),
            ("aws.iam.*", "xaws.iam.a", false),
            ("*/S3.8", "security-control/S3.8", true),
            ("*/S3.8", "security-control/S3.80", false),
            (
                "aws-foundational-security-best-practices/v/1.0.0/?C2.19",
                "aws-foundational-security-best-practices/v/1.0.0/EC2.19",
                true,
            ),
            ("*a*a*a*b", &"a".repeat(200), false),
            ("exact", "exact", true),
            ("exact", "Exact", false),
        ];
        for (p, t, want) in cases {
            assert_eq!(Glob::new(p).matches(t), want, "{p} on {t}");
        }
    }

    #[test]
    fn keys_take_one_value_or_a_list_but_not_an_empty_one() {
        let m: RouteMatch =
            serde_yaml::from_str("{account: \"111122223333\", severity: [HIGH, CRITICAL]}")
                .unwrap();
        assert_eq!(m.account, vec!["111122223333".to_string()]);
        assert_eq!(m.severity, vec![Severity::High, Severity::Critical]);
        let e = serde_yaml::from_str::<RouteMatch>("{account: []}").unwrap_err();
        assert!(e.to_string().contains("empty list"), "{e}");
        let e = serde_yaml::from_str::<RouteMatch>("{severity: [HIGH, SEVERE]}").unwrap_err();
        assert!(e.to_string().contains("SEVERE"), "{e}");
        let e = serde_yaml::from_str::<RouteMatch>("{colour: red}").unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
