use super::{CliError, DetectArgs, StoreArgs};
use crate::ingest::{ingest_paths, IngestReport};
use crate::pipeline::Pipeline;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// `cspm ingest` options.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or folders to read (`.json`, `.jsonl`, optionally `.gz`); `-` reads stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Exit with status 2 when anything was rejected.
    #[arg(long)]
    pub fail_on_reject: bool,
    /// Store options.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Detection options.
    #[command(flatten)]
    pub detect: DetectArgs,
}

/// Prints the report: counts first, then every rejection with input, document
/// position, id and reason.
pub fn print_report(r: &IngestReport, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let o = &r.outcome;
    writeln!(out, "read {} file(s), {o}", r.files)?;
    let at = |input: &str, index: Option<usize>| match index {
        Some(i) => format!("{input}[{i}]"),
        None => input.to_string(),
    };
    for x in &o.rejected {
        writeln!(
            out,
            "  rejected  {}  id={}  {}",
            at(&x.input, x.index),
            x.finding_id.as_deref().unwrap_or("-"),
            x.reason
        )?;
    }
    for n in &o.noted {
        writeln!(out, "  note      {}  {}", at(&n.input, n.index), n.note)?;
    }
    for f in &o.failed {
        writeln!(out, "  not written  id={}  {}", f.id, f.reason)?;
    }
    if !r.skipped_files.is_empty() {
        writeln!(
            out,
            "  ignored {} file(s) with other extensions",
            r.skipped_files.len()
        )?;
    }
    Ok(())
}

/// Runs `cspm ingest`.
pub async fn run(args: IngestArgs) -> Result<ExitCode, CliError> {
    // Bad rules or suppressions stop the run before anything is stored.
    let normalizer = Arc::new(args.detect.detection_config().normalizer()?);
    let store = args.store.store_config().build().await?;
    let pipeline = Pipeline::new(normalizer, store);
    let bar = super::progress::bar(0, true, std::io::stderr().is_terminal());
    let report = ingest_paths(&pipeline, &args.paths, &bar).await?;
    print_report(&report, &mut std::io::stdout().lock())?;
    Ok(if !report.outcome.failed.is_empty() {
        ExitCode::FAILURE
    } else if args.fail_on_reject && !report.outcome.rejected.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
