//! `fanout` Lambda: the findings table's DynamoDB Stream → every configured sink
//! (SNS alerts, webhooks, the log), reporting partial batch failures.
//! Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use aws_lambda_events::event::dynamodb::Event;
use cspm::lambda::{boot, fanout};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    boot::init_tracing();
    let (config, sdk, _ssm) = boot::load().await?;
    let fanout = Arc::new(fanout::fanout(&config, &sdk).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        let fanout = fanout.clone();
        async move { Ok::<_, Error>(fanout.handle(event.payload).await) }
    }))
    .await
}
