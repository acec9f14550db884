//! Named tokens in DynamoDB (the AWS deployment's auth table, beside the browser
//! sessions), so `cspm tokens create --table …` run by an operator is seen by the
//! `api` Lambda's next request. Items: `token#<name>` (what [`NamedToken`] holds
//! and the hash), `tokenhash#<SHA-256>` (→ the name: a token is found by its
//! hash in one read, never by the token itself) and `tokens#any`, written with
//! the first token, which turns authentication on. Token items carry no
//! `expires_at` attribute: the table's TTL must never delete a token (a revoked
//! one keeps its name taken).

use super::{secret, NamedToken, TokenError, TokenHash, TokenStore};
use crate::auth::Role;
use crate::aws::item::{n, s, text, time_ms as time, Item};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};

/// Named tokens in a DynamoDB table whose string hash key is `pk`.
#[derive(Debug, Clone)]
pub struct DynamoTokens {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

const ANY: &str = "tokens#any";

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> TokenError {
    TokenError::Backend(Box::new(e))
}

fn token_key(name: &str) -> String {
    format!("token#{name}")
}

fn hash_key(hash: &TokenHash) -> String {
    format!("tokenhash#{}", hash.to_hex())
}

fn token_of(item: &Item) -> Option<NamedToken> {
    Some(NamedToken {
        name: text(item, "name")?.to_string(),
        // A role this version does not know reads as viewer: never more.
        role: text(item, "role")?.parse().unwrap_or(Role::Viewer),
        created: time(item, "created_ms")?,
        expires: time(item, "expires_ms"),
        last_used: time(item, "last_used_ms"),
        revoked: time(item, "revoked_ms"),
    })
}

/// Whether a transaction was cancelled because one of its conditions failed.
fn condition_failed(
    e: &aws_sdk_dynamodb::error::SdkError<
        TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> bool {
    crate::aws::item::cancellation_reasons(e)
        .is_some_and(|reasons| reasons.iter().any(|c| c == "ConditionalCheckFailed"))
}

/// Whether a transaction was cancelled only because another one touched the same
/// item at the same moment.
fn conflicted(
    e: &aws_sdk_dynamodb::error::SdkError<
        TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> bool {
    crate::aws::item::cancellation_reasons(e).is_some_and(|reasons| {
        reasons.iter().any(|c| c == "TransactionConflict")
            && reasons
                .iter()
                .all(|c| matches!(c.as_str(), "None" | "TransactionConflict"))
    })
}

impl DynamoTokens {
    /// Named tokens in `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoTokens {
        DynamoTokens {
            client,
            table: table.into(),
        }
    }

    fn put(&self, item: Item, only_new: bool) -> Result<TransactWriteItem, TokenError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if only_new {
            put = put.condition_expression("attribute_not_exists(pk)");
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(backend)?)
            .build())
    }

    async fn get(&self, pk: String) -> Result<Option<Item>, TokenError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }
}

#[async_trait]
impl TokenStore for DynamoTokens {
    async fn create(&self, token: &NamedToken, hash: &TokenHash) -> Result<(), TokenError> {
        if !secret::valid_name(&token.name) {
            return Err(TokenError::InvalidName(token.name.clone()));
        }
        let mut item = Item::from([
            ("pk".into(), s(token_key(&token.name))),
            ("name".into(), s(&token.name)),
            ("role".into(), s(token.role.as_str())),
            ("hash".into(), s(hash.to_hex())),
            ("created_ms".into(), n(token.created.timestamp_millis())),
        ]);
        if let Some(e) = token.expires {
            item.insert("expires_ms".into(), n(e.timestamp_millis()));
        }
        let by_hash = Item::from([
            ("pk".into(), s(hash_key(hash))),
            ("name".into(), s(&token.name)),
        ]);
        let marker = Item::from([("pk".into(), s(ANY))]);
        // One transaction: the name and the hash are both new, or nothing is written.
        // Two tokens made at once both write the marker: the loser's transaction is
        // cancelled as a conflict, and is simply made again.
        let mut tries: u64 = 0;
        loop {
            tries += 1;
            let r = self
                .client
                .transact_write_items()
                .transact_items(self.put(item.clone(), true)?)
                .transact_items(self.put(by_hash.clone(), true)?)
                .transact_items(self.put(marker.clone(), false)?)
                .send()
                .await;
            match r {
                Ok(_) => return Ok(()),
                Err(e) if condition_failed(&e) => {
                    return Err(TokenError::Duplicate(token.name.clone()))
                }
                Err(e) if conflicted(&e) && tries < 5 => {
                    tokio::time::sleep(std::time::Duration::from_millis(20 * tries)).await;
                }
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn list(&self) -> Result<Vec<NamedToken>, TokenError> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :p)")
            .expression_attribute_values(":p", s("token#"))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            out.extend(page.map_err(backend)?.items().iter().filter_map(token_of));
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn revoke(&self, name: &str, at: DateTime<Utc>) -> Result<(), TokenError> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(token_key(name)))
            .update_expression("SET revoked_ms = :at")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(revoked_ms)")
            .expression_attribute_values(":at", n(at.timestamp_millis()))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if crate::aws::item::condition_failed(&e) => {
                Err(TokenError::NotFound(name.to_string()))
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn find(&self, hash: &TokenHash) -> Result<Option<NamedToken>, TokenError> {
        let Some(by_hash) = self.get(hash_key(hash)).await? else {
            return Ok(None);
        };
        let Some(name) = text(&by_hash, "name") else {
            return Ok(None);
        };
        let Some(item) = self.get(token_key(name)).await? else {
            return Ok(None);
        };
        // The token item names the hash it was made with: a stray hash item
        // pointing at another token's name finds nothing.
        if text(&item, "hash") != Some(hash.to_hex().as_str()) {
            return Ok(None);
        }
        Ok(token_of(&item))
    }

    async fn touch(&self, name: &str, at: DateTime<Utc>) -> Result<(), TokenError> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(token_key(name)))
            .update_expression("SET last_used_ms = :at")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", n(at.timestamp_millis()))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            // A token deleted by hand: nothing to record.
            Err(e) if crate::aws::item::condition_failed(&e) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    async fn any(&self) -> Result<bool, TokenError> {
        Ok(self.get(ANY.to_string()).await?.is_some())
    }
}
