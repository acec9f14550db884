//! `remediator` Lambda: applies approved remediations from their SQS queue
//! (event source mapping with partial batch failures), with only the IAM
//! actions of the actions the deployment enables.
//! Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use aws_lambda_events::event::sqs::SqsEvent;
use cspm::config::remediation::RemediationEnv;
use cspm::lambda::{boot, remediator};
use cspm::remediate::worker::{Worker, WorkerSettings};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    boot::init_tracing();
    let (config, sdk, _ssm) = boot::load().await?;
    let env = RemediationEnv::from_env()?.ok_or(
        "the remediator needs CSPM_REMEDIATION_TABLE, CSPM_REMEDIATION_QUEUE_URL and CSPM_REMEDIATION_CONFIG",
    )?;
    let on_aws = remediator::on_aws(
        &sdk,
        boot::pipeline(&config, &sdk),
        env,
        remediator::Role::Worker,
    );
    let worker = Arc::new(Worker::new(
        on_aws.service,
        on_aws.queue,
        WorkerSettings::default(),
    ));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move { Ok::<_, Error>(remediator::handle(&worker, event.payload).await) }
    }))
    .await
}
