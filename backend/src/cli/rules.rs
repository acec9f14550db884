//! `cspm rules`: list the pack, lint rule files, run their embedded tests, and
//! measure them on labelled cases.

use super::CliError;
use crate::detect::eval::{
    eval_policies, eval_rule_cases, load_map, Counts, PolicyLabel, PolicyVerdict, RuleEval, RuleMap,
};
use crate::detect::lint::lint_all;
use crate::detect::policy::PolicyIssue;
use crate::detect::rule::failing_tests;
use crate::detect::ruleset::RuleSet;
use crate::detect::settings::DetectionSettings;
use clap::{Args, Subcommand};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

/// `cspm rules` options.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Folder of user rule files (added to the built-in pack).
    #[arg(long, global = true, env = crate::config::ENV_RULES_DIR)]
    pub rules_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub action: RulesAction,
}

/// `cspm rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// One line per rule: id, severity, event names, test count.
    List,
    /// Report every problem in every rule file; exit 1 when there is one.
    Lint,
    /// Run every rule's embedded tests; exit 1 when one fails.
    Test,
    /// Per-rule precision and recall on labelled rule cases
    /// (`{"rule","expect_alert","event"}` files).
    Eval {
        /// Folder of rule-case files.
        dir: PathBuf,
        /// YAML map from the cases' rule ids to ours.
        #[arg(long, default_value = "backend/rules/eval/panther-map.yaml")]
        map: PathBuf,
        /// Detection settings to compile the pack with instead of the rules
        /// folder's (e.g. `backend/rules/eval/panther-settings.yaml`, the lists
        /// configured as the mapped rules are): rules that require an empty list
        /// are inert and miss every case.
        #[arg(long)]
        settings: Option<PathBuf>,
    },
    /// Agreement of the IAM policy analyzer with labelled policies
    /// (`DIR/MANIFEST.jsonl` lines with `file` and `label`).
    EvalPolicies {
        /// Folder of policies with a MANIFEST.jsonl.
        dir: PathBuf,
    },
}

