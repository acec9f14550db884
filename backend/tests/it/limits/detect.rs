//! The detection side of the bounds: a policy of 10,000 statements is refused
//! by the analyzer with a reason (its checks are quadratic), a rule regex on a
//! 1 MB field matches in linear time, a regex that compiles too large is a
//! load error, and rule files nested 10,000 deep are a lint issue, not a crash.

use cspm::detect::condition::{Condition, MAX_REGEX_COMPILED_BYTES};
use cspm::detect::lint::lint_text;
use cspm::detect::policy::{analyze_detailed, PolicyContext, PolicyIssue, MAX_POLICY_STATEMENTS};
use cspm::sources::Normalizer;
use serde_json::{json, Value};

fn statements(n: usize) -> Value {
    let st: Vec<Value> = (0..n)
        .map(|i| json!({"Sid": format!("S{i}"), "Effect": if i % 2 == 0 {"Allow"} else {"Deny"},
            "Action": [format!("s3:GetObject{i}"), "iam:PassRole"], "Resource": format!("arn:aws:s3:::b{i}/*")}))
        .collect();
    json!({"Version": "2012-10-17", "Statement": st})
}

#[test]
fn a_policy_of_10000_statements_is_reported_too_large_not_analyzed() {
    let found = analyze_detailed(&statements(10_000), &PolicyContext::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].issue, PolicyIssue::Malformed);
    assert!(
        found[0].detail.contains("10000 statements")
            && found[0].detail.contains(&MAX_POLICY_STATEMENTS.to_string()),
        "{}",
        found[0].detail
    );
    // At the bound, the policy is analyzed as usual.
    let at_bound = analyze_detailed(
        &statements(MAX_POLICY_STATEMENTS),
        &PolicyContext::default(),
    );
    assert!(at_bound
        .iter()
        .all(|f| !f.detail.contains("statements: more than")));
}

#[test]
fn a_put_role_policy_event_with_10000_statements_is_normalized_without_a_finding() {
    let policy = statements(10_000).to_string();
    let event = json!({
        "version": "0", "id": "e1", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam", "account": "123456789012", "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1", "resources": [],
        "detail": {"eventVersion": "1.08", "eventSource": "iam.amazonaws.com",
            "eventName": "PutRolePolicy", "eventTime": "2024-01-01T00:00:00Z",
            "eventID": "e1", "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/u"},
            "requestParameters": {"roleName": "r", "policyName": "p", "policyDocument": policy}}
    });
    let out = Normalizer::default().parse_document(&event);
    // Too large to analyze is not a risk: the dangerous-policy rule stays quiet.
    assert!(
        out.findings
            .iter()
            .all(|f| !f.generator_id.contains("dangerous")),
        "{:?}",
        out.findings
            .iter()
            .map(|f| &f.generator_id)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_regex_condition_on_a_1_mb_field_matches_and_misses_in_linear_time() {
    let cond = Condition::compile(
        &serde_yaml::from_str("{path: requestParameters.key, regex: '(a|aa)+b$'}").unwrap(),
    )
    .unwrap();
    // Backtracking engines take exponential time on this pair; the regex crate is linear.
    let miss = json!({"requestParameters": {"key": "a".repeat(1_000_000)}});
    assert!(!cond.eval(&miss, &miss));
    let hit = json!({"requestParameters": {"key": format!("{}b", "a".repeat(1_000_000))}});
    assert!(cond.eval(&hit, &hit));
}

#[test]
fn a_regex_compiling_past_the_size_limit_is_a_rule_error_with_its_reason() {
    let yaml = serde_yaml::from_str("{path: a, regex: '(\\w{100}){100}'}").unwrap();
    let Err(e) = Condition::compile(&yaml) else {
        panic!("too large to compile")
    };
    let text = e.to_string();
    assert!(
        text.contains("bad regex") && text.contains("size limit"),
        "{text}"
    );
    // Tighter than the regex crate's default (10 MiB).
    const { assert!(MAX_REGEX_COMPILED_BYTES < 10 * 1024 * 1024) };
}

#[test]
fn rule_files_nested_10000_deep_are_lint_issues_not_crashes() {
    // As YAML flow collections and as nested `not:` conditions.
    let flow = format!(
        "id: x\nmatch: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let issues = lint_text("deep.yaml", &flow);
    assert!(!issues.is_empty());
    let mut nots = String::from("id: x\ntitle: t\nseverity: LOW\ndescription: d\nremediation: {text: r}\nmatch: {name: [A], where: ");
    for _ in 0..10_000 {
        nots.push_str("{not: ");
    }
    nots.push_str("{path: a, exists: true}");
    nots.push_str(&"}".repeat(10_001));
    nots.push_str("\ntests: []\n");
    let issues = lint_text("nots.yaml", &nots);
    assert!(
        issues.iter().any(|i| i.message.contains("recursion limit")),
        "{:?}",
        issues.iter().map(|i| &i.message).collect::<Vec<_>>()
    );
}
