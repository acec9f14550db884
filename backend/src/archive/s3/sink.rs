//! The S3 sink. Every object is encrypted at rest (SSE-KMS with the configured key,
//! SSE-S3 otherwise) and carries its content type.

use super::S3Location;
use crate::archive::{check_key, ArchiveSink, ObjectKind, SinkError, SinkResult};
use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_s3::Client;
use bytes::Bytes;

/// Archive objects in an S3 bucket under a prefix.
#[derive(Debug, Clone)]
pub struct S3Sink {
    client: Client,
    location: S3Location,
    kms_key: Option<String>,
}

impl S3Sink {
    /// A sink over an existing client. `kms_key` (id or ARN) turns on SSE-KMS.
    pub fn new(client: Client, location: S3Location, kms_key: Option<String>) -> Self {
        S3Sink {
            client,
            location,
            kms_key: kms_key.filter(|k| !k.is_empty()),
        }
    }

    /// An S3 client over a shared SDK configuration. When the configuration
    /// overrides the endpoint (the AWS emulator in tests, MinIO by hand) it uses
    /// path-style addressing: virtual-host buckets do not resolve on 127.0.0.1.
    pub fn client(sdk: &aws_config::SdkConfig) -> Client {
        let mut conf = aws_sdk_s3::config::Builder::from(sdk);
        if sdk.endpoint_url().is_some() {
            conf = conf.force_path_style(true);
        }
        Client::from_conf(conf.build())
    }

    /// The SDK client (the export jobs' multipart uploads and presigned links
    /// go through the same client, bucket and encryption as the archive).
    pub(crate) fn sdk(&self) -> &Client {
        &self.client
    }

    /// The bucket.
    pub(crate) fn bucket(&self) -> &str {
        &self.location.bucket
    }

    /// The KMS key of SSE-KMS, when one is configured (SSE-S3 otherwise).
    pub(crate) fn kms_key(&self) -> Option<&str> {
        self.kms_key.as_deref()
    }

    /// The object key of archive key `key` (the prefix added), after checking
    /// `key` as every put and get does.
    pub(crate) fn object_key(&self, key: &str) -> SinkResult<String> {
        check_key(key)?;
        Ok(self.full_key(key))
    }

    fn full_key(&self, key: &str) -> String {
        if self.location.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.location.prefix)
        }
    }

    /// The PutObject of `body` under `key`, encrypted as every archive object is
    /// (SSE-KMS with the archive's key, SSE-S3 without one), for callers to add
    /// conditions to before they send it.
    pub(crate) fn put_request(
        &self,
        key: &str,
        body: Bytes,
        kind: ObjectKind,
    ) -> SinkResult<PutObjectFluentBuilder> {
        let req = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(self.object_key(key)?)
            .content_type(kind.content_type())
            .body(ByteStream::from(body));
        Ok(match &self.kms_key {
            Some(k) => req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(k),
            None => req.server_side_encryption(ServerSideEncryption::Aes256),
        })
    }

    /// An SDK error of `operation` on `key`, named with the object's `s3://` URL.
    pub(crate) fn s3_err<E>(
        &self,
        operation: &'static str,
        key: &str,
        e: &SdkError<E, HttpResponse>,
    ) -> SinkError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.failed(operation, key, e, crate::aws::is_retryable(e))
    }

    /// `err` of `operation` on `key`, with whether it may pass.
    pub(crate) fn failed(
        &self,
        operation: &'static str,
        key: &str,
        err: &(dyn std::error::Error + 'static),
        retryable: bool,
    ) -> SinkError {
        SinkError::S3 {
            operation,
            url: format!("s3://{}/{}", self.location.bucket, self.full_key(key)),
            detail: crate::aws::error_text(err),
            retryable,
        }
    }
}

#[async_trait]
impl ArchiveSink for S3Sink {
    fn location(&self) -> String {
        if self.location.prefix.is_empty() {
            format!("s3://{}", self.location.bucket)
        } else {
            format!("s3://{}/{}", self.location.bucket, self.location.prefix)
        }
    }

    async fn put(&self, key: &str, body: Bytes, kind: ObjectKind) -> SinkResult<()> {
        self.put_request(key, body, kind)?
            .send()
            .await
            .map_err(|e| self.s3_err("PutObject", key, &e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> SinkResult<Option<Bytes>> {
        check_key(key)?;
        let out = self
            .client
            .get_object()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .send()
            .await;
        let out = match out {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(self.s3_err("GetObject", key, &e)),
        };
        let body = out
            .body
            .collect()
            .await
            // The body broke off mid-way: a network failure, worth another try.
            .map_err(|e| self.failed("GetObject", key, &e, true))?;
        Ok(Some(body.into_bytes()))
    }

    async fn list(&self, prefix: &str) -> SinkResult<Vec<String>> {
        let trimmed = prefix.trim_end_matches('/');
        if !trimmed.is_empty() {
            check_key(trimmed)?;
        }
        let full_prefix = self.full_key(prefix);
        let strip = if self.location.prefix.is_empty() {
            0
        } else {
            self.location.prefix.len() + 1
        };
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&full_prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.s3_err("ListObjectsV2", prefix, &e))?;
            for obj in page.contents() {
                if let Some(k) = obj.key().and_then(|k| k.get(strip..)) {
                    keys.push(k.to_owned());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}
