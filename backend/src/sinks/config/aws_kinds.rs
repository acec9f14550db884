//! The sink kinds that call AWS (sns, ses): the one place that knows whether this
//! build has them. Without the `aws` feature they still parse and lint, and
//! building one says how to get a build that has them.

use super::{BuildContext, BuildError, SesConfig, SnsConfig};
use crate::sinks::throttle::notice::Notify;
use crate::sinks::Sink;
use std::sync::Arc;

/// A sink and the same sink as a [`Notify`] (e-mail posts digests and follow-ups).
type Channel = (Arc<dyn Sink>, Arc<dyn Notify>);

/// The SES v2 e-mail sink.
#[cfg(feature = "aws")]
pub(super) fn ses(c: &SesConfig, name: String, ctx: &BuildContext) -> Result<Channel, BuildError> {
    use crate::sinks::ses::{SesSettings, SesSink};
    let sdk = ctx
        .sdk
        .as_ref()
        .ok_or_else(|| BuildError::NeedsAws(name.clone()))?;
    let settings = SesSettings {
        name,
        from: c.from.0.clone(),
        to: c.to.iter().map(|a| a.0.clone()).collect(),
        min_severity: c
            .min_severity
            .unwrap_or(shared_types::Severity::Informational),
        filter: crate::sinks::Filter {
            min_severity: c.min_severity,
            changes: c.changes.clone(),
            quiet: c.include_quiet,
        },
        max_send_rate: c.max_send_rate.unwrap_or(1.0),
        public_url: ctx.dashboard_url.clone(),
    };
    let s = SesSink::new(settings, sdk, ctx.dedup.clone());
    let s = Arc::new(match &ctx.turns {
        Some(turns) => s.with_turns(turns.clone()),
        None => s,
    });
    Ok((s.clone(), s))
}

/// The SNS alert topics sink.
#[cfg(feature = "aws")]
pub(super) fn sns(
    c: &SnsConfig,
    name: String,
    ctx: &BuildContext,
) -> Result<Arc<dyn Sink>, BuildError> {
    use crate::sinks::sns::{SnsSettings, SnsSink};
    let sdk = ctx
        .sdk
        .as_ref()
        .ok_or_else(|| BuildError::NeedsAws(name.clone()))?;
    let settings = SnsSettings {
        name,
        standard_topic: c.standard_topic_arn.0.clone(),
        critical_topic: c.critical_topic_arn.as_ref().map(|t| t.0.clone()),
        min_severity: c.min_severity.unwrap_or(shared_types::Severity::High),
        filter: crate::sinks::Filter {
            min_severity: c.min_severity,
            changes: c.changes.clone(),
            quiet: c.include_quiet,
        },
        dashboard_url: ctx.dashboard_url.clone(),
    };
    Ok(Arc::new(SnsSink::new(settings, sdk, ctx.dedup.clone())))
}

/// Without the AWS adapters an e-mail sink cannot be built.
#[cfg(not(feature = "aws"))]
pub(super) fn ses(_: &SesConfig, name: String, _: &BuildContext) -> Result<Channel, BuildError> {
    Err(not_built(name, "an e-mail sink (kind: ses)"))
}

/// Without the AWS adapters an SNS sink cannot be built.
#[cfg(not(feature = "aws"))]
pub(super) fn sns(
    _: &SnsConfig,
    name: String,
    _: &BuildContext,
) -> Result<Arc<dyn Sink>, BuildError> {
    Err(not_built(name, "an SNS sink (kind: sns)"))
}

#[cfg(not(feature = "aws"))]
fn not_built(sink: String, what: &'static str) -> BuildError {
    BuildError::NotBuilt {
        sink,
        source: crate::aws::NotBuilt(what),
    }
}

/// Whether this build can send through `kind` (for `cspm sinks lint`).
pub(super) fn available(kind: &str) -> bool {
    cfg!(feature = "aws") || !matches!(kind, "sns" | "ses")
}

#[cfg(test)]
mod tests {
    use super::super::{lint, parse, BuildContext};
    use crate::sinks::ssrf::SystemResolver;
    use std::sync::Arc;

    const FILE: &str = "sinks:\n  - {name: log, kind: log}\n  - {name: alerts, kind: sns, standard_topic_arn: \"arn:aws:sns:us-east-1:111122223333:standard\"}\n  - {name: mail, kind: ses, from: security@example.com, to: [secops@example.com]}\n";

    #[tokio::test]
    async fn lint_reports_sns_and_ses_as_unavailable_only_in_a_build_without_aws() {
        let problems = lint(FILE, &SystemResolver).await;
        let unavailable: Vec<_> = problems
            .iter()
            .filter(|p| p.message.contains("needs the AWS adapters"))
            .map(|p| (p.line, p.error))
            .collect();
        if cfg!(feature = "aws") {
            assert_eq!(unavailable, [], "{problems:?}");
        } else {
            assert_eq!(
                unavailable,
                [(Some(3), true), (Some(4), true)],
                "{problems:?}"
            );
        }
    }

    #[tokio::test]
    async fn building_an_sns_sink_without_aws_says_how_to_get_it() {
        let file = parse(FILE).expect("the file parses in every build");
        let ctx = BuildContext {
            sdk: None,
            dedup: Arc::new(crate::sinks::dedup::MemoryDedup::default()),
            resolver: Arc::new(SystemResolver),
            dashboard_url: None,
            throttle: None,
            digests_on_schedule: false,
            turns: None,
        };
        let err = file.sinks[1]
            .build(&ctx)
            .await
            .err()
            .expect("no sink without AWS");
        let text = err.to_string();
        if cfg!(feature = "aws") {
            // With the adapters, what is missing is the configuration.
            assert!(text.contains("needs AWS credentials"), "{text}");
        } else {
            assert!(text.contains("cargo build --features aws"), "{text}");
        }
    }
}
