//! `cspm remediate plan|apply FINDING_ID`: show what fixing a finding would call,
//! or fix it now (a person at a terminal is the approval). Exit codes of `apply`:
//! 0 applied and verified (or nothing left to do), 2 refused by a guard (its name
//! on stderr), 3 the action failed or did not verify, 1 anything else.
//! `apply --expect-state HASH` (the plan's `state_hash`) applies only to the
//! state that was planned on.

use super::{CliError, StoreArgs};
use crate::pipeline::Pipeline;
use crate::remediate::config::RemediationConfig;
use crate::remediate::guards::Approval;
use crate::remediate::ledger::{AttemptLog, Ledger};
use crate::remediate::local::SqliteRemediations;
use crate::remediate::outcome::ApplyOutcome;
use crate::remediate::plan::{self, Plan};
use crate::remediate::records::RemediationRecords;
use crate::remediate::registry::Registry;
use crate::remediate::run::Remediator;
use crate::remediate::terminal;
use crate::sources::Normalizer;
use chrono::Utc;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Who approves a remediation run from the command line (as the API names an
/// unauthenticated local caller).
const APPROVER: &str = "local (cspm remediate apply)";

/// `cspm remediate …`
#[derive(Debug, Args)]
pub struct RemediateCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: RemediateAction,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum RemediateAction {
    /// Print the plan: the action, the exact AWS calls, the current state, what is
    /// left after, and every guard's verdict. Changes nothing.
    Plan {
        /// The finding's id (one may start with `-`: ids are base64url).
        #[arg(allow_hyphen_values = true)]
        finding_id: String,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
        /// Remediation options.
        #[command(flatten)]
        opts: RemediateArgs,
    },
    /// Apply the plan now, verify it, and resolve the finding.
    Apply {
        /// The finding's id (one may start with `-`: ids are base64url).
        #[arg(allow_hyphen_values = true)]
        finding_id: String,
        /// The `state_hash` a plan printed: refuse (changed-since-plan, exit 2)
        /// unless the resource is still in that state.
        #[arg(long, value_name = "HASH", value_parser = parse_state_hash)]
        expect_state: Option<String>,
        /// Remediation options.
        #[command(flatten)]
        opts: RemediateArgs,
    },
}

/// Options shared by `plan` and `apply`.
#[derive(Debug, Args)]
pub struct RemediateArgs {
    /// The remediation file (YAML); without it nothing is enabled (plan only).
    #[arg(long = "remediation", env = crate::config::ENV_REMEDIATION)]
    pub remediation: Option<PathBuf>,
    /// Store options (`--aws-endpoint`/`--aws-region` also say where the fix goes).
    #[command(flatten)]
    pub store: StoreArgs,
}

/// No credentials for the fix's AWS calls.
#[cfg(feature = "aws")]
#[derive(Debug, thiserror::Error)]
#[error(
    "no AWS credentials found for remediation: set AWS_ACCESS_KEY_ID and \
     AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (after `aws configure` or `aws sso login`); \
     an emulator given with --aws-endpoint accepts any values ({0})"
)]
struct NoCredentials(String);

/// A `--expect-state` value: 64 lowercase hex digits, as `plan` prints it.
fn parse_state_hash(s: &str) -> Result<String, String> {
    if plan::is_state_hash(s) {
        Ok(s.to_string())
    } else {
        Err("expected the 64 hex digits of a plan's state_hash".into())
    }
}

async fn remediator(
    opts: &RemediateArgs,
    ledger: Arc<dyn AttemptLog>,
) -> Result<Remediator, CliError> {
    // A bad file stops before anything is read or called.
    let mut config = match &opts.remediation {
        Some(path) => RemediationConfig::load(path)?,
        None => RemediationConfig::default(),
    };
    let registry = registry(&opts.store.aws.target(), &mut config).await?;
    let store = opts.store.store_config().build().await?;
    Ok(Remediator {
        config,
        registry,
        // Only the workflow path is used: detection settings do not matter here.
        pipeline: Pipeline::new(Arc::new(Normalizer::default()), store),
        ledger,
    })
}

