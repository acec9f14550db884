//! AWS failing under `cspm remediate apply`, through a fault proxy answering
//! with the service's own errors (S3 `SlowDown` 503 and `AccessDenied` 403,
//! EC2 `RequestLimitExceeded` 503): throttled once, the SDK's retry passes and
//! the apply exits 0; throttled every time or denied, it exits 3 naming the
//! error, the resource unchanged and the finding open; a read-back denied
//! exits 3 "not verified" though the change was made.

use super::ec2::{open_group_with_finding, rules, world_ssh};
use super::*;
use crate::fault_proxy::Fault;

/// The SDK's standard retry mode: attempts per call before it gives up.
const SDK_ATTEMPTS: u32 = 3;

fn outcomes(dir: &Path) -> Vec<String> {
    ledger_lines(dir)
        .iter()
        .map(|l| l["outcome"].as_str().unwrap().to_string())
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn a_bucket_put_throttled_every_time_exits_3_open_and_once_is_retried_to_exit_0() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_cli_throttle").await else {
        return;
    };
    let config = case.config("");
    proxy.inject("PutPublicAccessBlock", Fault::Throttle, u32::MAX);
    let out = output(case.command("apply", &case.finding_id, Some(&config), &[])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    for says in [
        "PutPublicAccessBlock",
        "SlowDown",
        "may pass if tried again later",
        "stays open",
    ] {
        assert!(err.contains(says), "{says:?} not in {err}");
    }
    assert_eq!(proxy.injected("PutPublicAccessBlock"), SDK_ATTEMPTS);
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        None,
        "the bucket unchanged"
    );
    assert_eq!(case.status().await, WorkflowStatus::New);
    assert_eq!(outcomes(case.dir.path()), ["started", "failed"]);

    proxy.inject("PutPublicAccessBlock", Fault::Throttle, 1);
    let out = output(case.command("apply", &case.finding_id, Some(&config), &[])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(proxy.injected("PutPublicAccessBlock"), SDK_ATTEMPTS + 1);
    assert_eq!(proxy.forwarded("PutPublicAccessBlock"), 1);
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));
    assert_eq!(case.status().await, WorkflowStatus::Resolved);
    assert_eq!(
        outcomes(case.dir.path()),
        ["started", "failed", "started", "verified"]
    );
}

#[tokio::test]
async fn a_bucket_put_denied_exits_3_at_once_naming_access_denied() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_cli_denied").await else {
        return;
    };
    proxy.inject("PutPublicAccessBlock", Fault::Deny, u32::MAX);
    let out = output(case.command("apply", &case.finding_id, Some(&case.config("")), &[])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("AccessDenied") && err.contains("stays open"),
        "{err}"
    );
    assert!(
        !err.contains("may pass"),
        "access denied will not pass: {err}"
    );
    assert_eq!(proxy.injected("PutPublicAccessBlock"), 1, "not retried");
    assert_eq!(block(&case.s3, &case.bucket).await, None);
    assert_eq!(case.status().await, WorkflowStatus::New);
    assert_eq!(outcomes(case.dir.path()), ["started", "failed"]);
}

#[tokio::test]
async fn a_read_back_denied_exits_3_not_verified_and_the_finding_stays_open() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_cli_readback").await else {
        return;
    };
    proxy.inject_after("GetPublicAccessBlock", 1, Fault::Deny, u32::MAX);
    let out = output(case.command("apply", &case.finding_id, Some(&case.config("")), &[])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("not verified") && err.contains("AccessDenied"),
        "{err}"
    );
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]), "made");
    assert_eq!(
        case.status().await,
        WorkflowStatus::New,
        "but not reported done"
    );
    assert_eq!(outcomes(case.dir.path()), ["started", "failed"]);
}

#[tokio::test]
async fn a_revoke_throttled_every_time_exits_3_with_the_group_unchanged_and_once_exits_0() {
    let Some(mut group) = open_group_with_finding("remediate_cli_ec2_throttle").await else {
        return;
    };
    let proxy = fault_proxy::start(&group.endpoint).await;
    group.endpoint = proxy.endpoint.clone();
    let before = rules(&group.ec2, &group.group).await;
    assert_eq!(world_ssh(&before).len(), 2, "{before:?}");
    let config = group.config("");

    proxy.inject("RevokeSecurityGroupIngress", Fault::Throttle, u32::MAX);
    let out = output(group.command("apply", Some(&config), &[])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("RequestLimitExceeded") && err.contains("stays open"),
        "{err}"
    );
    assert_eq!(proxy.injected("RevokeSecurityGroupIngress"), SDK_ATTEMPTS);
    assert_eq!(rules(&group.ec2, &group.group).await, before, "unchanged");
    assert_eq!(group.status().await, WorkflowStatus::New);
    assert_eq!(outcomes(group.dir.path()), ["started", "failed"]);

    proxy.inject("RevokeSecurityGroupIngress", Fault::Throttle, 1);
    let out = output(group.command("apply", Some(&config), &[])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = rules(&group.ec2, &group.group).await;
    assert_eq!(world_ssh(&after), Vec::<String>::new());
    assert_eq!(
        after.len(),
        before.len() - 2,
        "only the two world-open SSH rules went"
    );
    assert_eq!(group.status().await, WorkflowStatus::Resolved);
}
