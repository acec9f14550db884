//! `api` Lambda: the HTTP API behind API Gateway (HTTP API, payload v2); prints the
//! findings each invocation stored (`POST /events`) as EMF lines.
//! Build with `scripts/build_lambdas.sh`; configuration in `backend/lambdas.json`.

use cspm::config::remediation::RemediationEnv;
use cspm::lambda::{api, boot, remediator};
use cspm::metrics::Registry;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    boot::init_tracing();
    let (config, sdk, ssm) = boot::load().await?;
    let metrics = Registry::new();
    let pipeline = boot::pipeline(&config, &sdk).with_metrics(metrics.clone(), api::SOURCE);
    let exports = boot::export_jobs(&sdk, pipeline.store().clone())?;
    let remediation = RemediationEnv::from_env()?.map(|env| {
        remediator::on_aws(&sdk, pipeline.clone(), env, remediator::Role::Approver).service
    });
    let parts = api::Parts {
        tickets: boot::live_tickets(&sdk),
        exports,
        own: boot::sign_in(&sdk, &ssm).await?,
        tokens: boot::named_tokens(&sdk),
        remediation,
        api_token: boot::api_token(&config, &sdk, &ssm).await?,
    };
    let app = api::app(&config, pipeline, parts);
    lambda_http::run(api::print_metrics(app, metrics, api::stdout())).await
}
