//! The `fanout` Lambda's wiring: its sinks come from the YAML in the SSM parameter
//! `CSPM_SINKS_PARAMETER` names (secrets as `secret_ssm` references); without one,
//! from the alert topics in its environment — one SNS sink, the alerting the
//! scanner used to do. Alert keys already sent live in the state table. With
//! `CSPM_AUDIT_BUCKET` set, the audit log is always added (its chain head lives in
//! the state table too), and every invocation prints its metrics as EMF lines.

use crate::archive::s3::S3Location;
use crate::archive::S3Sink;
use crate::config::lambda::LambdaConfig;
use crate::feed::fanout::Fanout;
use crate::feed::FeedMetrics;
use crate::metrics::{emf, Registry};
use crate::sinks::audit::s3::S3Journal;
use crate::sinks::audit::{AuditSink, AUDIT_SINK};
use crate::sinks::config::{self, BuildContext, SinksFile};
use crate::sinks::dedup::{Dedup, DynamoDedup, MemoryDedup};
use crate::sinks::sns::{SnsSettings, SnsSink};
use crate::sinks::ssrf::SystemResolver;
use crate::sinks::{Filter, Sink};
use aws_config::SdkConfig;
use std::sync::Arc;

/// Why the sinks could not be set up at cold start.
#[derive(Debug, thiserror::Error)]
pub enum FanoutSetupError {
    /// The sinks parameter could not be read.
    #[error("SSM GetParameter {name}: {message}")]
    Parameter {
        /// The parameter.
        name: String,
        /// The SDK's error.
        message: String,
    },
    /// The sinks YAML is invalid.
    #[error("sinks parameter {name}: {problems}")]
    Invalid {
        /// The parameter.
        name: String,
        /// Every problem, with its line.
        problems: String,
    },
    /// A sink could not be built.
    #[error(transparent)]
    Build(#[from] config::BuildError),
    /// The audit log is misconfigured.
    #[error("audit log: {0}")]
    Audit(String),
}

/// The `fanout` Lambda: the fan-out and the metrics it counts.
pub struct FanoutLambda {
    /// Sinks and observers.
    pub fanout: Fanout,
    /// What this invocation counted (printed as EMF, then forgotten).
    pub metrics: Arc<Registry>,
}

impl FanoutLambda {
    /// Handles one stream batch.
    pub async fn handle(
        &self,
        event: aws_lambda_events::event::dynamodb::Event,
    ) -> aws_lambda_events::event::streams::DynamoDbEventResponse {
        self.fanout.handle(event).await
    }

