//! The one behaviour every `ExportFiles` store must have, run on a local folder
//! and on S3 (SSE-KMS, single put and multipart) in the emulator.

use bytes::Bytes;
use cspm::archive::S3Sink;
use cspm::export::jobs::files::{ExportFiles, LINK_TTL};
use cspm::export::jobs::s3::PART_SIZE;
use cspm::export::jobs::{LocalExportFiles, S3ExportFiles};
use futures::StreamExt;

async fn read_all(files: &dyn ExportFiles, key: &str) -> Option<Vec<u8>> {
    let mut chunks = files.open(key).await.unwrap()?;
    let mut out = Vec::new();
    while let Some(c) = chunks.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    Some(out)
}

fn keys(listed: &[cspm::export::jobs::files::Listed]) -> Vec<&str> {
    listed.iter().map(|l| l.key.as_str()).collect()
}

/// `size` bytes written in chunks of `chunk`.
async fn contract(files: &dyn ExportFiles, size: usize, chunk: usize) {
    let file = "exports/0123456789abcdef0123456789abcdef.csv";
    let status = "exports/0123456789abcdef0123456789abcdef.json";
    assert!(files.list("exports/").await.unwrap().is_empty());
    assert_eq!(files.get_status(status).await.unwrap(), None);
    assert!(files.open(file).await.unwrap().is_none());

    files
        .put_status(status, Bytes::from_static(b"{\"v\":1}"))
        .await
        .unwrap();
    files
        .put_status(status, Bytes::from_static(b"{\"v\":2}"))
        .await
        .unwrap();
    assert_eq!(
        files.get_status(status).await.unwrap().as_deref(),
        Some(&b"{\"v\":2}"[..])
    );

    // Written in pieces; nothing under the key until it is finished.
    let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let mut upload = files.create(file, "text/csv; charset=utf-8").await.unwrap();
    for piece in body.chunks(chunk) {
        upload.write(Bytes::copy_from_slice(piece)).await.unwrap();
    }
    assert!(
        files.open(file).await.unwrap().is_none(),
        "visible before finish"
    );
    assert_eq!(upload.finish().await.unwrap(), size as u64);
    assert!(
        read_all(files, file).await.unwrap() == body,
        "read back differs"
    );

    // An aborted upload leaves nothing and does not touch the finished file.
    let other = "exports/fedcba9876543210fedcba9876543210.jsonl";
    let mut upload = files.create(other, "application/x-ndjson").await.unwrap();
    upload.write(Bytes::from(vec![b'x'; chunk])).await.unwrap();
    upload.abort().await;
    assert!(files.open(other).await.unwrap().is_none());
    let listed = files.list("exports/").await.unwrap();
    assert_eq!(keys(&listed), vec![file, status]);
    let now = chrono::Utc::now();
    for l in &listed {
        assert!((now - l.modified).num_seconds().abs() < 120, "{l:?}");
    }
    assert!(files.list("exports/f").await.unwrap().is_empty());

    // Deleting is idempotent; keys outside the layout are refused.
    files.delete(file).await.unwrap();
    files.delete(file).await.unwrap();
    assert!(files.open(file).await.unwrap().is_none());
    assert_eq!(keys(&files.list("exports/").await.unwrap()), vec![status]);
    for bad in ["../cspm.db", "/etc/passwd", "exports/../x"] {
        assert!(files.get_status(bad).await.is_err(), "{bad}");
        assert!(files.create(bad, "text/csv").await.is_err(), "{bad}");
        assert!(files.delete(bad).await.is_err(), "{bad}");
        assert!(files.create_once(bad).await.is_err(), "{bad}");
    }

    // A claim is made once, however many ask at the same moment; given back
    // (deleted), it can be made again.
    let claim = "exports/0123456789abcdef0123456789abcdef.claim";
    let tries = futures::future::join_all((0..8).map(|_| files.create_once(claim))).await;
    let made = tries.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(made, 1, "claims made at once");
    assert!(!files.create_once(claim).await.unwrap());
    assert_eq!(
        keys(&files.list("exports/").await.unwrap()),
        vec![claim, status]
    );
    files.delete(claim).await.unwrap();
    assert!(
        files.create_once(claim).await.unwrap(),
        "given back, made again"
    );
    files.delete(claim).await.unwrap();
}