/// The actions, calling AWS at `target` (checked for credentials first), with
/// the credentials' own principal added to `config`'s protected ones.
#[cfg(feature = "aws")]
pub(super) async fn registry(
    target: &crate::aws::AwsTarget,
    config: &mut RemediationConfig,
) -> Result<Registry, CliError> {
    let sdk = crate::aws::sdk_config(target).await;
    if let Some(detail) = crate::aws::credentials_missing(&sdk).await {
        return Err(NoCredentials(detail).into());
    }
    let me = crate::remediate::own_identity::protect_caller(&sdk, config)
        .await
        .map_err(|e| format!("remediation needs to know whom it runs as: {e}"))?;
    tracing::info!(caller = %me, "remediation runs as this principal; it is protected");
    Ok(Registry::new(&sdk, config))
}

/// Every action calls AWS: a build without the AWS adapters has none to run.
#[cfg(not(feature = "aws"))]
pub(super) async fn registry(
    _: &crate::aws::AwsTarget,
    _: &mut RemediationConfig,
) -> Result<Registry, CliError> {
    Err(crate::aws::NotBuilt("remediation (its actions call AWS)").into())
}

/// Runs `cspm remediate`.
pub async fn run(cmd: RemediateCommand) -> Result<ExitCode, CliError> {
    match cmd.action {
        RemediateAction::Plan {
            finding_id,
            json,
            opts,
        } => {
            let plan = remediator(&opts, tables(&opts).await?.ledger)
                .await?
                .plan(&finding_id, &approver(), Utc::now())
                .await?;
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &plan)?;
                writeln!(out)?;
            } else {
                print_plan(&plan, &mut out)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        RemediateAction::Apply {
            finding_id,
            expect_state,
            opts,
        } => {
            let Tables { ledger, records } = tables(&opts).await?;
            let r = remediator(&opts, ledger).await?;
            let Some(records) = records else {
                let outcome = r
                    .apply(
                        &finding_id,
                        &approver(),
                        expect_state.as_deref(),
                        Utc::now(),
                    )
                    .await?;
                return Ok(report(&outcome));
            };
            let applied = terminal::apply(
                &r,
                records.as_ref(),
                &finding_id,
                &approver(),
                expect_state.as_deref(),
                Utc::now(),
            )
            .await?;
            if let Some(record) = &applied.record {
                eprintln!(
                    "recorded as remediation {} ({})",
                    record.id,
                    record.status.as_str()
                );
            }
            Ok(report(&applied.outcome))
        }
    }
}

/// Where an apply at the terminal is recorded and the rate limit counted,
/// beside the approvals a server queues: the SQLite file of the findings and
/// the ledger file; or, with `--store dynamodb` and `CSPM_REMEDIATION_TABLE`,
/// the deployment's remediations table, whose records and attempt counts the
/// Lambdas share (without it: the ledger file, and no record, said on stderr).
struct Tables {
    ledger: Arc<dyn AttemptLog>,
    records: Option<Arc<dyn RemediationRecords>>,
}

async fn tables(opts: &RemediateArgs) -> Result<Tables, CliError> {
    let local_ledger = || Arc::new(Ledger::in_dir(&opts.store.data_dir)) as Arc<dyn AttemptLog>;
    match opts.store.store {
        super::StoreKind::Sqlite => Ok(Tables {
            ledger: local_ledger(),
            records: Some(Arc::new(SqliteRemediations::open_dir(
                &opts.store.data_dir,
            )?)),
        }),
        super::StoreKind::Dynamodb => match std::env::var(crate::config::ENV_REMEDIATION_TABLE) {
            Ok(table) => shared_tables(opts, table).await,
            Err(_) => {
                eprintln!(
                    "note: not recorded in GET /remediations, and the hourly limit counted \
                     in {}: set {} to the deployment's remediations table",
                    opts.store.data_dir.display(),
                    crate::config::ENV_REMEDIATION_TABLE
                );
                Ok(Tables {
                    ledger: local_ledger(),
                    records: None,
                })
            }
        },
    }
}

