//! The sinks file: one YAML document naming every sink (`cspm serve --sinks FILE`,
//! `CSPM_SINKS`; on AWS the same YAML in the SSM parameter the `fanout` Lambda's
//! `CSPM_SINKS_PARAMETER` names). Secrets are referenced, never inline:
//!
//! ```yaml
//! sinks:
//!   - {name: hook, kind: webhook, url: "https://hooks.example.com/cspm", secret_env: HOOK_SECRET, min_severity: HIGH, timeout: 5s}
//!   - {name: alerts, kind: sns, standard_topic_arn: "arn:aws:sns:us-east-1:111122223333:standard", critical_topic_arn: "arn:aws:sns:us-east-1:111122223333:critical", min_severity: HIGH}
//!   - {name: trail, kind: log}
//! ```
//!
//! Parsing checks every field it can where it reads it (unknown fields and kinds,
//! severities, URLs against the SSRF policy, topic ARNs, names), so each error
//! carries its line; what needs the whole file (duplicate names, both secret
//! sources) is checked after, and the line found by the sink's name.

use super::dedup::Dedup;
use super::log::LogSink;
use super::secrets::{SecretError, SecretRef};
use super::sns::{SnsSettings, SnsSink};
use super::ssrf::{Resolver, Target};
use super::webhook::WebhookSink;
use super::{Filter, Sink, SinkError};
use serde::{Deserialize, Deserializer};
use shared_types::{ChangeKind, Severity};
use std::sync::Arc;
use std::time::Duration;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinksFile {
    /// Every sink.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
}

/// One sink, by kind.
///
/// Deserialized by hand (below) rather than as a serde-tagged enum: a tagged enum
/// buffers the entry first, and errors found in the buffer lose their position.
/// Here the entry's fields are read in its own map, so the YAML parser puts the
/// entry's line on every error.
#[derive(Debug, Clone)]
pub enum SinkConfig {
    /// HTTP POST of signed batches.
    Webhook(WebhookConfig),
    /// SNS alert topics.
    Sns(SnsConfig),
    /// One log line per change.
    Log(LogConfig),
}

impl<'de> Deserialize<'de> for SinkConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SinkVisitor)
    }
}

struct SinkVisitor;

impl<'de> serde::de::Visitor<'de> for SinkVisitor {
    type Value = SinkConfig;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sink: a map with a name and a kind (webhook, sns or log)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<SinkConfig, A::Error> {
        use serde::de::Error;
        let mut fields = serde_yaml::Mapping::new();
        let mut kind: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "kind" {
                kind = Some(map.next_value()?);
            } else {
                let value: serde_yaml::Value = map.next_value()?;
                fields.insert(serde_yaml::Value::String(key), value);
            }
        }
        let kind =
            kind.ok_or_else(|| A::Error::custom("missing field `kind` (webhook, sns or log)"))?;
        let body = serde_yaml::Value::Mapping(fields);
        // Errors inside carry no position of their own; returned from here, the
        // parser gives them this entry's line.
        let typed = |e: serde_yaml::Error| A::Error::custom(format!("kind {kind}: {e}"));
        match kind.as_str() {
            "webhook" => serde_yaml::from_value(body)
                .map(SinkConfig::Webhook)
                .map_err(typed),
            "sns" => serde_yaml::from_value(body)
                .map(SinkConfig::Sns)
                .map_err(typed),
            "log" => serde_yaml::from_value(body)
                .map(SinkConfig::Log)
                .map_err(typed),
            other => Err(A::Error::custom(format!(
                "unknown sink kind `{other}` (expected webhook, sns or log)"
            ))),
        }
    }
}

/// `kind: webhook`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Sink name.
    pub name: SinkName,
    /// Where to POST (https; http only to loopback).
    pub url: TargetUrl,
    /// Environment variable holding the signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// SSM SecureString holding the signing secret (AWS).
    #[serde(default)]
    pub secret_ssm: Option<String>,
    /// Request timeout (default 5s).
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    /// Only changes whose finding is at least this severe.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Only these kinds of change.
    #[serde(default)]
    pub changes: Vec<ChangeKind>,
    /// Also demo data, archival and restores (off by default).
    #[serde(default)]
    pub include_quiet: bool,
}

/// `kind: sns`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnsConfig {
    /// Sink name.
    pub name: SinkName,
    /// Topic for alerts below CRITICAL.
    pub standard_topic_arn: TopicArn,
    /// Topic for CRITICAL alerts (default: the standard one).
    #[serde(default)]
    pub critical_topic_arn: Option<TopicArn>,
    /// Only changes whose finding is at least this severe (default HIGH here).
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Only these kinds of change.
    #[serde(default)]
    pub changes: Vec<ChangeKind>,
    /// Also demo data, archival and restores (off by default).
    #[serde(default)]
    pub include_quiet: bool,
}

/// `kind: log`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// Sink name.
    pub name: SinkName,
    /// Only changes whose finding is at least this severe.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Only these kinds of change.
    #[serde(default)]
    pub changes: Vec<ChangeKind>,
    /// Also demo data, archival and restores (off by default).
    #[serde(default)]
    pub include_quiet: bool,
}

