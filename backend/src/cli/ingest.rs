use super::{CliError, DetectArgs, StoreArgs};
use crate::ingest::{ingest_paths, IngestReport};
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

/// Prints the report: counts first, then every rejection with file, id and reason.
pub fn print_report(r: &IngestReport, out: &mut impl std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "read {} file(s), {} document(s): {} stored, {} updated, {} unchanged, {} skipped as older, {} rejected",
        r.files,
        r.documents,
        r.stored,
        r.updated,
        r.unchanged,
        r.skipped_older,
        r.rejected.len()
    )?;
    for x in &r.rejected {
        writeln!(
            out,
            "  rejected  {}  id={}  {}",
            x.file,
            x.finding_id.as_deref().unwrap_or("-"),
            x.reason
        )?;
    }
    for (file, note) in &r.notes {
        writeln!(out, "  note      {file}  {note}")?;
    }
    for (id, reason) in &r.failed {
        writeln!(out, "  not written  id={id}  {reason}")?;
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
    let report = ingest_paths(
        store.as_ref(),
        normalizer,
        &args.paths,
        std::io::stderr().is_terminal(),
    )
    .await?;
    print_report(&report, &mut std::io::stdout().lock())?;
    Ok(if !report.failed.is_empty() {
        ExitCode::FAILURE
    } else if args.fail_on_reject && !report.rejected.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
