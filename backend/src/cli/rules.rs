//! `cspm rules`: list the pack, lint rule files, run their embedded tests, and
//! measure them on labelled cases.

use super::CliError;
use crate::detect::eval::{eval_policies, eval_rule_cases, load_map, Counts};
use crate::detect::lint::lint_all;
use crate::detect::rule::failing_tests;
use crate::detect::ruleset::RuleSet;
use clap::{Args, Subcommand};
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
        RulesAction::Eval { dir: cases, map } => {
            let set = RuleSet::with_user_dir(dir)?;
            let map = load_map(&map, &set)?;
            let ev = eval_rule_cases(&cases, &map, &set)?;
            println!(
                "{:<45} {:>5} {:>3} {:>3} {:>3} {:>3} {:>9} {:>7}",
                "rule", "cases", "TP", "FP", "FN", "TN", "precision", "recall"
            );
            for (id, c) in &ev.per_rule {
                print_counts(id, c);
            }
            let total = ev.total();
            print_counts("ALL (micro)", &total);
            for f in &total.fp {
                println!("  false positive: {f}");
            }
            for f in &total.fn_ {
                println!("  false negative: {f}");
            }
            println!("{} case(s) for unmapped rules skipped", ev.unmapped);
            for (f, why) in &ev.unreadable {
                println!("  unreadable: {f}: {why}");
            }
            true
        }
        RulesAction::EvalPolicies { dir: policies } => {
            let verdicts = eval_policies(&policies)?;
            let agree = verdicts.iter().filter(|v| v.agrees()).count();
            for v in verdicts.iter().filter(|v| !v.agrees()) {
                println!(
                    "disagree  {}  label={}  analyzer={:?}",
                    v.file,
                    if v.labelled_dangerous {
                        "dangerous"
                    } else {
                        "benign"
                    },
                    v.issues
                );
            }
            println!(
                "agreement {agree}/{} = {:.1}%",
                verdicts.len(),
                100.0 * agree as f64 / verdicts.len().max(1) as f64
            );
            true
        }
    };
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
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
