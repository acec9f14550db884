//! `cspm remediate plan|apply` through the real binary against the emulator: a
//! bucket made public for real, its finding stored from a real corpus CloudTrail
//! event through the pipeline, planned (JSON), applied, read back, re-applied
//! (nothing left), resolved with the remediation in its audit trail; and every
//! guard tested here refusing with exit 2 while the bucket stays as it was.

use crate::aws_env::{endpoint, sdk_config, unique};
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

/// Makes a bucket public for real (a new bucket's block, as AWS sets it, deleted;
/// the event's public policy put) and stores the event's finding through the pipeline.
async fn public_bucket_with_finding(test: &str) -> Option<Case> {
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
    let outcome = p.run_document("corpus", &event).await.unwrap();
    assert!(outcome.stored >= 1, "{outcome:?}");
    Some(Case {
        dir,
        endpoint,
        s3,
        bucket,
        finding_id,
        store,
    })
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

    /// The command `cspm` runs: the case's data dir and emulator, and no
    /// `CSPM_*` setting of the environment that runs the tests.
    fn command(&self, what: &str, id: &str, config: Option<&Path>, more: &[&str]) -> Command {
        let mut cmd = Command::new(CSPM);
        cmd.args(["remediate", what, id])
            .args(more)
            .arg("--data-dir")
            .arg(self.dir.path())
            .args([
                "--aws-endpoint",
                &self.endpoint,
                "--aws-region",
                "us-east-1",
            ])
            .env_remove("CSPM_DATA_DIR")
            .env_remove("CSPM_STORE")
            .env_remove("CSPM_REMEDIATION")
            .env_remove("CSPM_AWS_ENDPOINT");
        if let Some(c) = config {
            cmd.arg("--remediation").arg(c);
        }
        cmd
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

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn a_public_bucket_is_planned_applied_verified_and_its_finding_resolved() {
    let Some(case) = public_bucket_with_finding("remediate_s3_end_to_end").await else {
        return;
    };
    let config = case.config("");

    let planned = case.cspm("plan", Some(&config), &["--json"]);
    assert!(
        planned.status.success(),
        "{}",
        String::from_utf8_lossy(&planned.stderr)
    );
    let plan: Value = serde_json::from_str(&stdout(&planned)).unwrap();
    let mut keys: Vec<&String> = plan.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "action",
            "after",
            "applicable",
            "calls",
            "current_state",
            "finding_id",
            "guards"
        ]
    );
    assert_eq!(plan["finding_id"], json!(case.finding_id));
    assert_eq!(plan["action"], "s3-block-public-access");
    assert_eq!(plan["applicable"], true);
    assert_eq!(
        plan["calls"],
        json!([{"service": "s3", "operation": "PutPublicAccessBlock", "params": {
            "Bucket": case.bucket,
            // The event's account: S3 refuses the call if the bucket is another's.
            "ExpectedBucketOwner": "123456789012",
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
                "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}}])
    );
    let hash = plan["current_state"]["state_hash"]
        .as_str()
        .expect("a state hash")
        .to_string();
    assert_eq!(hash.len(), 64, "{hash}");
    assert_eq!(
        plan["current_state"],
        json!({"bucket": case.bucket, "public_access_block": null, "state_hash": hash})
    );
    let guards: Vec<(&str, bool)> = plan["guards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        guards,
        [
            ("not-enabled", true),
            ("not-allowlisted", true),
            ("protected-principal", true),
            ("protected-tag", true),
            ("out-of-scope", true),
            ("rate-limited", true),
            ("changed-since-plan", true),
            ("suppressed-or-resolved", true),
        ]
    );
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        None,
        "plan changes nothing"
    );

    let applied = case.cspm("apply", Some(&config), &["--expect-state", &hash]);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert!(
        stdout(&applied).contains("applied and verified"),
        "{}",
        stdout(&applied)
    );
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));

    let detail = case.store.get(&case.finding_id).await.unwrap().unwrap();
    assert_eq!(detail.finding.workflow_status, WorkflowStatus::Resolved);
    let last = detail.audit.last().expect("an audit entry");
    assert_eq!(last.actor, "remediation:s3-block-public-access");
    assert_eq!(last.to_status, WorkflowStatus::Resolved);
    let note = last.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("s3-block-public-access") && note.contains(&case.bucket),
        "{note}"
    );

    let ledger = std::fs::read_to_string(case.dir.path().join("remediations.jsonl")).unwrap();
    let steps: Vec<Value> = ledger
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcomes: Vec<&str> = steps
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["started", "verified"], "{ledger}");

    // Applying again to the RESOLVED finding: refused before anything is read.
    let again = case.cspm("apply", Some(&config), &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refused by suppressed-or-resolved"));

    // Reopened (say by a person who doubted it): the bucket is already fixed, so
    // no call is made and the finding is resolved again, saying so.
    let reopen = WorkflowUpdate {
        workflow_status: WorkflowStatus::New,
        note: Some("checking again".into()),
    };
    pipeline(case.store.clone())
        .set_workflow(&case.finding_id, &reopen, "alice", chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    let again = case.cspm("apply", Some(&config), &[]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        stdout(&again).starts_with("nothing left to do"),
        "{}",
        stdout(&again)
    );
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));
    let ledger = std::fs::read_to_string(case.dir.path().join("remediations.jsonl")).unwrap();
    assert_eq!(ledger.lines().count(), 2, "no second attempt: {ledger}");
    let detail = case.store.get(&case.finding_id).await.unwrap().unwrap();
    assert_eq!(detail.finding.workflow_status, WorkflowStatus::Resolved);
    let note = detail
        .audit
        .last()
        .unwrap()
        .note
        .clone()
        .unwrap_or_default();
    assert!(note.starts_with("Already fixed"), "{note}");
    let replanned: Value =
        serde_json::from_str(&stdout(&case.cspm("plan", Some(&config), &["--json"]))).unwrap();
    assert_eq!(replanned["calls"], json!([]));
    assert_eq!(
        replanned["current_state"]["public_access_block"],
        json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
               "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
    );
}

