//! `cspm rules` and `cspm ingest` detection flags, run as the real binary.

use super::helpers::corpus_dir;
use std::process::Command;

const CSPM: &str = env!("CARGO_BIN_EXE_cspm");

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(CSPM)
        .args(args)
        .env_remove("CSPM_RULES_DIR")
        .env_remove("CSPM_SUPPRESSIONS")
        .env_remove("CSPM_ACCOUNT_ID_OVERRIDE")
        .output()
        .expect("cspm runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn lint_and_test_pass_on_the_pack_and_lint_fails_on_a_broken_user_rule() {
    let (ok, text) = run(&["rules", "lint"]);
    assert!(ok, "{text}");
    assert!(text.contains("0 issue(s)"), "{text}");
    let (ok, text) = run(&["rules", "test"]);
    assert!(ok && text.contains("0 failed"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "id: x\ntitle: t\nseverity: LOW\ndescription: d\nremediation: {text: r}\nmatch: {name: [A], where: {path: requestParameters.a, regex: '('}}\ntests: []\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, text) = run(&["rules", "--rules-dir", d, "lint"]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("bad.yaml") && text.contains("regex"),
        "{text}"
    );
    // A broken rule stops ingest before anything is stored.
    let data = tempfile::tempdir().unwrap();
    let file = corpus_dir()
        .join("cloudtrail/stratus__aws.defense-evasion.cloudtrail-stop_StopLogging.json");
    let (ok, text) = run(&[
        "ingest",
        "--rules-dir",
        d,
        "--data-dir",
        data.path().to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("bad.yaml"), "{text}");
}

#[test]
fn lint_names_the_line_and_column_of_a_yaml_syntax_error() {
    let dir = tempfile::tempdir().unwrap();
    // The flow mapping opened on line 5 is never closed; the parser notices on line 6.
    std::fs::write(
        dir.path().join("unclosed.yaml"),
        "id: x\ntitle: t\nseverity: LOW\ndescription: d\nmatch: {name: [A]\ntests: []\n",
    )
    .unwrap();
    let (ok, text) = run(&["rules", "--rules-dir", dir.path().to_str().unwrap(), "lint"]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("unclosed.yaml")
            && text.contains("at line 6 column 1")
            && text.contains("at line 5 column 8"),
        "{text}"
    );
}

#[test]
fn eval_prints_precision_and_recall_for_the_mapped_rules() {
    let map = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/eval/panther-map.yaml");
    // The organisation's lists as the mapped Panther rules configure theirs.
    let settings = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/eval/panther-settings.yaml"
    );
    let cases = corpus_dir().join("rule-case");
    let (ok, text) = run(&[
        "rules",
        "eval",
        cases.to_str().unwrap(),
        "--map",
        map,
        "--settings",
        settings,
    ]);
    assert!(ok, "{text}");
    let total = text
        .lines()
        .find(|l| l.starts_with("ALL (micro)"))
        .expect("a total line");
    let pct: Vec<f64> = total
        .split_whitespace()
        .filter_map(|t| t.strip_suffix('%'))
        .map(|t| t.parse().expect("a percentage"))
        .collect();
    assert_eq!(pct.len(), 2, "{total}");
    assert!(
        pct[0] >= 95.0 && pct[1] >= 95.0,
        "precision/recall goal: {total}"
    );
    let mapped: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("mapped: "))
        .and_then(|l| l.rsplit('(').next())
        .and_then(|p| p.trim_end_matches("%)").parse().ok())
        .expect("a mapped line");
    assert!(mapped >= 60.0, "share of cases mapped: {text}");
    assert!(!text.contains("unexplained"), "{text}");
    let (ok, text) = run(&[
        "rules",
        "eval-policies",
        corpus_dir().join("iam-policy").to_str().unwrap(),
    ]);
    let agreement: f64 = text
        .lines()
        .find_map(|l| l.split("= ").nth(1))
        .and_then(|p| p.trim_end_matches('%').parse().ok())
        .expect("an agreement line");
    assert!(ok && agreement >= 90.0, "{text}");
}
