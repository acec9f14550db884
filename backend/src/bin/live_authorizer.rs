//! `live_authorizer` Lambda: the REQUEST authorizer of the live WebSocket API's
//! `$connect` (a single-use ticket from `POST /live/ticket`, an allowed origin).
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
    let authorizer = Arc::new(live::authorizer(&LiveConfig::from_env(), &sdk)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let authorizer = authorizer.clone();
        async move { authorizer.handle(&event.payload).await.map_err(Error::from) }
    }))
    .await
}