/// The filters every kind takes (each config struct carries the same three fields:
/// serde cannot both flatten a shared struct and refuse unknown fields).
macro_rules! filter_of {
    ($c:expr) => {
        Filter {
            min_severity: $c.min_severity,
            changes: $c.changes.clone(),
            quiet: $c.include_quiet,
        }
    };
}

/// A sink name: 1–64 of `a-z 0-9 - _` (cursors, metrics and parked batches use it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkName(pub String);

impl<'de> Deserialize<'de> for SinkName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(SinkName(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "sink name {s:?}: use 1-64 of a-z, 0-9, - and _"
            )))
        }
    }
}

/// A target URL that passed the static SSRF policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl(pub Target);

impl<'de> Deserialize<'de> for TargetUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Target::parse(&s)
            .map(TargetUrl)
            .map_err(|e| serde::de::Error::custom(format!("url: {e}")))
    }
}

/// An SNS topic ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicArn(pub String);

impl<'de> Deserialize<'de> for TopicArn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let parts: Vec<&str> = s.split(':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "sns"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && !parts[5].is_empty();
        if ok {
            Ok(TopicArn(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "{s:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
            )))
        }
    }
}

/// `250ms`, `5s`, `2m`, `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses `<number><unit>` with unit `ms`, `s`, `m` or `h`.
    pub fn parse(s: &str) -> Result<HumanDuration, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("{s:?} is not a duration such as 5s, 250ms, 2m or 1h"))?;
        let d = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            _ => {
                return Err(format!(
                    "{s:?} is not a duration such as 5s, 250ms, 2m or 1h"
                ))
            }
        };
        Ok(HumanDuration(d))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        HumanDuration::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl SinkConfig {
    /// The sink's name.
    pub fn name(&self) -> &str {
        match self {
            SinkConfig::Webhook(c) => &c.name.0,
            SinkConfig::Sns(c) => &c.name.0,
            SinkConfig::Log(c) => &c.name.0,
        }
    }

    /// The kind, as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkConfig::Webhook(_) => "webhook",
            SinkConfig::Sns(_) => "sns",
            SinkConfig::Log(_) => "log",
        }
    }
}

/// One problem found in a sinks file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// False for warnings (reported, not fatal).
    pub error: bool,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = if self.error { "error" } else { "warning" };
        match self.line {
            Some(l) => write!(f, "line {l}: {level}: {}", self.message),
            None => write!(f, "{level}: {}", self.message),
        }
    }
}

/// The line of the first `name: <name>` entry after `sinks:` (for checks that
/// need the whole file and so have no position from the parser).
fn line_of_name(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.replace(['"', '\''], "");
            l.split(['{', ',', '-'])
                .any(|part| part.trim() == format!("name: {name}"))
        })
        .map(|i| i + 1)
}

