//! The sinks file: one YAML document naming every sink (`cspm serve --sinks FILE`,
//! `CSPM_SINKS`; on AWS the same YAML in the SSM parameter the `fanout` Lambda's
//! `CSPM_SINKS_PARAMETER` names). Secrets are referenced, never inline:
//!
//! ```yaml
//! sinks:
//!   - {name: hook, kind: webhook, url: "https://hooks.example.com/cspm", secret_env: HOOK_SECRET, min_severity: HIGH, timeout: 5s}
//!   - {name: alerts, kind: sns, standard_topic_arn: "arn:aws:sns:us-east-1:111122223333:standard", critical_topic_arn: "arn:aws:sns:us-east-1:111122223333:critical", min_severity: HIGH}
//!   - {name: trail, kind: log}
//!   - {name: oncall, kind: slack, webhook_url_env: SLACK_ONCALL_URL}        # or token_env + channel
//!   - {name: secmail, kind: ses, from: security@example.com, to: [secops@example.com]}
//! routes:                                   # optional; see routes.rs and docs/alerts.md
//!   - {name: critical-prod, match: {severity_at_least: CRITICAL, account: ["111122223333"]}, to: [oncall, secmail]}
//!   - {name: iam, match: {rule: ["aws.iam.*"]}, to: [secmail], stop: true}
//! ```
//!
//! With `routes:`, a sink no matching route names receives nothing. Without, Slack
//! and e-mail sinks get the shipped default (HIGH and above) and the older kinds
//! keep their own filters ([`SinksFile::routing`]).
//!
//! Parsing checks every field it can where it reads it (unknown fields and kinds,
//! severities, URLs against the SSRF policy, topic ARNs, names, route keys), so
//! each error carries its line; what needs the whole file (duplicate names, both
//! secret sources, routes naming unknown sinks) is checked after, and the line
//! found by the sink's or route's name. Inline Slack URLs and tokens are found in
//! the text itself (inline_secrets.rs), wherever they are written.

/// Building the kinds that call AWS (sns, ses), or saying this build lacks them.
mod aws_kinds;
/// The checked values the file is made of.
mod values;
pub use values::{EmailAddress, EnvName, HumanDuration, SinkName, TargetUrl, TopicArn};

use super::dedup::Dedup;
use super::inline_secrets;
use super::log::LogSink;
use super::routed::Routed;
use super::routes::{self, Route};
use super::secrets::{SecretError, SecretRef};
use super::slack::{Destination, SlackSettings, SlackSink, POST_MESSAGE_URL};
use super::ssrf::Resolver;
use super::throttle::notice::Notify;
use super::throttle::quiet::QuietHours;
use super::throttle::sink::Throttled;
use super::throttle::state::ThrottleState;
use super::webhook::WebhookSink;
use super::{Filter, Sink, SinkError};
use serde::{Deserialize, Deserializer};
use shared_types::{ChangeKind, Severity};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinksFile {
    /// Every sink.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// Which sinks each change goes to (routes.rs). Given, they govern every sink
    /// of the file: a sink no matching route names receives nothing. Absent, the
    /// shipped default ([`routes::default_routes`]: HIGH and above) governs the
    /// kinds that only ever send as routed (Slack, e-mail), and the older kinds
    /// (webhook, sns, log) keep their own filters, as before routes existed.
    #[serde(default)]
    pub routes: Option<Vec<Route>>,
    /// Per sink (Slack, e-mail): a daily period during which immediate messages
    /// wait for the next digest, flushed when it ends (throttle/quiet.rs).
    #[serde(default)]
    pub quiet_hours: BTreeMap<String, QuietHours>,
}

