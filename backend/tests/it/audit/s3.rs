//! The audit journal on AWS, against the emulator: objects in a bucket with Object
//! Lock (governance) and the chain head in the state table. Two writers racing
//! (two `fanout` invocations) still produce one unbroken chain with every record
//! once; a writer that dies between claiming its range and writing the object is
//! finished by the next; `cspm audit verify --from s3://…` holds, then names an
//! overwritten line and a deleted object.

use super::support::cspm_audit;
use crate::aws_env::{endpoint, fanout_state_table, sdk_config, unique};
use crate::helpers::anchor;
use aws_sdk_s3::types::{
    DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
    ObjectLockRule,
};
use cspm::sinks::audit::record::{AuditEvent, AuditRecord};
use cspm::sinks::audit::s3::S3Journal;
use std::collections::BTreeSet;

/// A bucket and a state table on the emulator.
pub struct Rig {
    ep: String,
    s3: aws_sdk_s3::Client,
    ddb: aws_sdk_dynamodb::Client,
    /// The Object Lock bucket.
    pub bucket: String,
    /// The state table (chain head).
    pub table: String,
}

/// A bucket with Object Lock on (governance, one day) and a state table, as
/// Terraform creates them.
pub async fn rig(ep: &str) -> Rig {
    let sdk = sdk_config(ep).await;
    let s3 = cspm::archive::S3Sink::client(&sdk);
    let ddb = cspm::aws::dynamodb_client(&sdk);
    let bucket: String = unique("audit").to_lowercase().chars().take(60).collect();
    let bucket = bucket.trim_end_matches('-').to_string();
    s3.create_bucket()
        .bucket(&bucket)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    s3.put_object_lock_configuration()
        .bucket(&bucket)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Governance)
                                .days(1)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let table = fanout_state_table(&ddb).await;
    Rig {
        ep: ep.to_string(),
        s3,
        ddb,
        bucket,
        table,
    }
}

impl Rig {
    fn journal(&self, s3: aws_sdk_s3::Client) -> S3Journal {
        let loc = format!("s3://{}/audit", self.bucket).parse().unwrap();
        S3Journal::new(s3, loc, None, self.ddb.clone(), self.table.clone())
    }

    /// `cspm audit verify` of the bucket's `audit/` prefix.
    pub fn verify(&self) -> (i32, String) {
        let from = format!("s3://{}/audit", self.bucket);
        cspm_audit(&["verify", "--from", &from, "--aws-endpoint", &self.ep])
    }

    /// An object's text (its newest version).
    async fn get(&self, key: &str) -> String {
        let out = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        String::from_utf8(out.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
    }

    /// Writes a new version of an object (what someone with write access could do).
    async fn put(&self, key: &str, text: String) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
            .body(text.into_bytes().into())
            .send()
            .await
            .unwrap();
    }

    /// Every line of the log, parsed, in key order: the chain's order, since a
    /// key is the day then the first `seq` zero-padded, and both grow along it.
    pub async fn lines(&self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        for key in self.keys().await {
            for line in self.get(&key).await.lines() {
                out.push(serde_json::from_str(line).unwrap());
            }
        }
        out
    }

    async fn keys(&self) -> Vec<String> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix("audit/")
            .send()
            .await
            .unwrap();
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        keys.sort();
        keys
    }
}

fn records(writer: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut r = AuditRecord::new(AuditEvent::AlertSent, anchor());
            r.finding_id = Some(format!("{writer}-{i}"));
            r.to_json()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn racing_writers_make_one_chain_in_an_object_lock_bucket_and_verify_names_tampering() {
    let Some(ep) = endpoint("audit_s3_racing_writers") else {
        return;
    };
    let r = rig(&ep).await;
    let (a, b) = (r.journal(r.s3.clone()), r.journal(r.s3.clone()));
    let run = |j: S3Journal, name: &'static str| async move {
        for batch in 0..8 {
            j.append(&records(&format!("{name}{batch}"), 5))
                .await
                .unwrap();
        }
    };
    tokio::join!(run(a, "a"), run(b, "b"));
    let (code, out) = r.verify();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("80 lines in 16 objects, seq 1-80: the chain holds"),
        "{out}"
    );
    // Every record exactly once.
    let mut ids = BTreeSet::new();
    for key in r.keys().await {
        for line in r.get(&key).await.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(
                ids.insert(v["finding_id"].as_str().unwrap().to_string()),
                "{line}"
            );
        }
    }
    assert_eq!(ids.len(), 80);
    // Objects are locked in governance mode.
    let keys = r.keys().await;
    let head =
        r.s3.head_object()
            .bucket(&r.bucket)
            .key(&keys[3])
            .send()
            .await
            .unwrap();
    assert_eq!(
        head.object_lock_mode(),
        Some(&aws_sdk_s3::types::ObjectLockMode::Governance)
    );

    // An overwrite (a new version; the locked original stays) is named by line.
    let text = r.get(&keys[3]).await;
    let edited = text
        .replacen("\"alert_sent\"", "\"alert_sEnt\"", 2)
        .replacen("\"alert_sEnt\"", "\"alert_sent\"", 1);
    r.put(&keys[3], edited).await;
    let (code, out) = r.verify();
    assert_eq!(code, 1, "{out}");
    let rel = keys[3].strip_prefix("audit/").unwrap();
    assert!(out.contains(&format!("{rel} line 2:")), "{out}");

    // A deleted object (a delete marker) is named as a gap.
    r.put(&keys[3], text).await;
    assert_eq!(r.verify().0, 0);
    r.s3.delete_object()
        .bucket(&r.bucket)
        .key(&keys[5])
        .send()
        .await
        .unwrap();
    let (code, out) = r.verify();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("gap between") && out.contains("lines seq 26-30 are missing"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writer_that_dies_after_claiming_its_range_is_finished_by_the_next() {
    let Some(ep) = endpoint("audit_s3_dead_writer") else {
        return;
    };
    let r = rig(&ep).await;
    r.journal(r.s3.clone())
        .append(&records("first", 3))
        .await
        .unwrap();
    // S3 unreachable for this writer: the head moves (the range is claimed), the
    // object is never written.
    let dead_s3 = cspm::archive::S3Sink::client(&sdk_config("http://127.0.0.1:9").await);
    let err = r
        .journal(dead_s3)
        .append(&records("lost", 4))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(r.keys().await.len(), 1);
    // The next writer writes the claimed object first, then its own.
    r.journal(r.s3.clone())
        .append(&records("next", 2))
        .await
        .unwrap();
    assert_eq!(r.keys().await.len(), 3);
    let (code, out) = r.verify();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("9 lines in 3 objects, seq 1-9"), "{out}");
}
