//! `api` Lambda: the HTTP API behind API Gateway (HTTP API, payload v2).
//! Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use cspm::lambda::{api, boot};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    boot::init_tracing();
    let (config, sdk, ssm) = boot::load().await?;
    let store = Arc::new(boot::store(&config, &sdk));
    lambda_http::run(api::app(&config, &ssm, store)).await
}
