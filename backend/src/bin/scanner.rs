//! `scanner` Lambda: Security Hub findings from EventBridge, their SQS redrive
//! (partial batch failures) and the scheduled Security Hub sync; prints what each
//! invocation stored as EMF lines.
//! Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use cspm::lambda::boot;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    boot::init_tracing();
    let (config, sdk, _ssm) = boot::load().await?;
    let scanner = Arc::new(boot::scanner(&config, &sdk));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let scanner = scanner.clone();
        async move {
            let deadline = event.context.deadline();
            let result = scanner.handle(event.payload, Some(deadline)).await;
            scanner.emit_metrics(&mut std::io::stdout().lock());
            result.map_err(Error::from)
        }
    }))
    .await
}
