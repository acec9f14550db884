//! `archiver` Lambda: run daily by an EventBridge schedule, it moves findings not
//! updated for `CSPM_RETENTION_DAYS` from DynamoDB to the S3 archive (verify, then
//! delete). Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use cspm::archive::lambda::{handle, ArchiverState};
use cspm::config::archiver::ArchiverConfig;
use cspm::lambda::boot;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;
use std::time::SystemTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    boot::init_tracing();
    let (config, sdk, _ssm) = boot::load().await?;
    let archive = ArchiverConfig::from_env()?;
    let state = Arc::new(ArchiverState {
        store: Arc::new(boot::store(&config, &sdk)),
        sink: ArchiverState::s3_sink(&archive, &sdk),
        retention: chrono::Duration::days(config.retention_days.into()),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let state = state.clone();
        async move {
            // Time left in this invocation: the run stops starting parts before it ends.
            let remaining = event
                .context
                .deadline()
                .duration_since(SystemTime::now())
                .ok();
            handle(&state, remaining).await.map_err(Error::from)
        }
    }))
    .await
}
