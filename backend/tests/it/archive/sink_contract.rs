//! The one behaviour every `ArchiveSink` must have, run on a local folder and on S3.

use super::support::{s3_client, s3_endpoint, s3_sink, s3_sink_with};
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::types::ServerSideEncryption;
use bytes::Bytes;
use cspm::archive::s3::S3Location;
use cspm::archive::{ArchiveSink, LocalDirSink, ObjectKind, S3Sink};

async fn sink_contract(sink: &dyn ArchiveSink) {
    let part = "findings/dt=2026-08-01/part-20261121T030000Z-0000abcd-1.jsonl.gz";
    let other_day = "findings/dt=2026-08-02/part-20261121T030000Z-0000abcd-2.jsonl.gz";
    let manifest = "manifests/run-20261121T030000Z-0000abcd.json";

    assert_eq!(
        sink.get(part).await.unwrap(),
        None,
        "missing object must be None"
    );
    assert!(sink.list("findings/").await.unwrap().is_empty());

    // Binary bodies come back byte for byte (gzip must not be re-encoded on the way).
    let body: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    sink.put(part, Bytes::from(body.clone()), ObjectKind::Part)
        .await
        .unwrap();
    sink.put(other_day, Bytes::from_static(b"\x1f\x8b"), ObjectKind::Part)
        .await
        .unwrap();
    sink.put(
        manifest,
        Bytes::from_static(b"{\"v\":1}"),
        ObjectKind::Manifest,
    )
    .await
    .unwrap();
    assert_eq!(sink.get(part).await.unwrap().as_deref(), Some(&body[..]));

    // A put replaces the object.
    sink.put(
        manifest,
        Bytes::from_static(b"{\"v\":2}"),
        ObjectKind::Manifest,
    )
    .await
    .unwrap();
    assert_eq!(
        sink.get(manifest).await.unwrap().as_deref(),
        Some(&b"{\"v\":2}"[..])
    );

    // Listing is by prefix, sorted, with keys relative to the archive root.
    assert_eq!(
        sink.list("findings/").await.unwrap(),
        vec![part.to_owned(), other_day.to_owned()]
    );
    assert_eq!(
        sink.list("findings/dt=2026-08-02/").await.unwrap(),
        vec![other_day.to_owned()]
    );
    assert_eq!(
        sink.list("manifests/").await.unwrap(),
        vec![manifest.to_owned()]
    );
    assert_eq!(sink.list("").await.unwrap().len(), 3);

    // Keys that could escape the root are refused before any I/O.
    for bad in ["../outside", "/abs", "findings/../../x"] {
        assert!(
            sink.put(bad, Bytes::new(), ObjectKind::Part).await.is_err(),
            "{bad}"
        );
        assert!(sink.get(bad).await.is_err(), "{bad}");
    }
}

#[tokio::test]
async fn local_dir_sink_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let sink = LocalDirSink::new(dir.path().join("archive"));
    sink_contract(&sink).await;
    // Atomic puts leave no temporary file behind.
    let leftovers = walk(dir.path());
    assert!(
        leftovers.iter().all(|p| !p.contains(".tmp-")),
        "{leftovers:?}"
    );
}

#[tokio::test]
async fn s3_sink_meets_the_contract_and_encrypts_with_a_content_type() {
    let Some(endpoint) = s3_endpoint("s3_sink_meets_the_contract") else {
        return;
    };
    let sink = s3_sink(&endpoint, "cspm/archive").await;
    sink_contract(sink.as_ref()).await;

    // Check what S3 itself recorded: content type and encryption.
    let part = head(
        &endpoint,
        sink.as_ref(),
        "findings/dt=2026-08-01/part-20261121T030000Z-0000abcd-1.jsonl.gz",
    )
    .await;
    assert_eq!(part.content_type(), Some("application/gzip"));
    assert_eq!(
        part.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256),
        "object not encrypted"
    );
    let manifest = head(
        &endpoint,
        sink.as_ref(),
        "manifests/run-20261121T030000Z-0000abcd.json",
    )
    .await;
    assert_eq!(manifest.content_type(), Some("application/json"));
}

#[tokio::test]
async fn s3_errors_name_the_operation_and_the_object() {
    let Some(endpoint) = s3_endpoint("s3_errors_name_the_operation_and_the_object") else {
        return;
    };
    let location: S3Location = "s3://no-such-bucket-for-cspm/archive".parse().unwrap();
    let sink = S3Sink::new(s3_client(&endpoint).await, location, None);
    let key = "manifests/run-20261121T030000Z-0000abcd.json";
    let err = sink
        .put(key, Bytes::from_static(b"{}"), ObjectKind::Manifest)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "S3 PutObject s3://no-such-bucket-for-cspm/archive/{key}: "
        )) && text.contains("NoSuchBucket"),
        "{text}"
    );
    assert!(
        !err.is_retryable(),
        "a missing bucket is no passing trouble: {text}"
    );
    let err = sink.list("manifests/").await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("S3 ListObjectsV2 s3://no-such-bucket-for-cspm/archive/manifests/: "),
        "{err}"
    );
}

/// S3's own metadata of `key` under the sink's location.
async fn head(endpoint: &str, sink: &dyn ArchiveSink, key: &str) -> HeadObjectOutput {
    let loc = sink.location();
    let (bucket, prefix) = loc
        .trim_start_matches("s3://")
        .split_once('/')
        .expect("test sinks have a prefix");
    super::support::s3_client(endpoint)
        .await
        .head_object()
        .bucket(bucket)
        .key(format!("{prefix}/{key}"))
        .send()
        .await
        .expect("head object")
}

#[tokio::test]
async fn s3_sink_with_a_kms_key_writes_sse_kms_objects() {
    let Some(endpoint) = s3_endpoint("s3_sink_with_a_kms_key_writes_sse_kms_objects") else {
        return;
    };
    let key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    let sink = s3_sink_with(&endpoint, "kms", Some(key_arn.to_owned())).await;
    let part = "findings/dt=2026-08-01/part-20261121T030000Z-0000abcd-1.jsonl.gz";
    sink.put(part, Bytes::from_static(b"\x1f\x8b"), ObjectKind::Part)
        .await
        .unwrap();
    let head = head(&endpoint, sink.as_ref(), part).await;
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(head.ssekms_key_id(), Some(key_arn));
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}
