//! `cspm remediate plan|apply` through the real binary against the emulator: a
//! bucket made public for real, its finding stored from a real corpus CloudTrail
//! event through the pipeline, planned (JSON), applied, read back, re-applied
//! (nothing left), resolved with the remediation in its audit trail; and every
//! guard tested here refusing with exit 2 while the bucket stays as it was.
//! The other actions (`ec2`, …) each have a module doing the same on their
//! resource.

use crate::aws_env::{endpoint, sdk_config, unique};
use crate::fault_proxy::{self, FaultProxy};
use crate::helpers::{corpus_dir, pipeline};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use cspm::store::{SqliteStore, Store};
use serde_json::{json, Value};
use shared_types::{WorkflowStatus, WorkflowUpdate};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

const CSPM: &str = env!("CARGO_BIN_EXE_cspm");
const RULE: &str = "aws.s3.bucket-policy-public";

/// A public bucket in the emulator and its stored finding.
struct Case {
    dir: tempfile::TempDir,
    endpoint: String,
    s3: aws_sdk_s3::Client,
    bucket: String,
    finding_id: String,
    store: Arc<SqliteStore>,
}

/// The four settings as read from S3, `None` when the bucket has no block.
async fn block(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<[bool; 4]> {
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => {
            let c = out
                .public_access_block_configuration()
                .expect("configuration");
            Some([
                c.block_public_acls().unwrap_or(false),
                c.ignore_public_acls().unwrap_or(false),
                c.block_public_policy().unwrap_or(false),
                c.restrict_public_buckets().unwrap_or(false),
            ])
        }
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => None,
        Err(e) => panic!("GetPublicAccessBlock: {e:?}"),
    }
}

/// Panther's real "S3 Made Publicly Accessible" PutBucketPolicy event
/// (Principal {"AWS": "*"}); only the bucket name (in `bucketName` and in the
/// policy's `Resource`) is changed, to this test's bucket. Its account,
/// 123456789012, is the emulator's default account.
fn public_policy_event(bucket: &str) -> Value {
    let path = corpus_dir().join(
        "rule-case/panther__AWS.CloudTrail.ResourceMadePublic_T_S3-Made-Publicly-Accessible.json",
    );
    let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut event = case["event"].clone();
    event["requestParameters"]["bucketName"] = json!(bucket);
    event["requestParameters"]["bucketPolicy"]["Statement"][0]["Resource"] =
        json!(format!("arn:aws:s3:::{bucket}"));
    event
}

/// A bucket made public for real in the emulator, and the event that did it.
struct PublicBucket {
    endpoint: String,
    s3: aws_sdk_s3::Client,
    bucket: String,
    event: Value,
}

/// Makes a bucket public for real (a new bucket's block, as AWS sets it, deleted;
/// the event's public policy put); `None` without the emulator.
async fn public_bucket(test: &str) -> Option<PublicBucket> {
    let endpoint = endpoint(test)?;
    let s3 = cspm::archive::S3Sink::client(&sdk_config(&endpoint).await);
    let bucket = unique("rem").to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let all_on = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(all_on)
        .send()
        .await
        .unwrap();
    s3.delete_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let event = public_policy_event(&bucket);
    let policy = event["requestParameters"]["bucketPolicy"].to_string();
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(policy)
        .send()
        .await
        .unwrap();
    assert_eq!(block(&s3, &bucket).await, None, "the bucket is public");
    Some(PublicBucket {
        endpoint,
        s3,
        bucket,
        event,
    })
}

/// A public bucket with the event's finding stored through the pipeline.
async fn public_bucket_with_finding(test: &str) -> Option<Case> {
    let PublicBucket {
        endpoint,
        s3,
        bucket,
        event,
    } = public_bucket(test).await?;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let p = pipeline(store.clone());
    let finding_id = {
        let ours: Vec<_> = p
            .normalize(&event)
            .findings
            .into_iter()
            .filter(|f| f.generator_id == RULE)
            .collect();
        assert_eq!(ours.len(), 1, "one {RULE} finding");
        ours[0].id.clone()
    };
    assert!(post_event(store.clone(), &event).await >= 1);
    Some(Case {
        dir,
        endpoint,
        s3,
        bucket,
        finding_id,
        store,
    })
}

/// [`public_bucket_with_finding`] with the remediation's calls going through a
/// fault proxy in front of the emulator (the case's own S3 client, which
/// builds and reads the bucket, goes straight to the emulator).
async fn public_bucket_behind_proxy(test: &str) -> Option<(Case, FaultProxy)> {
    let mut case = public_bucket_with_finding(test).await?;
    let proxy = fault_proxy::start(&case.endpoint).await;
    case.endpoint = proxy.endpoint.clone();
    Some((case, proxy))
}