/// Parses a sinks file, returning it or every problem found.
pub fn parse(text: &str) -> Result<SinksFile, Vec<Problem>> {
    let file: SinksFile = serde_yaml::from_str(text).map_err(|e| {
        vec![Problem {
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
            error: true,
        }]
    })?;
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for s in &file.sinks {
        if !seen.insert(s.name().to_string()) {
            problems.push(Problem {
                line: line_of_name(text, s.name()),
                message: format!("two sinks are named {:?}", s.name()),
                error: true,
            });
        }
        if let SinkConfig::Webhook(w) = s {
            if w.secret_env.is_some() && w.secret_ssm.is_some() {
                problems.push(Problem {
                    line: line_of_name(text, s.name()),
                    message: format!(
                        "sink {:?}: give secret_env or secret_ssm, not both",
                        s.name()
                    ),
                    error: true,
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(problems)
    }
}

/// Everything [`lint`] finds: parse errors, and targets whose host resolves to an
/// address the SSRF policy refuses (a host that does not resolve now is a warning:
/// it is checked again on every send).
pub async fn lint(text: &str, resolver: &dyn Resolver) -> Vec<Problem> {
    let file = match parse(text) {
        Ok(f) => f,
        Err(problems) => return problems,
    };
    let mut problems = Vec::new();
    for s in &file.sinks {
        if let SinkConfig::Webhook(w) = s {
            if let Err(e) = w.url.0.resolve(resolver).await {
                let unresolvable = matches!(e, super::ssrf::TargetError::Unresolvable { .. });
                problems.push(Problem {
                    line: line_of_name(text, s.name()),
                    message: format!("sink {:?}: url: {e}", s.name()),
                    error: !unresolvable,
                });
            }
        }
    }
    problems
}

/// What building sinks needs besides their configuration.
#[derive(Clone)]
pub struct BuildContext {
    /// AWS configuration (SNS, SSM secrets); `None` locally without AWS.
    pub sdk: Option<aws_config::SdkConfig>,
    /// Where alerting sinks remember what they sent.
    pub dedup: Arc<dyn Dedup>,
    /// Host lookups for webhook targets (the system's; tests inject theirs).
    pub resolver: Arc<dyn Resolver>,
    /// Dashboard base URL for links in alerts.
    pub dashboard_url: Option<String>,
}

/// A sink could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A referenced secret could not be read.
    #[error("sink {sink:?}: {source}")]
    Secret {
        /// The sink.
        sink: String,
        /// Why.
        source: SecretError,
    },
    /// The sink needs AWS and none is configured.
    #[error("sink {0:?} (sns) needs AWS credentials and a region")]
    NeedsAws(String),
    /// Anything else the sink refused.
    #[error("sink {sink:?}: {source}")]
    Sink {
        /// The sink.
        sink: String,
        /// Why.
        source: SinkError,
    },
}

impl SinkConfig {
    /// Builds the sink (reading its secret once).
    pub async fn build(&self, ctx: &BuildContext) -> Result<Arc<dyn Sink>, BuildError> {
        let name = self.name().to_string();
        match self {
            SinkConfig::Log(c) => Ok(Arc::new(LogSink::new(name, filter_of!(c)))),
            SinkConfig::Webhook(c) => {
                let secret = match SecretRef::from_fields(
                    c.secret_env.as_deref(),
                    c.secret_ssm.as_deref(),
                ) {
                    Some(r) => {
                        let ssm = ctx.sdk.as_ref().map(aws_sdk_ssm::Client::new);
                        Some(r.resolve(ssm.as_ref()).await.map_err(|source| {
                            BuildError::Secret {
                                sink: name.clone(),
                                source,
                            }
                        })?)
                    }
                    None => None,
                };
                let timeout = c.timeout.map(|t| t.0).unwrap_or(Duration::from_secs(5));
                let sink = WebhookSink::new(
                    name.clone(),
                    c.url.0.clone(),
                    secret,
                    filter_of!(c),
                    timeout,
                    ctx.resolver.clone(),
                )
                .map_err(|source| BuildError::Sink { sink: name, source })?;
                Ok(Arc::new(sink))
            }
            SinkConfig::Sns(c) => {
                let sdk = ctx
                    .sdk
                    .as_ref()
                    .ok_or_else(|| BuildError::NeedsAws(name.clone()))?;
                let settings = SnsSettings {
                    name,
                    standard_topic: c.standard_topic_arn.0.clone(),
                    critical_topic: c.critical_topic_arn.as_ref().map(|t| t.0.clone()),
                    min_severity: c.min_severity.unwrap_or(Severity::High),
                    filter: filter_of!(c),
                    dashboard_url: ctx.dashboard_url.clone(),
                };
                Ok(Arc::new(SnsSink::new(settings, sdk, ctx.dedup.clone())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_file_parses() {
        let text = r#"
sinks:
  - {name: hook, kind: webhook, url: "https://hooks.example.com/cspm", secret_env: HOOK_SECRET, min_severity: HIGH, timeout: 5s}
  - {name: alerts, kind: sns, standard_topic_arn: "arn:aws:sns:us-east-1:111122223333:standard", critical_topic_arn: "arn:aws:sns:us-east-1:111122223333:critical", min_severity: HIGH}
  - {name: trail, kind: log}
"#;
        let f = parse(text).unwrap();
        assert_eq!(f.sinks.len(), 3);
        assert_eq!(f.sinks[0].kind(), "webhook");
        let SinkConfig::Webhook(w) = &f.sinks[0] else {
            panic!()
        };
        assert_eq!(w.timeout, Some(HumanDuration(Duration::from_secs(5))));
        assert_eq!(w.min_severity, Some(Severity::High));
    }

    #[test]
    fn problems_name_their_line() {
        let cases = [
            ("sinks:\n  - {name: a, kind: log}\n  - {name: b, kind: pager}\n", 3, "pager"),
            ("sinks:\n  - name: a\n    kind: log\n    colour: red\n", 2, "colour"),
            (
                "sinks:\n  - {name: a, kind: log}\n  - {name: m, kind: webhook, url: \"http://169.254.169.254/latest\"}\n",
                3,
                "169.254.169.254",
            ),
            ("sinks:\n  - {name: a, kind: log, min_severity: SEVERE}\n", 2, "SEVERE"),
            ("sinks:\n  - {name: s, kind: sns, standard_topic_arn: not-an-arn}\n", 2, "ARN"),
            ("sinks:\n  - {name: a, kind: log}\n  - {name: a, kind: log}\n", 2, "two sinks"),
            (
                "sinks:\n  - {name: w, kind: webhook, url: \"https://h.example.com/\", secret_env: A, secret_ssm: /b}\n",
                2,
                "not both",
            ),
        ];
        for (text, line, needle) in cases {
            let problems = parse(text).unwrap_err();
            let p = &problems[0];
            assert_eq!(p.line, Some(line), "{text}: {p}");
            assert!(p.to_string().contains(needle), "{text}: {p}");
        }
    }

    #[test]
    fn durations_read_common_units() {
        assert_eq!(
            HumanDuration::parse("250ms").unwrap().0,
            Duration::from_millis(250)
        );
        assert_eq!(
            HumanDuration::parse("2m").unwrap().0,
            Duration::from_secs(120)
        );
        assert!(HumanDuration::parse("soon").is_err());
        assert!(HumanDuration::parse("5").is_err());
    }
}
