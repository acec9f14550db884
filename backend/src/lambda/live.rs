//! The live dashboard's Lambdas behind the API Gateway WebSocket API:
//! - `live` takes the routes: `$connect` records the connection (the authorizer
//!   has admitted it), `$disconnect` forgets it, `$default` answers the client's
//!   frames (`resume` is served from the findings table, `pong` needs nothing);
//!   a scheduled event pings every connection each minute, which keeps them
//!   under API Gateway's 10-minute idle cut and clears the gone ones. That scan
//!   is the one place on AWS that sees every connection, so the keep-alive also
//!   samples `LiveConnections` (printed as an EMF line by the binary).
//! - `live_authorizer` admits a `$connect` that carries a fresh ticket (taken
//!   once) from an allowed origin.
//!
//! Events are read as JSON with only the fields used, so recorded events from
//! the AWS documentation drive the tests.

use crate::live::connections::Connections;
use crate::live::origin_allowed;
use crate::live::resume::{Resume, Resumed};
use crate::live::tickets::Tickets;
use crate::live::LiveError;
use crate::metrics::{emf, Registry, LIVE_CONNECTIONS};
use crate::sinks::websocket::WebSocketSink;
use serde_json::{json, Value};
use shared_types::{ClientFrame, ClientMessage, ServerFrame, ServerMessage, LIVE_VERSION};
use std::sync::Arc;

/// Most changes a `resume` replays; further behind, the page reloads.
pub const MAX_REPLAY: usize = 10_000;

/// The `live` function: connections, client frames and keep-alive pings.
pub struct LiveRoutes {
    /// The connections table.
    pub connections: Connections,
    /// Posts frames (and deletes gone connections).
    pub push: WebSocketSink,
    /// Reads what changed after a position.
    pub resume: Resume,
    /// What this invocation counted (the keep-alive's `LiveConnections`),
    /// printed as EMF by [`LiveRoutes::emit_metrics`], then forgotten.
    pub metrics: Arc<Registry>,
}

fn text<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path).and_then(Value::as_str)
}

fn frame(msg: ServerMessage) -> String {
    serde_json::to_string(&ServerFrame::new(msg)).unwrap_or_default()
}

fn resync(reason: &str) -> String {
    frame(ServerMessage::Resync {
        reason: reason.into(),
    })
}

impl LiveRoutes {
    /// Prints what the invocation counted as EMF lines (stdout on Lambda): one
    /// `LiveConnections` line after a keep-alive, nothing after a route event.
    pub fn emit_metrics(&self, out: &mut dyn std::io::Write) {
        emf::flush(&self.metrics, out);
    }

    /// Handles one invocation; the answer is what API Gateway expects of a
    /// WebSocket route integration.
    pub async fn handle(&self, event: &Value) -> Result<Value, LiveError> {
        if text(event, "/detail-type") == Some("Scheduled Event") {
            self.ping_all().await?;
            return Ok(json!({}));
        }
        let id = text(event, "/requestContext/connectionId").unwrap_or_default();
        match text(event, "/requestContext/eventType") {
            Some("CONNECT") => {
                // The authorizer's context names the user the ticket was for.
                let user = text(event, "/requestContext/authorizer/user")
                    .or_else(|| text(event, "/requestContext/authorizer/principalId"))
                    .unwrap_or("unknown");
                self.connections.add(id, user, chrono::Utc::now()).await?;
            }
            Some("DISCONNECT") => self.connections.remove(id).await?,
            Some("MESSAGE") => {
                let body = text(event, "/body").unwrap_or_default();
                self.message(id, body).await?;
            }
            other => {
                tracing::warn!(event_type = ?other, "not a WebSocket route event");
                return Ok(json!({"statusCode": 400}));
            }
        }
        Ok(json!({"statusCode": 200}))
    }

    async fn message(&self, id: &str, body: &str) -> Result<(), LiveError> {
        let reply = match serde_json::from_str::<ClientFrame>(body) {
            Ok(f) if f.v != LIVE_VERSION => vec![resync("protocol version differs")],
            Ok(ClientFrame {
                msg: ClientMessage::Resume { after },
                ..
            }) => match self.resume.after(&after, MAX_REPLAY).await? {
                Resumed::Frames(frames) => frames,
                Resumed::TooFar => vec![resync("too much changed since this page's position")],
            },
            Ok(ClientFrame {
                msg: ClientMessage::Pong,
                ..
            }) => Vec::new(),
            Err(_) => vec![resync("unreadable frame")],
        };
        if !reply.is_empty() {
            self.push.post_to(id, &reply).await;
        }
        Ok(())
    }

