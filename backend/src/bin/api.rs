//! `api` Lambda: the HTTP API behind API Gateway (HTTP API, payload v2).
//! Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use cspm::lambda::{api, boot};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    boot::init_tracing();
    let (config, sdk, ssm) = boot::load().await?;
    lambda_http::run(api::app(
        &config,
        &ssm,
        boot::pipeline(&config, &sdk),
        boot::live_tickets(&sdk),
    ))
    .await
}
