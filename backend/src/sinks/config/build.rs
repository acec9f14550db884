//! Building the sinks a file names: each kind from its configuration and secrets,
//! governed sinks under the routes in force, and Slack and e-mail also throttled
//! (dedup, digests, quiet hours) when there is a throttle state.

use super::*;

/// The sinks of a file, built, and the throttled ones among them (whose due
/// digests a timer flushes: [`Throttled::flush`]).
pub struct Built {
    /// Every sink, for the dispatcher.
    pub sinks: Vec<Arc<dyn Sink>>,
    /// The throttled channels (also in `sinks`).
    pub throttled: Vec<Arc<Throttled>>,
}

impl SinksFile {
    /// Builds every sink, each governed sink under the routes in force; Slack and
    /// e-mail sinks also throttled (dedup, digests, quiet hours) when `ctx` has a
    /// throttle state.
    pub async fn build_all(&self, ctx: &BuildContext) -> Result<Built, BuildError> {
        let (routes, governed) = self.routing();
        let routes: Arc<[Route]> = routes.into();
        let mut out = Built {
            sinks: Vec::new(),
            throttled: Vec::new(),
        };
        for s in &self.sinks {
            let (sink, notify) = s.build_channel(ctx).await?;
            if !governed.iter().any(|n| n == s.name()) {
                out.sinks.push(sink);
                continue;
            }
            match (notify, &ctx.throttle) {
                (Some(notify), Some(state)) => {
                    let t = Throttled::new(
                        sink,
                        notify,
                        routes.clone(),
                        self.quiet_hours.get(s.name()).copied(),
                        state.clone(),
                        ctx.dashboard_url.clone(),
                    );
                    let t = Arc::new(if ctx.digests_on_schedule {
                        t.flush_on_schedule_only()
                    } else {
                        t
                    });
                    out.throttled.push(t.clone());
                    out.sinks.push(t);
                }
                _ => out
                    .sinks
                    .push(Arc::new(Routed::new(sink, routes.clone())) as Arc<dyn Sink>),
            }
        }
        Ok(out)
    }
}

/// What building sinks needs besides their configuration.
#[derive(Clone)]
pub struct BuildContext {
    /// AWS configuration (SNS, SSM secrets); `None` locally without AWS.
    pub sdk: Option<crate::aws::SdkConfig>,
    /// Where alerting sinks remember what they sent.
    pub dedup: Arc<dyn Dedup>,
    /// Host lookups for webhook targets (the system's; tests inject theirs).
    pub resolver: Arc<dyn Resolver>,
    /// Dashboard base URL for links in alerts.
    pub dashboard_url: Option<String>,
    /// Where throttled channels keep their state; `None`: Slack and e-mail send
    /// every alert as routed (no dedup windows, digests or quiet hours).
    pub throttle: Option<Arc<dyn ThrottleState>>,
    /// Digests are flushed only by [`Throttled::flush`] on a schedule, never
    /// before a batch: set where several processes send for one channel (the
    /// `fanout` Lambda), so no two flush one window at once.
    pub digests_on_schedule: bool,
    /// Where Slack and e-mail sinks book their turns, when several processes
    /// send for them at once (the `fanout` Lambda); `None`: each paces itself.
    pub turns: Option<Arc<dyn crate::sinks::turns::Turns>>,
}

/// A sink could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A referenced secret could not be read.
    #[error("sink {sink:?}: {source}")]
    Secret {
        /// The sink.
        sink: String,
        /// Why.
        source: SecretError,
    },
    /// The sink needs AWS and none is configured.
    #[error("sink {0:?} (sns, ses) needs AWS credentials and a region")]
    NeedsAws(String),
    /// The sink's kind is left out of this build.
    #[error("sink {sink:?}: {source}")]
    NotBuilt {
        /// The sink.
        sink: String,
        /// Which kind, and how to get a build with it.
        source: crate::aws::NotBuilt,
    },
    /// Anything else the sink refused.
    #[error("sink {sink:?}: {source}")]
    Sink {
        /// The sink.
        sink: String,
        /// Why.
        source: SinkError,
    },
}

impl SinkConfig {
    /// Builds the sink (reading its secret once).
    pub async fn build(&self, ctx: &BuildContext) -> Result<Arc<dyn Sink>, BuildError> {
        Ok(self.build_channel(ctx).await?.0)
    }

