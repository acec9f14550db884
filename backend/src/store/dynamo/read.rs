//! Consistent reads of whole items: one by `GetItem`, many by `BatchGetItem`
//! with unprocessed keys retried.

use super::error::{is_transient, Call};
use super::item::{self, FindingItem};
use super::{corrupt, DynamoStore};
use crate::retry::retry;
use crate::store::{StoreError, StoreResult};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Why a BatchGetItem try did not read every key.
enum BatchGetFailure {
    /// The call failed.
    Sdk(Box<SdkError<BatchGetItemError, HttpResponse>>),
    /// DynamoDB left keys unprocessed (throttling or the 16 MB response limit).
    Unprocessed,
}

impl BatchGetFailure {
    fn is_retryable(&self) -> bool {
        match self {
            BatchGetFailure::Sdk(e) => is_transient(e),
            BatchGetFailure::Unprocessed => true,
        }
    }
}

#[derive(serde::Serialize)]
struct IdKey<'a> {
    id: &'a str,
}

impl DynamoStore {
    pub(super) fn id_key(id: &str) -> StoreResult<HashMap<String, AttributeValue>> {
        to_item(IdKey { id }).map_err(|e| StoreError::Backend(Box::new(e)))
    }

    /// Reads one whole item, strongly consistent.
    pub(super) async fn get_item(&self, id: &str) -> StoreResult<Option<FindingItem>> {
        let key = Self::id_key(id)?;
        let call = Call::new("GetItem", &self.settings.table);
        let out = retry(&self.settings.backoff, is_transient, || {
            self.client
                .get_item()
                .table_name(&self.settings.table)
                .set_key(Some(key.clone()))
                .consistent_read(true)
                .send()
        })
        .await
        .map_err(|e| call.store_error(e))?;
        match out.item {
            Some(item) => from_item(item).map(Some).map_err(|e| corrupt(id, e)),
            None => Ok(None),
        }
    }

    /// Reads many whole items (BatchGetItem, unprocessed keys retried), in any order.
    pub(super) async fn batch_get(&self, ids: &[String]) -> StoreResult<Vec<FindingItem>> {
        self.batch_get_items(ids, None)
            .await?
            .into_iter()
            .map(|item| {
                let id = item
                    .get("id")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                from_item(item).map_err(|e| corrupt(&id, e))
            })
            .collect()
    }

    /// Raw items for `ids` by consistent BatchGetItem, 100 keys a call, limited to
    /// the `projection` attributes when given; unprocessed keys and retryable errors
    /// are retried with backoff, in any order.
    pub(super) async fn batch_get_items(
        &self,
        ids: &[String],
        projection: Option<&[&str]>,
    ) -> StoreResult<Vec<HashMap<String, AttributeValue>>> {
        let table = &self.settings.table;
        let call = Call::new("BatchGetItem", table);
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            let keys = chunk
                .iter()
                .map(|id| Self::id_key(id))
                .collect::<StoreResult<Vec<_>>>()?;
            let (expr, names) = match projection {
                Some(attrs) => {
                    let (expr, names) = item::projection(attrs);
                    (Some(expr), Some(names))
                }
                None => (None, None),
            };
            let req = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .set_projection_expression(expr)
                .set_expression_attribute_names(names)
                .build()
                .map_err(|e| StoreError::Backend(Box::new(e)))?;
            // The keys still to read and the items read so far, kept between tries:
            // each try asks only for what the one before left unprocessed.
            let state = Mutex::new((req, Vec::new()));
            let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
            retry(
                &self.settings.backoff,
                BatchGetFailure::is_retryable,
                || async {
                    let req = lock().0.clone();
                    let r = self
                        .client
                        .batch_get_item()
                        .request_items(table, req)
                        .send()
                        .await
                        .map_err(|e| BatchGetFailure::Sdk(Box::new(e)))?;
                    let mut s = lock();
                    s.1.extend(
                        r.responses()
                            .and_then(|m| m.get(table))
                            .into_iter()
                            .flatten()
                            .cloned(),
                    );
                    match r
                        .unprocessed_keys()
                        .and_then(|m| m.get(table))
                        .filter(|k| !k.keys().is_empty())
                    {
                        Some(rest) => {
                            s.0 = rest.clone();
                            Err(BatchGetFailure::Unprocessed)
                        }
                        None => Ok(()),
                    }
                },
            )
            .await
            .map_err(|e| match e {
                BatchGetFailure::Sdk(e) => call.store_error(*e),
                BatchGetFailure::Unprocessed => StoreError::Unavailable(
                    call.failed("keys still unprocessed after retries")
                        .to_string(),
                ),
            })?;
            out.append(&mut lock().1);
        }
        Ok(out)
    }
}
