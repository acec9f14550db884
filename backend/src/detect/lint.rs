//! `cspm rules lint`: every problem in every rule file at once (loading stops at
//! the first). Compile errors (unknown fields, bad paths, bad regexes, bad
//! templates) plus checks a compiler cannot make: paths into fields CloudTrail
//! records do not have, rules without positive and negative tests, failing tests.

use super::rule::{failing_tests, Rule, BUILTIN};
use super::ruleset::is_rule_file;
use std::path::Path;

/// Top-level fields of a CloudTrail record (paths must start with one of them).
const CLOUDTRAIL_FIELDS: &[&str] = &[
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "readOnly",
    "resources",
    "eventType",
    "apiVersion",
    "managementEvent",
    "recipientAccountId",
    "serviceEventDetails",
    "sharedEventID",
    "vpcEndpointId",
    "vpcEndpointAccountId",
    "eventCategory",
    "tlsDetails",
    "sessionCredentialFromConsole",
    "errorCode",
    "errorMessage",
    "insightDetails",
    "edgeDeviceDetails",
    "addendum",
];

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintIssue {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

/// Lints one rule file's text.
pub fn lint_text(file: &str, text: &str) -> Vec<LintIssue> {
    let issue = |message: String| LintIssue {
        file: file.to_string(),
        message,
    };
    let rule = match Rule::from_yaml(file, text) {
        Ok(r) => r,
        Err(e) => return vec![issue(e.to_string())],
    };
    let mut out = Vec::new();
    let id = &rule.spec.id;
    let mut paths: Vec<_> = rule.title.paths().chain(rule.description.paths()).collect();
    if let Some(c) = &rule.condition {
        paths.extend(c.paths());
    }
    for (_, t) in &rule.resources {
        paths.extend(t.paths());
    }
    if let Some((t, _)) = &rule.dedup {
        paths.extend(t.paths());
    }
    for p in paths {
        if let Some(k) = p.first_key() {
            if !CLOUDTRAIL_FIELDS.contains(&k) {
                out.push(issue(format!(
                    "rule {id}: path {p} starts with {k:?}, which CloudTrail records do not have"
                )));
            }
        }
    }
    if rule.spec.matcher.name.is_empty() {
        out.push(issue(format!("rule {id}: match.name is empty")));
    }
    if !rule.spec.tests.iter().any(|t| t.expect) {
        out.push(issue(format!("rule {id}: no positive test (expect: true)")));
    }
    if !rule.spec.tests.iter().any(|t| !t.expect) {
        out.push(issue(format!(
            "rule {id}: no negative test (expect: false)"
        )));
    }
    for name in failing_tests(&rule) {
        out.push(issue(format!("rule {id}: test {name:?} fails")));
    }
    out
}

/// Lints the built-in pack and every rule file in `dir`.
pub fn lint_all(dir: Option<&Path>) -> Vec<LintIssue> {
    let mut out: Vec<LintIssue> = BUILTIN.iter().flat_map(|(f, t)| lint_text(f, t)).collect();
    let Some(dir) = dir else {
        return out;
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            out.push(LintIssue {
                file: dir.display().to_string(),
                message: e.to_string(),
            });
            return out;
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_rule_file(p))
        .collect();
    files.sort();
    for p in files {
        let name = p.display().to_string();
        match std::fs::read_to_string(&p) {
            Ok(text) => out.extend(lint_text(&name, &text)),
            Err(e) => out.push(LintIssue {
                file: name,
                message: e.to_string(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_pack_is_lint_clean() {
        assert_eq!(lint_all(None), vec![]);
    }

    #[test]
    fn lint_names_unknown_fields_paths_regexes_and_missing_tests() {
        let base = BUILTIN
            .iter()
            .find(|(f, _)| *f == "console-login-without-mfa.yaml")
            .expect("rule exists")
            .1;
        let cases = [
            (
                base.replacen("severity:", "severty: LOW\nseverity:", 1),
                "severty",
            ),
            (
                base.replacen(
                    "responseElements.ConsoleLogin",
                    "respElements.ConsoleLogin",
                    1,
                ),
                "respElements",
            ),
            (
                base.replacen(
                    "{path: additionalEventData.MFAUsed, equals: \"No\"}",
                    "{path: additionalEventData.MFAUsed, regex: \"(\"}",
                    1,
                ),
                "regex",
            ),
            (
                base.replacen("a..b", "", 1)
                    .replacen("{{sourceIPAddress", "{{source..ip", 1),
                "path",
            ),
            (base.replace("expect: true", "expect: false"), "positive"),
        ];
        for (text, needle) in cases {
            let issues = lint_text("x.yaml", &text);
            assert!(
                issues.iter().any(|i| i.message.contains(needle)),
                "{needle}: {issues:?}"
            );
        }
    }
}