    /// Builds the sink and, for channels that post notices (digests, follow-ups:
    /// Slack and e-mail), the same sink as a [`Notify`].
    pub async fn build_channel(
        &self,
        ctx: &BuildContext,
    ) -> Result<(Arc<dyn Sink>, Option<Arc<dyn Notify>>), BuildError> {
        let name = self.name().to_string();
        let plain = |s: Arc<dyn Sink>| (s, None::<Arc<dyn Notify>>);
        match self {
            SinkConfig::Slack(c) => {
                let s = Arc::new(slack_sink(c, ctx).await?);
                let (sink, notify): (Arc<dyn Sink>, Arc<dyn Notify>) = (s.clone(), s);
                Ok((sink, Some(notify)))
            }
            SinkConfig::Ses(c) => {
                let (sink, notify) = aws_kinds::ses(c, name, ctx)?;
                Ok((sink, Some(notify)))
            }
            _ => self.build_plain(ctx).await.map(plain),
        }
    }

    /// Builds a sink that posts no notices.
    async fn build_plain(&self, ctx: &BuildContext) -> Result<Arc<dyn Sink>, BuildError> {
        let name = self.name().to_string();
        match self {
            SinkConfig::Log(c) => Ok(Arc::new(LogSink::new(name, filter_of!(c)))),
            SinkConfig::Webhook(c) => {
                let secret = match SecretRef::from_fields(
                    c.secret_env.as_deref(),
                    c.secret_ssm.as_deref(),
                ) {
                    Some(r) => Some(r.resolve(ctx.sdk.as_ref()).await.map_err(|source| {
                        BuildError::Secret {
                            sink: name.clone(),
                            source,
                        }
                    })?),
                    None => None,
                };
                let timeout = c.timeout.map(|t| t.0).unwrap_or(Duration::from_secs(5));
                let sink = WebhookSink::new(
                    name.clone(),
                    c.url.0.clone(),
                    secret,
                    filter_of!(c),
                    timeout,
                    ctx.resolver.clone(),
                )
                .map_err(|source| BuildError::Sink { sink: name, source })?;
                Ok(Arc::new(sink))
            }
            // Built with their notices above.
            SinkConfig::Slack(_) | SinkConfig::Ses(_) => Err(BuildError::Sink {
                sink: name,
                source: SinkError::permanent("a Slack or e-mail sink is built as a channel"),
            }),
            SinkConfig::Sns(c) => aws_kinds::sns(c, name, ctx),
        }
    }
}

/// Reads a Slack sink's secret and builds it.
async fn slack_sink(c: &SlackConfig, ctx: &BuildContext) -> Result<SlackSink, BuildError> {
    let name = c.name.0.clone();
    let secret_err = |source| BuildError::Secret {
        sink: name.clone(),
        source,
    };
    let read = |env: &Option<EnvName>, ssm: &Option<String>| {
        SecretRef::from_fields(env.as_ref().map(|e| e.0.as_str()), ssm.as_deref())
    };
    let (destination, described) = if let Some(r) = read(&c.webhook_url_env, &c.webhook_url_ssm) {
        let url = r.resolve(ctx.sdk.as_ref()).await.map_err(secret_err)?;
        (
            Destination::Webhook { url },
            format!("Slack webhook from {}", r.describe()),
        )
    } else if let Some(r) = read(&c.token_env, &c.token_ssm) {
        let token = r.resolve(ctx.sdk.as_ref()).await.map_err(secret_err)?;
        let channel = c.channel.clone().unwrap_or_default();
        let described = format!("Slack chat.postMessage to {channel}");
        let url = c
            .api_url
            .as_ref()
            .map_or(POST_MESSAGE_URL.to_string(), |u| u.0.url.to_string());
        (
            Destination::Api {
                url,
                token,
                channel,
            },
            described,
        )
    } else {
        return Err(BuildError::Sink {
            sink: name,
            source: SinkError::permanent("no webhook URL or token configured"),
        });
    };
    let settings = SlackSettings {
        name: name.clone(),
        destination,
        described,
        min_severity: c.min_severity.unwrap_or(Severity::Informational),
        filter: filter_of!(c),
        min_interval: c.min_interval.map_or(Duration::from_secs(1), |d| d.0),
        timeout: c.timeout.map_or(Duration::from_secs(10), |d| d.0),
        public_url: ctx.dashboard_url.clone(),
    };
    let sink = SlackSink::new(settings, ctx.dedup.clone(), ctx.resolver.clone())
        .map_err(|source| BuildError::Sink { sink: name, source })?;
    Ok(match &ctx.turns {
        Some(turns) => sink.with_turns(turns.clone()),
        None => sink,
    })
}