#[cfg(feature = "aws")]
async fn shared_tables(opts: &RemediateArgs, table: String) -> Result<Tables, CliError> {
    use crate::remediate::aws::{DynamoLedger, DynamoRecords};
    let sdk = crate::aws::sdk_config(&opts.store.aws.target()).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    Ok(Tables {
        ledger: Arc::new(DynamoLedger::new(client.clone(), table.clone())),
        records: Some(Arc::new(DynamoRecords::new(client, table))),
    })
}

#[cfg(not(feature = "aws"))]
async fn shared_tables(_: &RemediateArgs, _: String) -> Result<Tables, CliError> {
    Err(crate::aws::NotBuilt("the remediations table (DynamoDB)").into())
}

/// The person at the terminal.
fn approver() -> Approval {
    Approval::Person(APPROVER.to_string())
}

/// Prints what an apply did and returns its exit code.
fn report(outcome: &ApplyOutcome) -> ExitCode {
    match outcome {
        ApplyOutcome::Verified { plan, finding } => {
            println!(
                "applied and verified: {}\nfinding {} is {}",
                plan.after,
                plan.finding_id,
                finding.finding.workflow_status.as_str()
            );
            ExitCode::SUCCESS
        }
        ApplyOutcome::NothingLeft { plan, finding } => {
            println!(
                "{}\nfinding {} is {} (already fixed, no call made)",
                plan.after,
                plan.finding_id,
                finding.finding.workflow_status.as_str()
            );
            ExitCode::SUCCESS
        }
        ApplyOutcome::Refused { guard, .. } => {
            eprintln!("refused by {}: {}", guard.name, guard.reason);
            ExitCode::from(2)
        }
        ApplyOutcome::Failed {
            finding_id,
            action,
            error,
        } => {
            let later = if error.is_retryable() {
                " (may pass if tried again later)"
            } else {
                ""
            };
            eprintln!("{action} failed: {error}{later}; finding {finding_id} stays open");
            ExitCode::from(3)
        }
        ApplyOutcome::NotApplicable(plan) => {
            eprintln!("not applicable: {}", plan.after);
            ExitCode::FAILURE
        }
    }
}

/// The plan for a person: one fact per line, guards last.
pub fn print_plan(plan: &Plan, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "finding  {}", plan.finding_id)?;
    writeln!(out, "action   {}", plan.action.as_deref().unwrap_or("-"))?;
    if !plan.applicable {
        return writeln!(out, "not applicable: {}", plan.after);
    }
    writeln!(out, "state    {}", plan.current_state)?;
    if let Some(hash) = plan.state_hash() {
        writeln!(
            out,
            "hash     {hash}  (apply --expect-state {hash} applies only to this state)"
        )?;
    }
    if plan.calls.is_empty() {
        writeln!(out, "calls    none")?;
    }
    for c in &plan.calls {
        writeln!(out, "call     {} {} {}", c.service, c.operation, c.params)?;
    }
    writeln!(out, "after    {}", plan.after)?;
    for g in &plan.guards {
        let verdict = if g.passed { "ok     " } else { "REFUSED" };
        writeln!(
            out,
            "guard    {verdict} {:<22} {}",
            g.name.as_str(),
            g.reason
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn a_finding_id_starting_with_a_hyphen_is_an_id_not_an_option() {
        for what in ["plan", "apply"] {
            let argv = [
                "cspm",
                "remediate",
                what,
                "-c3xYzAbCdEfGhIjKlMnOpQ",
                "--json",
            ];
            let argv = argv.iter().filter(|a| what == "plan" || **a != "--json");
            let parsed = crate::cli::Cli::try_parse_from(argv).expect(what);
            let crate::cli::Command::Remediate(RemediateCommand { action }) = parsed.command else {
                panic!("not remediate");
            };
            let id = match action {
                RemediateAction::Plan { finding_id, .. } => finding_id,
                RemediateAction::Apply { finding_id, .. } => finding_id,
            };
            assert_eq!(id, "-c3xYzAbCdEfGhIjKlMnOpQ");
        }
    }
}
