//! `cspm export`: the findings a filter selects, as a CSV, JSON Lines or OCSF file
//! (the same bytes `GET /findings/export` streams).

use super::{CliError, StoreArgs};
use crate::export::{export, ExportFormat, ExportOptions};
use clap::Args;
use futures::StreamExt;
use shared_types::FindingFilter;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `cspm export` options: the list's filters as flags.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Write here (replaced only when the export is complete); default: stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// One or several of CRITICAL,HIGH,MEDIUM,LOW,INFORMATIONAL, comma-separated.
    #[arg(long)]
    pub severity: Option<String>,
    /// Workflow status(es): NEW,NOTIFIED,SUPPRESSED,RESOLVED.
    #[arg(long)]
    pub status: Option<String>,
    /// AWS account id.
    #[arg(long)]
    pub account: Option<String>,
    /// Region.
    #[arg(long)]
    pub region: Option<String>,
    /// Primary resource type, e.g. AwsS3Bucket.
    #[arg(long)]
    pub resource_type: Option<String>,
    /// Product name, e.g. GuardDuty.
    #[arg(long)]
    pub product: Option<String>,
    /// Generator id: the control, rule or detector (exact).
    #[arg(long)]
    pub generator: Option<String>,
    /// Primary resource id, e.g. an ARN (exact).
    #[arg(long)]
    pub resource: Option<String>,
    /// Text in title, description, resource id or ASFF id.
    #[arg(long)]
    pub q: Option<String>,
    /// `updated_at` at or after this RFC 3339 time or date.
    #[arg(long)]
    pub since: Option<String>,
    /// `updated_at` before this RFC 3339 time or date.
    #[arg(long)]
    pub until: Option<String>,
    /// JSON Lines: whole findings instead of list items.
    #[arg(long)]
    pub detail: bool,
    /// OCSF: the original document under `unmapped.original`.
    #[arg(long)]
    pub raw: bool,
    /// Store options.
    #[command(flatten)]
    pub store: StoreArgs,
}

impl ExportArgs {
    /// The filter the flags describe, validated as the API validates its query.
    pub fn filter(&self) -> Result<FindingFilter, CliError> {
        let flags = [
            ("severity", &self.severity),
            ("status", &self.status),
            ("account", &self.account),
            ("region", &self.region),
            ("resource_type", &self.resource_type),
            ("product", &self.product),
            ("generator", &self.generator),
            ("resource", &self.resource),
            ("q", &self.q),
            ("since", &self.since),
            ("until", &self.until),
        ];
        let pairs = flags
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)));
        FindingFilter::from_pairs(pairs)
            .map_err(|e| format!("--{}: {}", e.field.replace('_', "-"), e.message).into())
    }

    /// The options, refusing flags that do nothing for the format.
    pub fn options(&self) -> Result<ExportOptions, CliError> {
        if self.detail && self.format != ExportFormat::Jsonl {
            return Err("--detail applies to --format jsonl only".into());
        }
        if self.raw && self.format != ExportFormat::Ocsf {
            return Err("--raw applies to --format ocsf only".into());
        }
        Ok(ExportOptions {
            format: self.format,
            detail: self.detail,
            raw: self.raw,
        })
    }
}

/// `FILE.partial` beside `FILE`: written first, renamed when complete, so a
/// failed export never leaves a file that looks whole.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Runs `cspm export`: writes the file, with a progress bar on a terminal, and
/// says how many findings it holds on stderr (stdout may be the file).
pub async fn run(args: ExportArgs) -> Result<ExitCode, CliError> {
    let filter = args.filter()?;
    let options = args.options()?;
    let store = args.store.store_config().build().await?;
    let started = std::time::Instant::now();
    let (mut out, partial): (Box<dyn Write + Send>, Option<PathBuf>) = match &args.output {
        Some(path) => {
            let partial = partial_path(path);
            let file = std::fs::File::create(&partial)
                .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
            (Box::new(std::io::BufWriter::new(file)), Some(partial))
        }
        None => (Box::new(std::io::BufWriter::new(std::io::stdout())), None),
    };
    let bar = super::progress::counter("findings", std::io::stderr().is_terminal());
    let mut chunks = Box::pin(export(store, filter, options));
    let mut total = 0usize;
    let result: Result<(), CliError> = async {
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            out.write_all(&chunk.bytes)?;
            total += chunk.findings;
            bar.inc(chunk.findings as u64);
        }
        out.flush()?;
        Ok::<(), CliError>(())
    }
    .await;
    bar.finish_and_clear();
    drop(out);
    match (result, partial, &args.output) {
        (Err(e), partial, _) => {
            if let Some(p) = partial {
                let _ = std::fs::remove_file(p);
            }
            Err(e)
        }
        (Ok(()), Some(partial), Some(path)) => {
            std::fs::rename(&partial, path)
                .map_err(|e| format!("cannot move the export to {}: {e}", path.display()))?;
            eprintln!(
                "exported {total} findings as {} to {} in {:.1}s",
                options.format.as_str(),
                path.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        (Ok(()), _, _) => {
            eprintln!(
                "exported {total} findings as {} in {:.1}s",
                options.format.as_str(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
