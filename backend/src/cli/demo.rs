use super::{CliError, StoreArgs};
use crate::store::pipeline::UpsertPipeline;
use crate::store::Store;
use clap::Args;
use shared_types::Finding;
use std::process::ExitCode;

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

/// Writes `count` demo findings in batches, with a progress bar on a terminal.
/// Generation runs on a blocking thread and batches are pipelined into the store,
/// so both cores are busy (as in `cspm ingest`).
pub async fn load(
    store: &dyn Store,
    count: usize,
    seed: u64,
    progress: bool,
) -> Result<usize, CliError> {
    let bar = crate::ingest::progress_bar(count as u64, progress);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Finding>>(2);
    let generator = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(crate::ingest::BATCH_SIZE);
        for f in crate::demo::generate(count, crate::demo::default_anchor(), seed) {
            batch.push(f);
            if batch.len() == crate::ingest::BATCH_SIZE {
                let full =
                    std::mem::replace(&mut batch, Vec::with_capacity(crate::ingest::BATCH_SIZE));
                if tx.blocking_send(full).is_err() {
                    return; // the writer stopped on an error, reported below
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
    });
    let mut written = 0;
    let mut count_done = |(n, report): (usize, crate::store::UpsertReport)| {
        written += report.outcomes.len();
        bar.inc(n as u64);
    };
    let mut pipeline = UpsertPipeline::new(store);
    while let Some(batch) = rx.recv().await {
        if let Some(done) = pipeline.push(batch).await? {
            count_done(done);
        }
    }
    pipeline.finish().await?.into_iter().for_each(count_done);
    generator.await?;
    bar.finish_and_clear();
    Ok(written)
}

/// Runs `cspm demo`.
pub async fn run(args: DemoArgs) -> Result<ExitCode, CliError> {
    let store = args.store.store_config().build().await?;
    let started = std::time::Instant::now();
    let n = load(
        store.as_ref(),
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