impl SinksFile {
    /// The routes in force and the names of the sinks they govern.
    pub fn routing(&self) -> (Vec<Route>, Vec<String>) {
        match &self.routes {
            Some(r) => (
                r.clone(),
                self.sinks.iter().map(|s| s.name().to_string()).collect(),
            ),
            None => {
                let routed: Vec<String> = self
                    .sinks
                    .iter()
                    .filter(|s| s.routed_only())
                    .map(|s| s.name().to_string())
                    .collect();
                (routes::default_routes(routed.clone()), routed)
            }
        }
    }
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
    /// Slack messages.
    Slack(SlackConfig),
    /// E-mail through SES v2.
    Ses(SesConfig),
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
        f.write_str("a sink: a map with a name and a kind (webhook, sns, log, slack or ses)")
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
        let kind = kind.ok_or_else(|| {
            A::Error::custom("missing field `kind` (webhook, sns, log, slack or ses)")
        })?;
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
            "slack" => serde_yaml::from_value(body)
                .map(SinkConfig::Slack)
                .map_err(typed),
            "ses" => serde_yaml::from_value(body)
                .map(SinkConfig::Ses)
                .map_err(typed),
            other => Err(A::Error::custom(format!(
                "unknown sink kind `{other}` (expected webhook, sns, log, slack or ses)"
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

/// `kind: slack`: an incoming webhook (`webhook_url_env` / `webhook_url_ssm`) or
/// `chat.postMessage` (`token_env` / `token_ssm` + `channel`). Exactly one secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Sink name.
    pub name: SinkName,
    /// Environment variable holding the incoming-webhook URL.
    #[serde(default)]
    pub webhook_url_env: Option<EnvName>,
    /// SSM SecureString holding the incoming-webhook URL (AWS).
    #[serde(default)]
    pub webhook_url_ssm: Option<String>,
    /// Environment variable holding a bot token (`chat.postMessage`).
    #[serde(default)]
    pub token_env: Option<EnvName>,
    /// SSM SecureString holding a bot token (AWS).
    #[serde(default)]
    pub token_ssm: Option<String>,
    /// Channel id or name for `chat.postMessage`.
    #[serde(default)]
    pub channel: Option<String>,
    /// Where `chat.postMessage` is (default Slack's; a relay or test server).
    #[serde(default)]
    pub api_url: Option<TargetUrl>,
    /// At most one message per this interval (default 1s, Slack's per-channel
    /// limit); `0s` turns pacing off.
    #[serde(default)]
    pub min_interval: Option<HumanDuration>,
    /// Request timeout (default 10s).
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    /// Only changes whose finding is at least this severe (routes usually decide).
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Only these kinds of change.
    #[serde(default)]
    pub changes: Vec<ChangeKind>,
    /// Also demo data, archival and restores (off by default).
    #[serde(default)]
    pub include_quiet: bool,
}

impl SlackConfig {
    /// What is wrong with the secret fields, if anything: exactly one of the four,
    /// and `channel` with a token only.
    fn check(&self) -> Option<String> {
        let given = [
            self.webhook_url_env.is_some(),
            self.webhook_url_ssm.is_some(),
            self.token_env.is_some(),
            self.token_ssm.is_some(),
        ];
        let token = self.token_env.is_some() || self.token_ssm.is_some();
        match given.iter().filter(|g| **g).count() {
            0 => Some("give webhook_url_env, webhook_url_ssm, token_env or token_ssm".into()),
            1 if token && self.channel.is_none() => {
                Some("a token posts with chat.postMessage: give the channel too".into())
            }
            1 if !token && (self.channel.is_some() || self.api_url.is_some()) => Some(
                "an incoming webhook posts to its own channel: channel and api_url go with a token"
                    .into(),
            ),
            1 => None,
            _ => Some("give one of webhook_url_env, webhook_url_ssm, token_env, token_ssm".into()),
        }
    }
}

/// `kind: ses`: alert e-mails through SES v2.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SesConfig {
    /// Sink name.
    pub name: SinkName,
    /// The from-address (a verified SES identity).
    pub from: EmailAddress,
    /// Recipients (one address or a list).
    #[serde(deserialize_with = "super::routes::one_or_many")]
    pub to: Vec<EmailAddress>,
    /// The account's send rate in recipients per second (default 1, the sandbox's).
    #[serde(default)]
    pub max_send_rate: Option<f64>,
    /// Only changes whose finding is at least this severe (routes usually decide).
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

impl SinkConfig {
    /// The sink's name.
    pub fn name(&self) -> &str {
        match self {
            SinkConfig::Webhook(c) => &c.name.0,
            SinkConfig::Sns(c) => &c.name.0,
            SinkConfig::Log(c) => &c.name.0,
            SinkConfig::Slack(c) => &c.name.0,
            SinkConfig::Ses(c) => &c.name.0,
        }
    }

    /// True for kinds that send only as routed (under the default route when the
    /// file has none): Slack and e-mail, which came with routes.
    pub fn routed_only(&self) -> bool {
        matches!(self, SinkConfig::Slack(_) | SinkConfig::Ses(_))
    }

    /// True when building the sink needs AWS (SNS, SES, a secret in SSM).
    pub fn needs_aws(&self) -> bool {
        match self {
            SinkConfig::Sns(_) | SinkConfig::Ses(_) => true,
            SinkConfig::Webhook(w) => w.secret_ssm.is_some(),
            SinkConfig::Slack(c) => c.webhook_url_ssm.is_some() || c.token_ssm.is_some(),
            SinkConfig::Log(_) => false,
        }
    }

    /// The kind, as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkConfig::Webhook(_) => "webhook",
            SinkConfig::Sns(_) => "sns",
            SinkConfig::Log(_) => "log",
            SinkConfig::Slack(_) => "slack",
            SinkConfig::Ses(_) => "ses",
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

/// The line of `name: <name>` in the `routes:` section.
fn line_of_route(text: &str, name: &str) -> Option<usize> {
    let start = text
        .lines()
        .position(|l| l.trim_start().starts_with("routes:"))?;
    let rest: String = text.lines().skip(start).collect::<Vec<_>>().join("\n");
    line_of_name(&rest, name).map(|l| l + start)
}

/// The line of `<name>:` in the `quiet_hours:` section.
fn line_of_quiet(text: &str, name: &str) -> Option<usize> {
    let start = text
        .lines()
        .position(|l| l.trim_start().starts_with("quiet_hours:"))?;
    text.lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| {
            l.replace(['"', '\''], "")
                .split(['{', ',', ' '])
                .any(|part| part == format!("{name}:"))
        })
        .map(|(i, _)| i + 1)
}

/// What is wrong with a route's throttling options: the digest's two keys go
/// together, and no window is empty.
fn throttle_problem(r: &Route) -> Option<String> {
    match (r.digest_after, r.digest_window) {
        (Some(_), None) | (None, Some(_)) => {
            return Some("digest_after and digest_window go together: give both".into())
        }
        (_, Some(w)) if w.0.is_zero() => {
            return Some("digest_window: give a window above 0s".into())
        }
        _ => {}
    }
    r.dedup
        .filter(|d| d.0.is_zero())
        .map(|_| "dedup: give a window above 0s, or leave dedup out".into())
}

/// Parses a sinks file, returning it or every problem found.
pub fn parse(text: &str) -> Result<SinksFile, Vec<Problem>> {
    // Inline secrets first, from the text: they are refused wherever they are, and
    // reported even when the file does not parse.
    let mut problems: Vec<Problem> = inline_secrets::scan(text)
        .into_iter()
        .map(|s| Problem {
            line: Some(s.line),
            message: s.message,
            error: true,
        })
        .collect();
    let file: SinksFile = match serde_yaml::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            problems.push(Problem {
                line: e.location().map(|l| l.line()),
                message: e.to_string(),
                error: true,
            });
            return Err(problems);
        }
    };
    let mut route_names = std::collections::HashSet::new();
    for r in file.routes.iter().flatten() {
        let name = &r.name.0;
        let line = line_of_route(text, name);
        if !route_names.insert(name.clone()) {
            problems.push(Problem {
                line,
                message: format!("two routes are named {name:?}"),
                error: true,
            });
        }
        if let Some(m) = throttle_problem(r) {
            problems.push(Problem {
                line,
                message: format!("route {name:?}: {m}"),
                error: true,
            });
        }
        for to in &r.to {
            if !file.sinks.iter().any(|s| s.name() == to) {
                problems.push(Problem {
                    line,
                    message: format!("route {name:?}: no sink is named {to:?}"),
                    error: true,
                });
            }
        }
    }
    for name in file.quiet_hours.keys() {
        let message = match file.sinks.iter().find(|s| s.name() == name) {
            None => format!("quiet_hours: no sink is named {name:?}"),
            Some(s) if !s.routed_only() => format!(
                "quiet_hours: sink {name:?} is a {} sink; quiet hours apply to slack and ses sinks",
                s.kind()
            ),
            Some(_) => continue,
        };
        problems.push(Problem {
            line: line_of_quiet(text, name),
            message,
            error: true,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for s in &file.sinks {
        if !seen.insert(s.name().to_string()) {
            problems.push(Problem {
                line: line_of_name(text, s.name()),
                message: format!("two sinks are named {:?}", s.name()),
                error: true,
            });
        }
        if let SinkConfig::Ses(c) = s {
            if c.max_send_rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
                problems.push(Problem {
                    line: line_of_name(text, s.name()),
                    message: format!(
                        "sink {:?}: max_send_rate is recipients per second, above 0",
                        s.name()
                    ),
                    error: true,
                });
            }
        }
        if let SinkConfig::Slack(c) = s {
            if let Some(m) = c.check() {
                problems.push(Problem {
                    line: line_of_name(text, s.name()),
                    message: format!("sink {:?}: {m}", s.name()),
                    error: true,
                });
            }
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
    if file.routes.as_ref().is_some_and(Vec::is_empty) {
        problems.push(Problem {
            line: text
                .lines()
                .position(|l| l.trim_start().starts_with("routes:"))
                .map(|i| i + 1),
            message: "routes: [] sends nothing anywhere; leave `routes` out for the default \
                      (HIGH and above to every Slack and e-mail sink)"
                .into(),
            error: false,
        });
    }
    for s in &file.sinks {
        if !aws_kinds::available(s.kind()) {
            problems.push(Problem {
                line: line_of_name(text, s.name()),
                message: format!(
                    "sink {:?}: {}",
                    s.name(),
                    crate::aws::NotBuilt(if s.kind() == "sns" {
                        "an SNS sink (kind: sns)"
                    } else {
                        "an e-mail sink (kind: ses)"
                    })
                ),
                error: true,
            });
        }
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

/// Building the sinks of a file: their context, errors and the routed and
/// throttled wrapping.
mod build;
pub use build::{BuildContext, BuildError, Built};

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
            (
                "sinks:\n  - {name: a, kind: log}\nroutes:\n  - {name: r, to: [a]}\n  - {name: s, match: {severity: HIGH}, to: [a, pager]}\n",
                5,
                "no sink is named \"pager\"",
            ),
            (
                "sinks:\n  - {name: a, kind: log}\nroutes:\n  - name: r\n    match: {severity_at_least: SEVERE}\n    to: [a]\n",
                5,
                "SEVERE",
            ),
            (
                "sinks:\n  - {name: a, kind: log}\nroutes:\n  - name: r\n    match: {acount: \"1\"}\n    to: [a]\n",
                5,
                "acount",
            ),
            (
                "sinks:\n  - {name: a, kind: log}\nroutes:\n  - {name: r, to: [a], dedupe: 1h}\n",
                4,
                "dedupe",
            ),
            (
                "sinks:\n  - {name: a, kind: log}\nroutes:\n  - {name: r, to: [a]}\n  - {name: r, to: [a]}\n",
                4,
                "two routes",
            ),
            (
                "sinks:\n  - {name: h, kind: webhook, url: \"https://hooks.slack.com/services/T0/B0/abcSECRET\"}\n",
                2,
                "inline Slack webhook URL",
            ),
            (
                "sinks:\n  - {name: a, kind: slack, webhook_url_env: A}\nroutes:\n  - {name: r, to: [a], dedup: soon}\n",
                4,
                "soon",
            ),
            (
                "sinks:\n  - {name: a, kind: slack, webhook_url_env: A}\nroutes:\n  - {name: r, to: [a]}\n  - {name: d, to: [a], digest_after: 20}\n",
                5,
                "go together",
            ),
            (
                "sinks:\n  - {name: a, kind: slack, webhook_url_env: A}\nquiet_hours:\n  b: {from: \"22:00\", to: \"07:00\", tz: UTC}\n",
                4,
                "no sink is named \"b\"",
            ),
            (
                "sinks:\n  - {name: a, kind: log}\nquiet_hours:\n  a: {from: \"22:00\", to: \"07:00\", tz: UTC}\n",
                4,
                "apply to slack and ses",
            ),
            (
                "sinks:\n  - {name: a, kind: slack, webhook_url_env: A}\nquiet_hours:\n  a: {from: \"22:00\", to: \"07:00\", tz: Mars/Base}\n",
                4,
                "Mars/Base",
            ),
            (
                "sinks:\n  - {name: a, kind: slack, webhook_url_env: A}\n\nquiet_hours:\n  a:\n    from: \"25:00\"\n    to: \"07:00\"\n    tz: UTC\n",
                5,
                "25:00",
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
    fn no_problem_repeats_an_inline_secret() {
        let text = "sinks:\n  - {name: h, kind: webhook, url: \"https://hooks.slack.com/services/T0/B0/abcSECRET\"}\n";
        for p in parse(text).unwrap_err() {
            assert!(!p.to_string().contains("abcSECRET"), "{p}");
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