/// Runs `cspm rules`.
pub fn run(args: RulesArgs) -> Result<ExitCode, CliError> {
    let dir = args.rules_dir.as_deref();
    let ok = match args.action {
        RulesAction::Lint => {
            let issues = lint_all(dir);
            for i in &issues {
                println!("{}: {}", i.file, i.message);
            }
            println!("{} issue(s)", issues.len());
            issues.is_empty()
        }
        RulesAction::List => {
            let set = RuleSet::with_user_dir(dir)?;
            for r in set.rules() {
                println!(
                    "{:<45} {:<8} {:<3} tests  {}",
                    r.spec.id,
                    r.spec.severity.as_str(),
                    r.spec.tests.len(),
                    r.spec.matcher.name.join(",")
                );
            }
            println!("{} rule(s)", set.rules().len());
            true
        }
        RulesAction::Test => {
            let set = RuleSet::with_user_dir(dir)?;
            let (mut cases, mut failed) = (0, 0);
            for r in set.rules() {
                cases += r.spec.tests.len();
                for name in failing_tests(r) {
                    failed += 1;
                    println!("FAIL {}: {name}", r.spec.id);
                }
            }
            println!(
                "{} rule(s), {cases} case(s), {failed} failed",
                set.rules().len()
            );
            failed == 0
        }
        RulesAction::Eval {
            dir: cases,
            map,
            settings,
        } => {
            let set = match settings {
                Some(file) => RuleSet::with_settings(dir, DetectionSettings::from_file(&file)?)?,
                None => RuleSet::with_user_dir(dir)?,
            };
            let map = load_map(&map, &set)?;
            let ev = eval_rule_cases(&cases, &map, &set)?;
            print_rule_eval(&ev, &map, &set);
            true
        }
        RulesAction::EvalPolicies { dir: policies } => {
            let (verdicts, skipped) = eval_policies(&policies)?;
            print_policy_eval(&verdicts, &skipped);
            true
        }
    };
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Per mapped rule: TP/FP/FN/TN, precision, recall; the total; the share of cases
/// mapped; every disagreement with its reason; the unmapped rules and why.
fn print_rule_eval(ev: &RuleEval, map: &RuleMap, set: &RuleSet) {
    println!(
        "{:<52} {:<45} {:>5} {:>3} {:>3} {:>3} {:>3} {:>9} {:>7}",
        "their rule", "our rule(s)", "cases", "TP", "FP", "FN", "TN", "precision", "recall"
    );
    for (theirs, (ours, c)) in &ev.per_rule {
        print!("{theirs:<52} ");
        print_counts(ours, c);
    }
    let total = ev.total();
    // The total line starts with its name (scripts and tests look for it).
    print!("{:<52} ", "ALL (micro)");
    print_counts("", &total);
    let (mapped, all) = ev.mapped_share();
    println!(
        "mapped: {mapped} of {all} case(s) ({:.1}%)",
        100.0 * mapped as f64 / all.max(1) as f64
    );
    let reason = |f: &str| {
        map.known_disagreements
            .get(f)
            .map(String::as_str)
            .unwrap_or("unexplained")
    };
    for f in &total.fp {
        println!("  false positive: {f}: {}", reason(f));
    }
    for f in &total.fn_ {
        println!("  false negative: {f}: {}", reason(f));
    }
    for (theirs, n) in &ev.unmapped {
        let why = map
            .unmapped
            .get(theirs)
            .map(String::as_str)
            .unwrap_or("not in the map");
        println!("  unmapped {theirs} ({n} case(s)): {why}");
    }
    for (f, why) in &ev.unreadable {
        println!("  unreadable: {f}: {why}");
    }
    // A mapped rule that is inert misses every case: say so, with the cure.
    let mapped: BTreeSet<&str> = map.map.values().flat_map(|t| t.ids()).collect();
    for r in set.rules().iter().filter(|r| r.inert) {
        if mapped.contains(r.spec.id.as_str()) {
            let needs: Vec<&str> = (r.spec.matcher.requires.iter())
                .filter(|l| set.settings().list(**l).is_empty())
                .map(|l| l.key())
                .collect();
            println!(
                "  inert: {} (empty in the detection settings: {}; see --settings)",
                r.spec.id,
                needs.join(", ")
            );
        }
    }
}

/// Label × verdict table, every disagreement with the analyzer's reasons and the
/// label's source, then the agreement (the last line).
fn print_policy_eval(verdicts: &[PolicyVerdict], skipped: &[String]) {
    println!(
        "{:<10} {:>6} {:>6} {:>10} {:>6}",
        "label", "risky", "clean", "malformed", "agree"
    );
    for label in [
        PolicyLabel::Dangerous,
        PolicyLabel::Benign,
        PolicyLabel::Malformed,
    ] {
        let of: Vec<&PolicyVerdict> = verdicts.iter().filter(|v| v.label == label).collect();
        println!(
            "{:<10} {:>6} {:>6} {:>10} {:>6}",
            label.as_str(),
            of.iter().filter(|v| v.risky()).count(),
            of.iter().filter(|v| !v.risky()).count(),
            of.iter().filter(|v| v.malformed()).count(),
            of.iter().filter(|v| v.agrees()).count(),
        );
    }
    print_policy_checks(verdicts);
    for v in verdicts.iter().filter(|v| !v.agrees()) {
        println!(
            "disagree  {}  label {} ({})",
            v.file,
            v.label.as_str(),
            v.label_source
        );
        if v.findings.is_empty() {
            println!("    analyzer: nothing found");
        }
        for f in &v.findings {
            println!("    analyzer: {:?}: {}", f.issue, f.detail);
        }
    }
    for f in skipped {
        println!("skipped (no usable label): {f}");
    }
    let agree = verdicts.iter().filter(|v| v.agrees()).count();
    println!(
        "agreement {agree}/{} = {:.1}%",
        verdicts.len(),
        100.0 * agree as f64 / verdicts.len().max(1) as f64
    );
}

/// Per check (issue kind): on how many policies of each label it fired. On a risk
/// check, hits on `dangerous` are true positives and hits on `benign` false ones.
fn print_policy_checks(verdicts: &[PolicyVerdict]) {
    let labels = [
        PolicyLabel::Dangerous,
        PolicyLabel::Benign,
        PolicyLabel::Malformed,
    ];
    let mut per_check: BTreeMap<PolicyIssue, [usize; 3]> = BTreeMap::new();
    for v in verdicts {
        let kinds: BTreeSet<PolicyIssue> = v.findings.iter().map(|f| f.issue).collect();
        let col = labels.iter().position(|l| *l == v.label).unwrap_or(0);
        for k in kinds {
            per_check.entry(k).or_default()[col] += 1;
        }
    }
    println!(
        "{:<26} {:>9} {:>6} {:>9}",
        "check", "dangerous", "benign", "malformed"
    );
    for (k, [d, b, m]) in per_check {
        println!("{:<26} {d:>9} {b:>6} {m:>9}", format!("{k:?}"));
    }
}

fn print_counts(id: &str, c: &Counts) {
    println!(
        "{:<45} {:>5} {:>3} {:>3} {:>3} {:>3} {:>8.1}% {:>6.1}%",
        id,
        c.cases(),
        c.tp,
        c.fp.len(),
        c.fn_.len(),
        c.tn,
        100.0 * c.precision(),
        100.0 * c.recall()
    );
}