#[tokio::test]
async fn local_export_files_meet_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let files = LocalExportFiles::new(dir.path());
    contract(&files, 300_000, 7_000).await;
    // The server serves local files itself: no presigned links.
    let link = files.link(
        "exports/0123456789abcdef0123456789abcdef.csv",
        "a.csv",
        "text/csv",
    );
    assert_eq!(link.await.unwrap(), None);
}

/// A fresh bucket in the emulator and the export files on it (SSE-KMS).
pub async fn s3_files(
    endpoint: &str,
    kms_key: &str,
) -> (S3ExportFiles, aws_sdk_s3::Client, String) {
    let client = S3Sink::client(&crate::aws_env::sdk_config(endpoint).await);
    let bucket: String = crate::aws_env::unique("cspm-exports")
        .to_lowercase()
        .chars()
        .take(63)
        .collect();
    let bucket = bucket.trim_end_matches('-').to_owned();
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    let location = format!("s3://{bucket}/archive").parse().unwrap();
    let sink = S3Sink::new(client.clone(), location, Some(kms_key.to_owned()));
    (S3ExportFiles::new(sink), client, bucket)
}

pub const KMS_KEY: &str =
    "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";

#[tokio::test]
async fn s3_export_files_meet_the_contract_in_one_put_and_in_parts_encrypted_with_the_archive_key()
{
    let Some(endpoint) = crate::aws_env::endpoint("s3_export_files_meet_the_contract") else {
        return;
    };
    let (files, client, bucket) = s3_files(&endpoint, KMS_KEY).await;
    contract(&files, 300_000, 7_000).await;
    let (files, client2, bucket2) = s3_files(&endpoint, KMS_KEY).await;
    // Two full parts and a short last one: a multipart upload.
    contract(&files, 2 * PART_SIZE + 123_456, 1024 * 1024).await;

    for (client, bucket) in [(client, bucket), (client2, bucket2)] {
        let key = "archive/exports/0123456789abcdef0123456789abcdef.json";
        let head = client
            .head_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            head.server_side_encryption(),
            Some(&aws_sdk_s3::types::ServerSideEncryption::AwsKms)
        );
        assert_eq!(head.ssekms_key_id(), Some(KMS_KEY));
        // No multipart upload is left open by the aborted one.
        let open = client
            .list_multipart_uploads()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        assert!(open.uploads().is_empty(), "{:?}", open.uploads());
    }
}

#[tokio::test]
async fn s3_links_download_the_file_under_its_name_without_credentials() {
    let Some(endpoint) = crate::aws_env::endpoint("s3_links_download_the_file") else {
        return;
    };
    let (files, client, bucket) = s3_files(&endpoint, KMS_KEY).await;
    let key = "exports/0123456789abcdef0123456789abcdef.csv";
    let body = Bytes::from_static(b"id,title\r\na,\"b, c\"\r\n");
    for size in [body.len(), PART_SIZE + 10] {
        let data: Vec<u8> = body.iter().copied().cycle().take(size).collect();
        let mut upload = files.create(key, "text/csv; charset=utf-8").await.unwrap();
        upload.write(Bytes::from(data.clone())).await.unwrap();
        upload.finish().await.unwrap();
        let head = client
            .head_object()
            .bucket(&bucket)
            .key(format!("archive/{key}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            head.content_type(),
            Some("text/csv; charset=utf-8"),
            "{size}"
        );
        assert_eq!(head.ssekms_key_id(), Some(KMS_KEY), "{size}");

        let link = files
            .link(
                key,
                "cspm-findings-20260101T000000Z.csv",
                "text/csv; charset=utf-8",
            )
            .await
            .unwrap()
            .expect("S3 makes links");
        assert!(link.starts_with(&endpoint), "{link}");
        assert!(
            link.contains(&format!("X-Amz-Expires={}", LINK_TTL.as_secs())),
            "{link}"
        );
        let resp = reqwest::get(&link).await.unwrap();
        assert_eq!(resp.status(), 200, "{link}");
        assert_eq!(
            resp.headers()["content-disposition"],
            "attachment; filename=\"cspm-findings-20260101T000000Z.csv\""
        );
        assert!(resp.bytes().await.unwrap() == data, "{size}");
    }
}