    async fn ping_all(&self) -> Result<(), LiveError> {
        let ids = self.connections.list(chrono::Utc::now()).await?;
        let n = ids.len();
        let pushed = self
            .push
            .broadcast(ids, &[frame(ServerMessage::Ping)])
            .await;
        // The ones that answered 410 were just deleted: what is left is open. A
        // gauge sampled once a minute, as the schedule runs, so the dashboard's
        // line has a point even when nobody is connected.
        let open = n.saturating_sub(pushed.gone);
        self.metrics.set(&LIVE_CONNECTIONS, &[], open as f64);
        tracing::info!(connections = n, gone = pushed.gone, open, "live keep-alive");
        Ok(())
    }
}

/// The authorizer's verdict on a `$connect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Let the connection in, as this user.
    Allow(String),
    /// A page from another site: 403.
    Forbidden,
    /// No ticket, or a used or expired one: 401.
    Unauthorized,
}

/// Why the authorizer refused, as API Gateway expects it: the error message
/// `Unauthorized` answers 401.
#[derive(Debug, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

/// The `live_authorizer` function.
pub struct LiveAuthorizer {
    /// Where tickets are taken.
    pub tickets: Box<dyn Tickets>,
    /// Browser origins allowed besides the API's own host.
    pub allowed_origins: Vec<String>,
}

fn header<'a>(event: &'a Value, name: &str) -> Option<&'a str> {
    event
        .get("headers")?
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

impl LiveAuthorizer {
    /// Decides on a REQUEST authorizer event.
    pub async fn admit(&self, event: &Value) -> Result<Admission, LiveError> {
        let host = header(event, "host").unwrap_or_default();
        if !origin_allowed(header(event, "origin"), host, &self.allowed_origins) {
            return Ok(Admission::Forbidden);
        }
        let Some(ticket) = text(event, "/queryStringParameters/ticket") else {
            return Ok(Admission::Unauthorized);
        };
        Ok(match self.tickets.take(ticket).await? {
            Some(user) => Admission::Allow(user),
            None => Admission::Unauthorized,
        })
    }

    /// The authorizer's answer: an IAM policy for the `$connect` method, or
    /// the `Unauthorized` error.
    pub async fn handle(&self, event: &Value) -> Result<Value, AuthorizerError> {
        let method = text(event, "/methodArn").unwrap_or("*").to_string();
        let policy = |effect: &str, principal: &str| {
            json!({
                "principalId": principal,
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method}]
                },
                "context": {"user": principal}
            })
        };
        match self.admit(event).await.map_err(AuthorizerError::Live)? {
            Admission::Allow(user) => Ok(policy("Allow", &user)),
            Admission::Forbidden => Ok(policy("Deny", "anonymous")),
            Admission::Unauthorized => Err(AuthorizerError::Unauthorized(Unauthorized)),
        }
    }
}

/// Why the authorizer did not answer with a policy.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerError {
    /// Refused (401).
    #[error(transparent)]
    Unauthorized(Unauthorized),
    /// The ticket table could not be read (API Gateway answers 500; the page
    /// reconnects with backoff).
    #[error(transparent)]
    Live(LiveError),
}

/// The `live` function the configuration describes.
pub fn routes(
    config: &crate::config::live::LiveConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<LiveRoutes, crate::config::ConfigError> {
    use crate::config::live::LiveConfig;
    use crate::config::{ENV_CONNECTIONS_TABLE, ENV_LIVE_ENDPOINT, ENV_TABLE_NAME};
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let connections = Connections::new(
        dynamodb.clone(),
        LiveConfig::required(&config.connections_table, ENV_CONNECTIONS_TABLE)?,
    );
    let endpoint = LiveConfig::required(&config.live_endpoint, ENV_LIVE_ENDPOINT)?;
    let gateway = std::sync::Arc::new(crate::live::gateway::ApiGateway::new(sdk, endpoint));
    Ok(LiveRoutes {
        push: WebSocketSink::new(connections.clone(), gateway, None),
        connections,
        resume: Resume::new(
            dynamodb,
            LiveConfig::required(&config.table_name, ENV_TABLE_NAME)?,
        ),
        metrics: Registry::new(),
    })
}

/// The `live_authorizer` function the configuration describes.
pub fn authorizer(
    config: &crate::config::live::LiveConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<LiveAuthorizer, crate::config::ConfigError> {
    use crate::config::live::LiveConfig;
    let table = LiveConfig::required(&config.state_table, crate::config::ENV_STATE_TABLE)?;
    Ok(LiveAuthorizer {
        tickets: Box::new(crate::live::tickets::DynamoTickets::new(
            aws_sdk_dynamodb::Client::new(sdk),
            table,
        )),
        allowed_origins: config.allowed_origins.clone(),
    })
}
