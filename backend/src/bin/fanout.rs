//! `fanout` Lambda: the findings table's DynamoDB Stream → every configured sink
//! (SNS alerts, webhooks, the log) and the audit log, reporting partial batch
//! failures and printing its metrics as EMF lines; on its schedule, the due
//! digests of the throttled channels.
//! Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use cspm::lambda::boot;
use cspm::lambda::fanout::{self, FanoutEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    boot::init_tracing();
    let (config, sdk, _ssm) = boot::load().await?;
    let fanout = Arc::new(fanout::fanout(&config, &sdk).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<FanoutEvent>| {
        let fanout = fanout.clone();
        async move {
            let response = fanout.invoke(event.payload).await;
            fanout.emit_metrics(&mut std::io::stdout().lock());
            Ok::<_, Error>(response)
        }
    }))
    .await
}
