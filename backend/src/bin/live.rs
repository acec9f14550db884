//! `live` Lambda: the live dashboard's WebSocket API routes (`$connect`,
//! `$disconnect`, `$default`) and the keep-alive schedule, which prints the number
//! of open connections as an EMF line (`LiveConnections`).
//! Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use cspm::aws::{sdk_config, AwsTarget};
use cspm::config::live::LiveConfig;
use cspm::lambda::{boot, live};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    boot::init_tracing();
    let sdk = sdk_config(&AwsTarget::default()).await;
    let routes = Arc::new(live::routes(&LiveConfig::from_env(), &sdk)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let routes = routes.clone();
        async move {
            let result = routes.handle(&event.payload).await;
            routes.emit_metrics(&mut std::io::stdout().lock());
            result.map_err(Error::from)
        }
    }))
    .await
}
