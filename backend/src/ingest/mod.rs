//! `cspm ingest`: documents from files, folders or stdin through the pipeline.
//! Reading and normalizing run on a blocking thread while the store writes the
//! previous batch, so both cores stay busy.

use crate::documents::files::{self, Input};
use crate::pipeline::{Outcome, Pipeline, PipelineError, Producer};
use crate::store::Origin;
use indicatif::ProgressBar;
use std::path::PathBuf;

/// What an ingest run did: the pipeline's outcome plus what was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Inputs read.
    pub files: usize,
    /// Files in folders skipped because of their extension.
    pub skipped_files: Vec<PathBuf>,
    /// What the pipeline did with their documents.
    pub outcome: Outcome,
}

/// Ingests every path (files, folders, `-` for stdin), showing `bar` advance over
/// the bytes read (pass a hidden bar for none).
pub async fn ingest_paths(
    pipeline: &Pipeline,
    paths: &[PathBuf],
    bar: &ProgressBar,
) -> Result<IngestReport, PipelineError> {
    let (inputs, skipped_files) = files::expand(paths)?;
    let total: u64 = inputs.iter().map(size).sum();
    bar.set_length(total);
    let files = inputs.len();
    let producer: Producer = Box::new(move |feed| {
        for input in &inputs {
            let label = input.label();
            if let Err(e) = files::read_input(input, &mut |item| feed.item(&label, item)) {
                feed.reject(&label, None, format!("cannot read: {e}"));
            }
            feed.progress(size(input));
        }
        Ok(())
    });
    let outcome = pipeline
        .run(producer, Origin::Events, &|bytes| bar.inc(bytes))
        .await?;
    bar.finish_and_clear();
    Ok(IngestReport {
        files,
        skipped_files,
        outcome,
    })
}

fn size(input: &Input) -> u64 {
    match input {
        Input::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        Input::Stdin => 0,
    }
}