#[tokio::test]
async fn a_zero_rate_limit_is_refused_as_rate_limited() {
    let Some(case) = public_bucket_with_finding("remediate_rate_limited").await else {
        return;
    };
    let config = case.config("max_per_account_per_hour: 0\n");
    case.assert_refused(Some(&config), "rate-limited").await;
}

#[tokio::test]
async fn a_bucket_changed_since_the_plan_is_refused_unchanged() {
    let Some(case) = public_bucket_with_finding("remediate_changed_since_plan").await else {
        return;
    };
    let config = case.config("");
    let plan: Value =
        serde_json::from_str(&stdout(&case.cspm("plan", Some(&config), &["--json"]))).unwrap();
    let hash = plan["current_state"]["state_hash"]
        .as_str()
        .unwrap()
        .to_string();
    // Someone turns one setting on after the plan was approved.
    let one_on = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .build();
    case.s3
        .put_public_access_block()
        .bucket(&case.bucket)
        .public_access_block_configuration(one_on)
        .send()
        .await
        .unwrap();
    let out = case.cspm("apply", Some(&config), &["--expect-state", &hash]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused by changed-since-plan:"), "{err}");
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        Some([true, false, false, false]),
        "left as the person left it"
    );
    assert_eq!(case.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn without_a_remediation_file_apply_is_refused_as_not_enabled() {
    let Some(case) = public_bucket_with_finding("remediate_not_enabled").await else {
        return;
    };
    case.assert_refused(None, "not-enabled").await;
    // The plan is still shown, saying why it would not run.
    let plan: Value = serde_json::from_str(&stdout(&case.cspm("plan", None, &["--json"]))).unwrap();
    assert_eq!(plan["guards"][0]["name"], "not-enabled");
    assert_eq!(plan["guards"][0]["passed"], false);
}

#[tokio::test]
async fn a_bucket_tagged_cspm_remediate_false_is_refused() {
    let Some(case) = public_bucket_with_finding("remediate_protected_tag").await else {
        return;
    };
    let tag = aws_sdk_s3::types::Tag::builder()
        .key("cspm:remediate")
        .value("false")
        .build()
        .unwrap();
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(tag)
        .build()
        .unwrap();
    case.s3
        .put_bucket_tagging()
        .bucket(&case.bucket)
        .tagging(tagging)
        .send()
        .await
        .unwrap();
    case.assert_refused(Some(&case.config("")), "protected-tag")
        .await;
}

#[tokio::test]
async fn a_finding_in_an_account_out_of_scope_is_refused() {
    let Some(case) = public_bucket_with_finding("remediate_out_of_scope").await else {
        return;
    };
    // The event's account is 123456789012.
    let config = case.config("accounts: [\"111122223333\"]\n");
    case.assert_refused(Some(&config), "out-of-scope").await;
}

#[tokio::test]
async fn a_suppressed_finding_is_refused() {
    let Some(case) = public_bucket_with_finding("remediate_suppressed").await else {
        return;
    };
    let update = WorkflowUpdate {
        workflow_status: WorkflowStatus::Suppressed,
        note: Some("public on purpose: a static website".into()),
    };
    pipeline(case.store.clone())
        .set_workflow(&case.finding_id, &update, "alice", chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    case.assert_refused(Some(&case.config("")), "suppressed-or-resolved")
        .await;
}

#[tokio::test]
async fn a_bucket_gone_since_the_finding_fails_with_exit_3_and_the_finding_stays_open() {
    let Some(case) = public_bucket_with_finding("remediate_bucket_gone").await else {
        return;
    };
    case.s3
        .delete_bucket_policy()
        .bucket(&case.bucket)
        .send()
        .await
        .unwrap();
    case.s3
        .delete_bucket()
        .bucket(&case.bucket)
        .send()
        .await
        .unwrap();
    let out = case.cspm("apply", Some(&case.config("")), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("NoSuchBucket") && err.contains("stays open"),
        "{err}"
    );
    assert_eq!(case.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn an_unknown_finding_or_a_bad_file_exits_1() {
    let Some(case) = public_bucket_with_finding("remediate_exit_1").await else {
        return;
    };
    let bad = case.config("enabeld: [s3-block-public-access]\n");
    let out = case.cspm("apply", Some(&bad), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("enabeld"), "{err}");

    let out = case
        .command("apply", "no-such-id", None, &[])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no finding"));
    assert_eq!(block(&case.s3, &case.bucket).await, None);
}
