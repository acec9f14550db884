//! `exporter` Lambda: runs the export jobs the `api` Lambda queued (SQS event
//! source with partial batch failures), writing their files to the archive
//! bucket under `exports/`.
//! Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use aws_lambda_events::event::sqs::SqsEvent;
use cspm::lambda::{boot, exporter};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    boot::init_tracing();
    let (config, sdk, _ssm) = boot::load().await?;
    let store = Arc::new(boot::store(&config, &sdk));
    let jobs = boot::export_jobs(&sdk, store)?
        .ok_or("the exporter needs CSPM_ARCHIVE_BUCKET and CSPM_EXPORT_QUEUE_URL")?;
    let jobs = Arc::new(jobs);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let jobs = jobs.clone();
        async move { Ok::<_, Error>(exporter::handle(&jobs, event.payload).await) }
    }))
    .await
}
