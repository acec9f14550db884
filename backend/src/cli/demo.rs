use super::{CliError, StoreArgs};
use crate::pipeline::{Pipeline, Producer};
use crate::sources::Normalizer;
use crate::store::{Origin, Store};
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;

/// `cspm demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many findings to generate.
    #[arg(long, default_value_t = 5000)]
    pub count: usize,
    /// Seed: the same seed and count give the same findings.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Store options.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Findings handed to the pipeline at a time. Small: at 2,500 findings each (one
/// store batch) and 64 hand-overs in its channel, generation ran up to 160,000
/// findings ahead of the writer — 1.1 GB resident, most of it freshly zeroed pages
/// (the channel now holds a few bundles of at most 1,000 findings, pipeline/run.rs).
/// The pipeline still writes them in batches of [`crate::pipeline::BATCH_SIZE`].
const CHUNK: usize = 500;

/// Writes `count` demo findings through the pipeline, with a progress bar on a
/// terminal. Generation runs on the pipeline's reading thread and batches are
/// pipelined into the store, so both cores are busy (as in `cspm ingest`).
pub async fn load(
    store: Arc<dyn Store>,
    count: usize,
    seed: u64,
    progress: bool,
) -> Result<usize, CliError> {
    let bar = super::progress::bar(count as u64, false, progress);
    let producer: Producer = Box::new(move |feed| {
        let mut batch = Vec::with_capacity(CHUNK);
        for f in crate::demo::generate(count, crate::demo::default_anchor(), seed) {
            batch.push(f);
            if batch.len() == CHUNK {
                feed.findings(std::mem::replace(&mut batch, Vec::with_capacity(CHUNK)));
                feed.progress(CHUNK as u64);
            }
        }
        let rest = batch.len() as u64;
        feed.findings(batch);
        feed.progress(rest);
        Ok(())
    });
    // Demo findings are built, not read: the normalizer is never used.
    let pipeline = Pipeline::new(Arc::new(Normalizer::default()), store);
    let outcome = pipeline
        .run(producer, Origin::Demo, &|n| bar.inc(n))
        .await?;
    bar.finish_and_clear();
    if !outcome.failed.is_empty() {
        return Err(format!("{} demo finding(s) not written", outcome.failed.len()).into());
    }
    Ok(outcome.stored + outcome.updated + outcome.unchanged + outcome.skipped_older)
}

/// Runs `cspm demo`.
pub async fn run(args: DemoArgs) -> Result<ExitCode, CliError> {
    let store = args.store.store_config().build().await?;
    let started = std::time::Instant::now();
    let n = load(
        store,
        args.count,
        args.seed,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    )
    .await?;
    println!(
        "wrote {n} demo findings to {} in {:.1}s",
        args.store.store_config().describe(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
