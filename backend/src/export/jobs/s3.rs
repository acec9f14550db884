//! Export files in the archive bucket, under `exports/`, encrypted as every
//! archive object is (SSE-KMS with the archive's key, SSE-S3 without one): small
//! objects and small files go through the archive's own S3 sink; a file that
//! outgrows one part becomes a multipart upload, completed only at the end, so a
//! failed export leaves no object behind. Downloads are presigned GET links.

use super::files::{ByteChunks, ExportFiles, Listed, Upload, LINK_TTL};
use crate::archive::{ArchiveSink, ObjectKind, S3Sink, SinkResult};
use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};

/// True for the errors of a conditional write that another write beat: 412
/// (an object is there) and 409 (another conditional write of the key is under
/// way, and it is the one that will stand).
fn lost_race(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("PreconditionFailed" | "ConditionalRequestConflict")
    )
}

/// Bytes buffered before a part is uploaded: above S3's 5 MiB minimum part size,
/// and what an export holds in memory at most besides one page of findings.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Export objects in the archive bucket.
#[derive(Debug, Clone)]
pub struct S3ExportFiles {
    sink: S3Sink,
}

impl S3ExportFiles {
    /// Export objects through the archive's S3 sink (its bucket, prefix and key).
    pub fn new(sink: S3Sink) -> Self {
        S3ExportFiles { sink }
    }
}

/// A file being written: buffered until a part is full, then a multipart upload.
struct S3Upload {
    sink: S3Sink,
    key: String,
    object_key: String,
    content_type: &'static str,
    buffer: BytesMut,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    bytes: u64,
}

impl S3Upload {
    /// Starts the multipart upload (once), encrypted like every archive object.
    async fn upload_id(&mut self) -> SinkResult<String> {
        if let Some(id) = &self.upload_id {
            return Ok(id.clone());
        }
        let mut req = self
            .sink
            .sdk()
            .create_multipart_upload()
            .bucket(self.sink.bucket())
            .key(&self.object_key)
            .content_type(self.content_type);
        req = match self.sink.kms_key() {
            Some(k) => req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(k),
            None => req.server_side_encryption(ServerSideEncryption::Aes256),
        };
        let out = req
            .send()
            .await
            .map_err(|e| self.sink.s3_err("CreateMultipartUpload", &self.key, &e))?;
        let id = out.upload_id().unwrap_or_default().to_owned();
        self.upload_id = Some(id.clone());
        Ok(id)
    }

    /// Uploads what is buffered as the next part.
    async fn flush_part(&mut self) -> SinkResult<()> {
        let upload_id = self.upload_id().await?;
        let number = self.parts.len() as i32 + 1;
        let body = self.buffer.split().freeze();
        let out = self
            .sink
            .sdk()
            .upload_part()
            .bucket(self.sink.bucket())
            .key(&self.object_key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.sink.s3_err("UploadPart", &self.key, &e))?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .build(),
        );
        Ok(())
    }
}

#[async_trait]
impl Upload for S3Upload {
    async fn write(&mut self, bytes: Bytes) -> SinkResult<()> {
        self.bytes += bytes.len() as u64;
        self.buffer.extend_from_slice(&bytes);
        if self.buffer.len() >= PART_SIZE {
            self.flush_part().await?;
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> SinkResult<u64> {
        if self.upload_id.is_none() {
            // One part's worth or less: one PutObject through the archive sink.
            let body = self.buffer.split().freeze();
            self.sink
                .put(&self.key, body, ObjectKind::Export(self.content_type))
                .await?;
            return Ok(self.bytes);
        }
        if !self.buffer.is_empty() {
            self.flush_part().await?;
        }
        let upload_id = self.upload_id().await?;
        self.sink
            .sdk()
            .complete_multipart_upload()
            .bucket(self.sink.bucket())
            .key(&self.object_key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(std::mem::take(&mut self.parts)))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.sink.s3_err("CompleteMultipartUpload", &self.key, &e))?;
        Ok(self.bytes)
    }

    async fn abort(self: Box<Self>) {
        let Some(upload_id) = &self.upload_id else {
            return;
        };
        let aborted = self
            .sink
            .sdk()
            .abort_multipart_upload()
            .bucket(self.sink.bucket())
            .key(&self.object_key)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(e) = aborted {
            // The bucket's lifecycle rule removes incomplete uploads after a day.
            let e = self.sink.s3_err("AbortMultipartUpload", &self.key, &e);
            tracing::warn!(error = %e, "export upload not aborted");
        }
    }
}

#[async_trait]
impl ExportFiles for S3ExportFiles {
    fn location(&self) -> String {
        self.sink.location()
    }