/// Runs `cmd` off the async runtime, so a proxy served by this test's runtime
/// keeps answering while the binary waits for it.
async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run cspm"))
        .await
        .expect("the command's thread")
}

impl Case {
    /// A remediation file in the case's folder: `s3-block-public-access` enabled,
    /// plus `extra` lines.
    fn config(&self, extra: &str) -> PathBuf {
        let path = self.dir.path().join("remediation.yaml");
        std::fs::write(&path, format!("enabled: [s3-block-public-access]\n{extra}")).unwrap();
        path
    }

    /// `cspm remediate <what> FINDING_ID [more]` on this case's store and emulator.
    fn cspm(&self, what: &str, config: Option<&Path>, more: &[&str]) -> Output {
        self.command(what, &self.finding_id, config, more)
            .output()
            .expect("run cspm remediate")
    }

    /// The command `cspm` runs on the case's data dir and emulator.
    fn command(&self, what: &str, id: &str, config: Option<&Path>, more: &[&str]) -> Command {
        remediate_command(self.dir.path(), &self.endpoint, what, id, config, more)
    }

    async fn status(&self) -> WorkflowStatus {
        let f = self
            .store
            .get(&self.finding_id)
            .await
            .unwrap()
            .expect("stored");
        f.finding.workflow_status
    }

    /// Applies, expecting a guard's refusal: exit 2, the guard on stderr, the
    /// bucket still without a block and the finding's status unchanged.
    async fn assert_refused(&self, config: Option<&Path>, guard: &str) {
        let before = self.status().await;
        let out = self.cspm("apply", config, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("refused by {guard}:")), "{err}");
        assert_eq!(
            block(&self.s3, &self.bucket).await,
            None,
            "nothing was changed"
        );
        assert_eq!(self.status().await, before);
        assert!(
            !self.dir.path().join("remediations.jsonl").exists(),
            "no attempt was recorded"
        );
    }
}

/// `cspm remediate <what> ID [more]` on the store in `data_dir` and the emulator
/// at `endpoint`, without any `CSPM_*` setting of the environment running the tests.
fn remediate_command(
    data_dir: &Path,
    endpoint: &str,
    what: &str,
    id: &str,
    config: Option<&Path>,
    more: &[&str],
) -> Command {
    let mut cmd = Command::new(CSPM);
    cmd.args(["remediate", what, id])
        .args(more)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--aws-endpoint", endpoint, "--aws-region", "us-east-1"])
        .env_remove("CSPM_DATA_DIR")
        .env_remove("CSPM_STORE")
        .env_remove("CSPM_REMEDIATION")
        .env_remove("CSPM_AWS_ENDPOINT");
    if let Some(c) = config {
        cmd.arg("--remediation").arg(c);
    }
    cmd
}

/// The lines of the remediation ledger in `data_dir` (none before the first attempt).
fn ledger_lines(data_dir: &Path) -> Vec<Value> {
    match std::fs::read_to_string(data_dir.join("remediations.jsonl")) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("ledger: {e}"),
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The API: plan, approve, the worker, the records, roles, a restart.
mod api;
/// Plan, apply, verify and re-apply, and the failures that exit 3 or 1.
mod apply;
/// `ec2-revoke-world-ingress` on a security group opened to the world.
mod ec2;
/// AWS failing under `cspm remediate apply` (exit 3, the finding open).
mod faults_cli;
/// AWS failing under the worker: retried or failed with the reason.
mod faults_worker;
/// Each guard refusing with exit 2 while the bucket stays as it was.
mod guards;
/// The IAM policy actions: admin policies, inline policies.
mod iam;
/// `iam-deactivate-access-key`: users' keys, a root key, protected users.
mod iam_keys;
/// `lambda-remove-public-access` on a function anyone can invoke.
mod lambda;
/// `cloudtrail-start-logging` and `kms-cancel-key-deletion`.
mod logging_and_keys;
/// A finding in another account, fixed as the role assumed there.
mod member_account;
/// The `api` and `remediator` Lambdas over DynamoDB and SQS.
mod on_aws;
/// `cspm serve --remediation`: automatic remediation through the real server.
mod serve;
/// A finding stored from a corpus event, and `cspm` run on it.
mod stored;
/// What the record keeps to reverse a change, and that it does reverse it.
mod undo;

/// Posts `event` to `POST /events` of a router over `store`, as a CloudTrail
/// shipper would, and returns how many findings it stored.
pub(super) async fn post_event(store: Arc<SqliteStore>, event: &Value) -> usize {
    use cspm::http::{router, AppState, HttpConfig};
    let app = router(AppState::new(pipeline(store), HttpConfig::default()));
    let body = serde_json::to_vec(event).unwrap();
    let (status, answer) = crate::events::post(&app, "application/json", body).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{answer}");
    crate::events::outcome(answer).stored
}
