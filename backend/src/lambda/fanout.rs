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
use crate::sinks::throttle::dynamo::DynamoThrottle;
use crate::sinks::throttle::sink::Throttled;
use crate::sinks::throttle::state::ThrottleState;
use crate::sinks::turns::dynamo::DynamoTurns;
use crate::sinks::turns::Turns;
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
    /// The remediation variables are incomplete or the file in them is bad.
    #[error("remediation: {0}")]
    Remediation(#[from] crate::config::ConfigError),
}

/// The `fanout` Lambda: the fan-out and the metrics it counts.
pub struct FanoutLambda {
    /// Sinks and observers.
    pub fanout: Fanout,
    /// What this invocation counted (printed as EMF, then forgotten).
    pub metrics: Arc<Registry>,
    /// The throttled channels (Slack, e-mail under routes), whose due digests the
    /// schedule flushes.
    pub throttled: Vec<Arc<Throttled>>,
}

/// What invokes `fanout`: the findings table's stream, and the EventBridge
/// schedule that flushes due digests (its input is `{"action":"flush-digests"}`).
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
pub enum FanoutEvent {
    /// The schedule.
    Flush(FlushEvent),
    /// A stream batch.
    Stream(aws_lambda_events::event::dynamodb::Event),
}

/// The schedule's input.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlushEvent {
    /// Always `flush-digests`.
    pub action: FlushAction,
}

/// What the schedule asks for.
#[derive(Debug, serde::Deserialize)]
pub enum FlushAction {
    /// Send every due digest.
    #[serde(rename = "flush-digests")]
    FlushDigests,
}

impl FanoutLambda {
    /// Handles one invocation: a stream batch (answering the changes a sink could
    /// not take) or the digest schedule (answering how many digests went).
    pub async fn invoke(&self, event: FanoutEvent) -> serde_json::Value {
        match event {
            FanoutEvent::Stream(batch) => {
                serde_json::to_value(self.handle(batch).await).unwrap_or_default()
            }
            FanoutEvent::Flush(_) => {
                let (sent, failed) = self.flush_digests(chrono::Utc::now()).await;
                serde_json::json!({ "digests": sent, "failed_channels": failed })
            }
        }
    }

    /// Sends every digest due at `now` on every throttled channel. A channel that
    /// fails is logged and tried again on the next run (its held messages stay
    /// held); returns the digests sent and the channels that failed.
    pub async fn flush_digests(&self, now: chrono::DateTime<chrono::Utc>) -> (usize, usize) {
        let (mut sent, mut failed) = (0, 0);
        for channel in &self.throttled {
            match channel.flush(now).await {
                Ok(n) => sent += n,
                Err(e) => {
                    failed += 1;
                    tracing::warn!(sink = %channel.name(), error = %e,
                        "digest flush failed; trying again on the next run");
                }
            }
        }
        (sent, failed)
    }

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
    let text = crate::config::lambda::read_parameter(sdk, name)
        .await
        .map_err(|message| FanoutSetupError::Parameter {
            name: name.clone(),
            message,
        })?;
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
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
    let mut throttled = Vec::new();
    let sinks: Vec<Arc<dyn Sink>> = match sinks_file(config, sdk).await? {
        Some(file) => {
            // Dedup windows, digests and quiet hours hold across concurrent
            // invocations through conditional writes to the state table.
            let throttle = config.state_table.as_ref().map(|t| {
                Arc::new(DynamoThrottle::new(
                    crate::aws::dynamodb_client(sdk),
                    t.clone(),
                )) as Arc<dyn ThrottleState>
            });
            let ctx = BuildContext {
                sdk: Some(sdk.clone()),
                dedup,
                resolver: Arc::new(SystemResolver),
                dashboard_url: config.dashboard_url.clone(),
                throttle,
                digests_on_schedule: true,
                turns: config.state_table.as_ref().map(|t| {
                    Arc::new(DynamoTurns::new(
                        crate::aws::dynamodb_client(sdk),
                        t.clone(),
                    )) as Arc<dyn Turns>
                }),
            };
            let built = file.build_all(&ctx).await?;
            throttled = built.throttled;
            built.sinks
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
    if let Some(remediation) = remediation_sink(config, sdk)? {
        sinks.push(remediation);
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
    Ok(FanoutLambda {
        fanout,
        metrics,
        throttled,
    })
}

/// The `remediation` sink, when the deployment has remediation and its file
/// names rules in `auto`: it approves their findings as they change, queuing
/// them for the `remediator` Lambda (only the guards that need no read run
/// here; the remediator checks every guard again).
fn remediation_sink(
    config: &LambdaConfig,
    sdk: &SdkConfig,
) -> Result<Option<Arc<dyn Sink>>, FanoutSetupError> {
    let Some(env) = crate::config::remediation::RemediationEnv::from_env()? else {
        return Ok(None);
    };
    if env.config.auto.is_empty() {
        return Ok(None);
    }
    let pipeline = super::boot::pipeline(config, sdk);
    let role = super::remediator::Role::Approver;
    let service = super::remediator::on_aws(sdk, pipeline, env, role).service;
    Ok(Some(Arc::new(
        crate::sinks::remediation::RemediationSink::new(service),
    )))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_input_is_a_flush_and_a_stream_batch_is_a_batch() {
        let flush: FanoutEvent = serde_json::from_str(r#"{"action":"flush-digests"}"#).unwrap();
        assert!(matches!(flush, FanoutEvent::Flush(_)));
        let batch: FanoutEvent = serde_json::from_value(serde_json::json!({"Records": [{
            "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "eventVersion": "1.1",
            "dynamodb": {"Keys": {"id": {"S": "f"}}, "SequenceNumber": "100",
                "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }]}))
        .unwrap();
        assert!(matches!(batch, FanoutEvent::Stream(e) if e.records.len() == 1));
        // Anything else is refused, not taken for an empty batch.
        for other in [
            r#"{"action":"flush-everything"}"#,
            r#"{"action":"flush-digests","x":1}"#,
        ] {
            assert!(
                serde_json::from_str::<FanoutEvent>(other).is_err(),
                "{other}"
            );
        }
    }
}