    /// Prints what the invocation counted as EMF lines (stdout on Lambda).
    pub fn emit_metrics(&self, out: &mut dyn std::io::Write) {
        emf::flush(&self.metrics, out);
    }
}

/// The audit sink over the bucket `CSPM_AUDIT_BUCKET` names, its head in the state
/// table, reading suppressed findings from the findings table.
fn audit_sink(
    config: &LambdaConfig,
    sdk: &SdkConfig,
    bucket: &str,
    metrics: &Arc<Registry>,
) -> Result<Arc<AuditSink>, FanoutSetupError> {
    let table = config.state_table.clone().ok_or_else(|| {
        FanoutSetupError::Audit(format!(
            "{} needs {} (the chain head lives there)",
            crate::config::ENV_AUDIT_BUCKET,
            crate::config::ENV_STATE_TABLE
        ))
    })?;
    let location: S3Location = format!("s3://{bucket}")
        .parse()
        .map_err(|e: crate::archive::SinkError| FanoutSetupError::Audit(e.to_string()))?;
    let journal = S3Journal::new(
        S3Sink::client(sdk),
        location,
        None,
        crate::aws::dynamodb_client(sdk),
        table,
    )
    .with_metrics(metrics.clone());
    let findings: Arc<dyn crate::store::Store> = Arc::new(super::boot::store(config, sdk));
    Ok(Arc::new(AuditSink::new(Arc::new(journal), Some(findings))))
}

/// The sinks YAML from SSM, if the configuration names a parameter that holds any.
async fn sinks_file(
    config: &LambdaConfig,
    sdk: &SdkConfig,
) -> Result<Option<SinksFile>, FanoutSetupError> {
    let Some(name) = &config.sinks_parameter else {
        return Ok(None);
    };
    let out = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await;
    let text = match out {
        Ok(o) => o
            .parameter()
            .and_then(|p| p.value())
            .unwrap_or_default()
            .to_string(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_parameter_not_found()) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(FanoutSetupError::Parameter {
                name: name.clone(),
                message: crate::aws::error_text(&e),
            })
        }
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    config::parse(&text)
        .map(Some)
        .map_err(|problems| FanoutSetupError::Invalid {
            name: name.clone(),
            problems: problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        })
}

/// The fan-out the configuration describes.
pub async fn fanout(
    config: &LambdaConfig,
    sdk: &SdkConfig,
) -> Result<FanoutLambda, FanoutSetupError> {
    let dedup: Arc<dyn Dedup> = match &config.state_table {
        Some(t) => Arc::new(DynamoDedup::new(
            crate::aws::dynamodb_client(sdk),
            t.clone(),
        )),
        None => {
            tracing::warn!(
                "no CSPM_STATE_TABLE: sent alerts are remembered only while this instance lives"
            );
            Arc::new(MemoryDedup::default())
        }
    };
    let sinks: Vec<Arc<dyn Sink>> = match sinks_file(config, sdk).await? {
        Some(file) => {
            let ctx = BuildContext {
                sdk: Some(sdk.clone()),
                dedup,
                resolver: Arc::new(SystemResolver),
                dashboard_url: config.dashboard_url.clone(),
                // Not yet on AWS: the DynamoDB throttle state is still to build
                // (docs/alerts.md), so Slack and e-mail send as routed there.
                throttle: None,
            };
            file.build_all(&ctx).await?.sinks
        }
        None => match &config.standard_topic_arn {
            Some(standard) => vec![Arc::new(SnsSink::new(
                SnsSettings {
                    name: "alerts".into(),
                    standard_topic: standard.clone(),
                    critical_topic: config.critical_topic_arn.clone(),
                    min_severity: config.alert_min_severity,
                    filter: Filter::default(),
                    dashboard_url: config.dashboard_url.clone(),
                },
                sdk,
                dedup,
            )) as Arc<dyn Sink>],
            None => Vec::new(),
        },
    };
    let metrics = Registry::new();
    let mut sinks = sinks;
    if let Some(live) = live_sink(config, sdk) {
        sinks.push(live);
    }
    if sinks.iter().any(|s| s.name() == AUDIT_SINK) {
        return Err(FanoutSetupError::Audit(format!(
            "the sink name {AUDIT_SINK:?} is reserved for the audit log"
        )));
    }
    let audit = match &config.audit_bucket {
        Some(bucket) => {
            let a = audit_sink(config, sdk, bucket, &metrics)?;
            sinks.push(a.clone());
            Some(a)
        }
        None => {
            tracing::warn!("no CSPM_AUDIT_BUCKET: no audit log");
            None
        }
    };
    let names: Vec<&str> = sinks.iter().map(|s| s.name()).collect();
    tracing::info!(sinks = ?names, "fan-out ready");
    let mut fanout =
        Fanout::new(sinks).observe(Arc::new(FeedMetrics::per_invocation(metrics.clone())));
    if let Some(a) = audit {
        fanout = fanout.observe(a);
    }
    Ok(FanoutLambda { fanout, metrics })
}

/// The live sink, when the deployment has the WebSocket API (its connections
/// table and management endpoint are configured): every change to every open
/// dashboard, then the overview counters.
fn live_sink(config: &LambdaConfig, sdk: &SdkConfig) -> Option<Arc<dyn Sink>> {
    let live = crate::config::live::LiveConfig::from_env();
    let (table, endpoint) = (live.connections_table?, live.live_endpoint?);
    let connections =
        crate::live::connections::Connections::new(aws_sdk_dynamodb::Client::new(sdk), table);
    let gateway = Arc::new(crate::live::gateway::ApiGateway::new(sdk, &endpoint));
    let store: Arc<dyn crate::store::Store> = Arc::new(super::boot::store(config, sdk));
    Some(Arc::new(crate::sinks::websocket::WebSocketSink::new(
        connections,
        gateway,
        Some(store),
    )))
}
