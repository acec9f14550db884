//! Sessions and pending sign-ins in DynamoDB, for the `api` Lambda: every
//! invocation may run in another instance, so a session lives in a table, not in
//! memory. One item per session (`pk` = `session#<SHA-256 of the id>`) or sign-in
//! attempt (`login#<SHA-256 of the state>`), never keyed by the value itself; the
//! table's TTL attribute `expires_at` (epoch seconds) removes ended ones, and every
//! read checks the end itself, since TTL deletes up to days late.

use super::{PendingLogin, Session, SessionError, SessionStore, SessionTokens, SessionUser};
use crate::auth::tokens::TokenHash;
use crate::auth::{Principal, Role};
use crate::aws::item::{n, s, text, time_ms as time, Item};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};

/// Sessions in a DynamoDB table with a string partition key `pk` and TTL on
/// `expires_at`.
#[derive(Debug, Clone)]
pub struct DynamoSessions {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> SessionError {
    SessionError::Backend(Box::new(e))
}

fn session_key(id: &TokenHash) -> aws_sdk_dynamodb::types::AttributeValue {
    s(format!("session#{}", id.to_hex()))
}

fn login_key(state: &TokenHash) -> aws_sdk_dynamodb::types::AttributeValue {
    s(format!("login#{}", state.to_hex()))
}

/// The end as the table's TTL reads it: epoch seconds, rounded up.
fn ttl(end: DateTime<Utc>) -> aws_sdk_dynamodb::types::AttributeValue {
    n((end.timestamp_millis() + 999).div_euclid(1000))
}

fn optional(item: &mut Item, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        item.insert(name.into(), s(v));
    }
}

fn session_item(id: &TokenHash, x: &Session) -> Item {
    let mut item = Item::from([
        ("pk".into(), session_key(id)),
        ("sub".into(), s(&x.user.sub)),
        ("actor".into(), s(&x.principal.actor)),
        ("role".into(), s(x.principal.role.as_str())),
        ("csrf_token".into(), s(&x.csrf_token)),
        ("access_token".into(), s(&x.tokens.access_token)),
        (
            "tokens_expire_ms".into(),
            n(x.tokens_expire_at.timestamp_millis()),
        ),
        ("created_ms".into(), n(x.created_at.timestamp_millis())),
        ("expires_ms".into(), n(x.expires_at.timestamp_millis())),
        ("expires_at".into(), ttl(x.expires_at)),
    ]);
    optional(&mut item, "email", &x.user.email);
    optional(&mut item, "name", &x.user.name);
    optional(&mut item, "id_token", &x.tokens.id_token);
    optional(&mut item, "refresh_token", &x.tokens.refresh_token);
    item
}

/// The session an item holds; `None` for an item that is not a whole session.
fn session_of(item: &Item) -> Option<Session> {
    let owned = |name: &str| text(item, name).map(str::to_string);
    Some(Session {
        user: SessionUser {
            sub: owned("sub")?,
            email: owned("email"),
            name: owned("name"),
        },
        principal: Principal {
            actor: owned("actor")?,
            subject: owned("sub")?,
            // A role this version does not know reads as viewer: never more.
            role: text(item, "role")?.parse().unwrap_or(Role::Viewer),
        },
        csrf_token: owned("csrf_token")?,
        tokens: SessionTokens {
            access_token: owned("access_token")?,
            id_token: owned("id_token"),
            refresh_token: owned("refresh_token"),
        },
        tokens_expire_at: time(item, "tokens_expire_ms")?,
        created_at: time(item, "created_ms")?,
        expires_at: time(item, "expires_ms")?,
    })
}

fn login_of(item: &Item) -> Option<PendingLogin> {
    Some(PendingLogin {
        nonce: text(item, "nonce")?.to_string(),
        verifier: text(item, "verifier")?.to_string(),
        return_to: text(item, "return_to")?.to_string(),
        expires_at: time(item, "expires_ms")?,
    })
}

impl DynamoSessions {
    /// Sessions in `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoSessions {
        DynamoSessions {
            client,
            table: table.into(),
        }
    }

    /// Deletes the item under `pk` and returns what it held: one call, so two
    /// requests racing for one item cannot both get it.
    async fn take(
        &self,
        pk: aws_sdk_dynamodb::types::AttributeValue,
    ) -> Result<Option<Item>, SessionError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", pk)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.attributes)
    }
}

#[async_trait]
impl SessionStore for DynamoSessions {
    async fn put_login(&self, state: &TokenHash, login: &PendingLogin) -> Result<(), SessionError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", login_key(state))
            .item("nonce", s(&login.nonce))
            .item("verifier", s(&login.verifier))
            .item("return_to", s(&login.return_to))
            .item("expires_ms", n(login.expires_at.timestamp_millis()))
            .item("expires_at", ttl(login.expires_at))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn take_login(
        &self,
        state: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingLogin>, SessionError> {
        let item = self.take(login_key(state)).await?;
        Ok(item
            .as_ref()
            .and_then(login_of)
            .filter(|l| l.expires_at > now))
    }

    async fn save(&self, id: &TokenHash, session: &Session) -> Result<(), SessionError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session_item(id, session)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn replace(
        &self,
        id: &TokenHash,
        was: &Session,
        renewed: &Session,
    ) -> Result<bool, SessionError> {
        let r = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session_item(id, renewed)))
            .condition_expression("attribute_exists(pk) AND tokens_expire_ms = :was")
            .expression_attribute_values(":was", n(was.tokens_expire_at.timestamp_millis()))
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if crate::aws::item::condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn find(
        &self,
        id: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, SessionError> {
        // Consistent: a sign-out (or renewal) another instance just wrote counts.
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", session_key(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out
            .item
            .as_ref()
            .and_then(session_of)
            .filter(|x| x.expires_at > now))
    }

    async fn delete(&self, id: &TokenHash) -> Result<Option<Session>, SessionError> {
        let item = self.take(session_key(id)).await?;
        Ok(item.as_ref().and_then(session_of))
    }

    /// The table's TTL removes ended items (and reads never return them), so
    /// there is nothing to do here: answers 0.
    async fn purge(&self, _now: DateTime<Utc>) -> Result<usize, SessionError> {
        Ok(0)
    }
}