    async fn put_status(&self, key: &str, body: Bytes) -> SinkResult<()> {
        self.sink
            .put(key, body, ObjectKind::Export("application/json"))
            .await
    }

    async fn get_status(&self, key: &str) -> SinkResult<Option<Bytes>> {
        self.sink.get(key).await
    }

    async fn create_once(&self, key: &str) -> SinkResult<bool> {
        // S3's conditional write: `If-None-Match: *` succeeds only where no
        // object is, and S3 (not this process) settles two writes at once.
        let req = self
            .sink
            .put_request(
                key,
                Bytes::new(),
                ObjectKind::Export("application/octet-stream"),
            )?
            .if_none_match("*");
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if lost_race(e.code()) => Ok(false),
            Err(e) => Err(self.sink.s3_err("PutObject", key, &e)),
        }
    }

    async fn create(&self, key: &str, content_type: &'static str) -> SinkResult<Box<dyn Upload>> {
        Ok(Box::new(S3Upload {
            sink: self.sink.clone(),
            key: key.to_owned(),
            object_key: self.sink.object_key(key)?,
            content_type,
            buffer: BytesMut::new(),
            upload_id: None,
            parts: Vec::new(),
            bytes: 0,
        }))
    }

    async fn open(&self, key: &str) -> SinkResult<Option<ByteChunks>> {
        let out = self
            .sink
            .sdk()
            .get_object()
            .bucket(self.sink.bucket())
            .key(self.sink.object_key(key)?)
            .send()
            .await;
        let out = match out {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(self.sink.s3_err("GetObject", key, &e)),
        };
        let (sink, key) = (self.sink.clone(), key.to_owned());
        let chunks = futures::stream::unfold(Some(out.body), move |body| {
            let (sink, key) = (sink.clone(), key.clone());
            async move {
                let mut body = body?;
                match body.next().await? {
                    Ok(bytes) => Some((Ok(bytes), Some(body))),
                    // A body broken off mid-way: a network failure.
                    Err(e) => Some((Err(sink.failed("GetObject", &key, &e, true)), None)),
                }
            }
        });
        Ok(Some(Box::pin(chunks)))
    }

    async fn list(&self, prefix: &str) -> SinkResult<Vec<Listed>> {
        let full_prefix = self.sink.object_key(prefix.trim_end_matches('/'))?;
        let full_prefix = if prefix.ends_with('/') {
            format!("{full_prefix}/")
        } else {
            full_prefix
        };
        let strip = full_prefix.len() - prefix.len();
        let mut out = Vec::new();
        let mut pages = self
            .sink
            .sdk()
            .list_objects_v2()
            .bucket(self.sink.bucket())
            .prefix(&full_prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.sink.s3_err("ListObjectsV2", prefix, &e))?;
            for obj in page.contents() {
                let (Some(key), Some(at)) = (obj.key(), obj.last_modified()) else {
                    continue;
                };
                let modified = DateTime::<Utc>::from_timestamp(at.secs(), at.subsec_nanos())
                    .unwrap_or_default();
                if let Some(key) = key.get(strip..) {
                    out.push(Listed {
                        key: key.to_owned(),
                        modified,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> SinkResult<()> {
        self.sink
            .sdk()
            .delete_object()
            .bucket(self.sink.bucket())
            .key(self.sink.object_key(key)?)
            .send()
            .await
            .map_err(|e| self.sink.s3_err("DeleteObject", key, &e))?;
        Ok(())
    }

    async fn link(
        &self,
        key: &str,
        file_name: &str,
        content_type: &'static str,
    ) -> SinkResult<Option<String>> {
        let config = PresigningConfig::expires_in(LINK_TTL)
            .map_err(|e| self.sink.failed("PresignGetObject", key, &e, false))?;
        let presigned = self
            .sink
            .sdk()
            .get_object()
            .bucket(self.sink.bucket())
            .key(self.sink.object_key(key)?)
            // The browser saves the file under the streamed route's name.
            .response_content_disposition(format!("attachment; filename=\"{file_name}\""))
            .response_content_type(content_type)
            .presigned(config)
            .await
            .map_err(|e| self.sink.s3_err("PresignGetObject", key, &e))?;
        Ok(Some(presigned.uri().to_owned()))
    }
}
