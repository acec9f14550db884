//! `cspm recount`: rebuilds a DynamoDB table's counter items and compliance
//! rows from its findings (store/dynamo/recount.rs says when that is needed).
//! Writers must be paused.

use super::{CliError, StoreArgs};
use clap::Args;
use std::process::ExitCode;

/// Options of `cspm recount`.
#[derive(Debug, Args)]
pub struct RecountArgs {
    /// Only compare: print what differs, write nothing (exit 2 when something does).
    #[arg(long)]
    pub dry_run: bool,
    /// Where the findings are (`--store dynamodb --table …`).
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Differences printed at most (the count is always printed).
#[cfg(feature = "aws")]
const SHOWN: usize = 20;

/// Runs `cspm recount`.
pub async fn run(args: RecountArgs) -> Result<ExitCode, CliError> {
    let crate::config::StoreConfig::Dynamo(config) = args.store.store_config() else {
        return Err(
            "cspm recount is for --store dynamodb: the SQLite store keeps its \
                    counters in its own write transactions and folds (README, Grouping)"
                .into(),
        );
    };
    recount(config, args.dry_run).await
}

#[cfg(feature = "aws")]
async fn recount(config: crate::config::DynamoConfig, dry_run: bool) -> Result<ExitCode, CliError> {
    let store = config.build().await?;
    let report = store.recount_counters(dry_run).await?;
    println!("{} findings counted", report.findings);
    for (item, attr, stored, counted) in report.differences.iter().take(SHOWN) {
        println!("{item} {attr}: stored {stored}, counted {counted}");
    }
    if report.differences.len() > SHOWN {
        println!("… and {} more", report.differences.len() - SHOWN);
    }
    println!(
        "{} counter attributes differed in {} counter items; {}",
        report.differences.len(),
        report.items_differing,
        if dry_run {
            "nothing written (dry run)".to_string()
        } else {
            format!("{} replaced", report.items_written)
        }
    );
    let (fill, fix, mark) = if dry_run {
        ("to fill in", "to fix", "to mark")
    } else {
        ("filled in", "fixed", "marked")
    };
    println!(
        "{} findings without compliance results ({fill}); {} failing rows missing, moved or left over ({fix}); {} findings not marked as counted per generator ({mark})",
        report.results_missing, report.rows_differing, report.generators_unmarked
    );
    println!(
        "{} resource items differing from the findings or left over ({fix}); {} findings not marked as counted per resource ({mark})",
        report.resources_differing, report.resources_unmarked
    );
    // 1 is an error; 2 says the table differs, so a check can tell them apart.
    Ok(if dry_run && report.differs() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(not(feature = "aws"))]
async fn recount(_: crate::config::DynamoConfig, _: bool) -> Result<ExitCode, CliError> {
    Err(crate::aws::NotBuilt("the DynamoDB store (--store dynamodb)").into())
}
