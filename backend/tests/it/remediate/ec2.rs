//! `ec2-revoke-world-ingress` through the binary against the emulator: a security
//! group with SSH open to the world (IPv4 and IPv6, made by replaying a real
//! AuthorizeSecurityGroupIngress event), HTTPS open to the world and SSH from a
//! private range; planned, applied, read back (only the two world-open SSH rules
//! gone, by id), re-applied (no call). The refusals are in [`refusals`].

use super::*;
use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, Tag};

const RULE: &str = "aws.ec2.security-group-open-to-world";

/// A group in the emulator and the stored finding of the event that opened it.
pub(super) struct Group {
    pub(super) dir: tempfile::TempDir,
    pub(super) endpoint: String,
    pub(super) ec2: aws_sdk_ec2::Client,
    pub(super) group: String,
    pub(super) finding_id: String,
    pub(super) store: Arc<SqliteStore>,
}

/// One rule as read back: (rule id, protocol, from, to, source, egress).
pub(super) type RuleRow = (String, String, i32, i32, String, bool);

/// Every rule of `group`, sorted.
pub(super) async fn rules(ec2: &aws_sdk_ec2::Client, group: &str) -> Vec<RuleRow> {
    let filter = aws_sdk_ec2::types::Filter::builder()
        .name("group-id")
        .values(group)
        .build();
    let out = ec2
        .describe_security_group_rules()
        .filters(filter)
        .send()
        .await
        .unwrap();
    let mut rows: Vec<RuleRow> = out
        .security_group_rules()
        .iter()
        .map(|r| {
            let source = r.cidr_ipv4().or(r.cidr_ipv6()).unwrap_or("?").to_string();
            (
                r.security_group_rule_id().unwrap().to_string(),
                r.ip_protocol().unwrap().to_string(),
                r.from_port().unwrap_or(-1),
                r.to_port().unwrap_or(-1),
                source,
                r.is_egress().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The rows without their ids, to compare what is open, not which id it has.
fn shapes(rows: &[RuleRow]) -> Vec<(String, i32, i32, String, bool)> {
    let mut s: Vec<_> = rows
        .iter()
        .map(|(_, p, f, t, src, e)| (p.clone(), *f, *t, src.clone(), *e))
        .collect();
    s.sort();
    s
}

/// The real reflex AuthorizeSecurityGroupIngress event (EventBridge envelope) that
/// opens a port to 0.0.0.0/0 and ::/0. Changed where needed: the group id (to
/// this test's group), the account 000000000000 (to `account`, the group's: the
/// emulator's 123456789012 unless a role in another account made it, in the
/// envelope and the identity) and the port 55 (to 22, the case of SSH
/// open to the world).
fn open_ssh_event(group: &str, account: &str) -> Value {
    let path = corpus_dir()
        .join("cloudtrail/reflex__AuthorizeSecurityGroupIngress_open_world_eventbridge.json");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("000000000000", account);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    let params = &mut event["detail"]["requestParameters"];
    params["groupId"] = json!(group);
    for item in params["ipPermissions"]["items"].as_array_mut().unwrap() {
        assert_eq!(item["fromPort"], 55, "the corpus event is as expected");
        item["fromPort"] = json!(22);
        item["toPort"] = json!(22);
    }
    event
}

/// The event's `ipPermissions` as the SDK's request (what the console sent).
fn permissions_of(event: &Value) -> Vec<IpPermission> {
    let items = event["detail"]["requestParameters"]["ipPermissions"]["items"]
        .as_array()
        .unwrap();
    items
        .iter()
        .map(|i| {
            let v4 = i["ipRanges"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let v6 = i["ipv6Ranges"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            IpPermission::builder()
                .ip_protocol(i["ipProtocol"].as_str().unwrap())
                .from_port(i["fromPort"].as_i64().unwrap() as i32)
                .to_port(i["toPort"].as_i64().unwrap() as i32)
                .set_ip_ranges(Some(
                    v4.iter()
                        .map(|r| {
                            IpRange::builder()
                                .cidr_ip(r["cidrIp"].as_str().unwrap())
                                .build()
                        })
                        .collect(),
                ))
                .set_ipv6_ranges(Some(
                    v6.iter()
                        .map(|r| {
                            Ipv6Range::builder()
                                .cidr_ipv6(r["cidrIpv6"].as_str().unwrap())
                                .build()
                        })
                        .collect(),
                ))
                .build()
        })
        .collect()
}

fn tcp_from(port: i32, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

/// Builds the group for real (HTTPS from anywhere and SSH from 10.0.0.0/8 first,
/// then the event's SSH from anywhere) and stores the event's finding.
pub(super) async fn open_group_with_finding(test: &str) -> Option<Group> {
    let endpoint = endpoint(test)?;
    let sdk = sdk_config(&endpoint).await;
    Some(open_group_as(endpoint, &sdk, "123456789012").await)
}

/// [`open_group_with_finding`] made with `sdk`'s credentials, in `account`.
pub(super) async fn open_group_as(
    endpoint: String,
    sdk: &aws_config::SdkConfig,
    account: &str,
) -> Group {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let group = ec2
        .create_security_group()
        .group_name(unique("rem-sg"))
        .description("remediation test")
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(tcp_from(443, "0.0.0.0/0"))
        .ip_permissions(tcp_from(22, "10.0.0.0/8"))
        .send()
        .await
        .unwrap();
    let event = open_ssh_event(&group, account);
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .set_ip_permissions(Some(permissions_of(&event)))
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let p = pipeline(store.clone());
    let ours: Vec<_> = p
        .normalize(&event)
        .findings
        .into_iter()
        .filter(|f| f.generator_id == RULE)
        .collect();
    assert_eq!(ours.len(), 1, "one {RULE} finding");
    assert_eq!(
        ours[0].resources[0].id, group,
        "the finding names the group"
    );
    let finding_id = ours[0].id.clone();
    assert!(super::post_event(store.clone(), &event).await >= 1);
    Group {
        dir,
        endpoint,
        ec2,
        group,
        finding_id,
        store,
    }
}

impl Group {
    /// A remediation file: `ec2-revoke-world-ingress` enabled, plus `extra` lines.
    pub(super) fn config(&self, extra: &str) -> PathBuf {
        let path = self.dir.path().join("remediation.yaml");
        std::fs::write(
            &path,
            format!("enabled: [ec2-revoke-world-ingress]\n{extra}"),
        )
        .unwrap();
        path
    }

    pub(super) fn cspm(&self, what: &str, config: Option<&Path>, more: &[&str]) -> Output {
        self.command(what, config, more)
            .output()
            .expect("run cspm remediate")
    }

    /// The command `cspm remediate <what>` runs on the group's finding.
    pub(super) fn command(&self, what: &str, config: Option<&Path>, more: &[&str]) -> Command {
        remediate_command(
            self.dir.path(),
            &self.endpoint,
            what,
            &self.finding_id,
            config,
            more,
        )
    }

    /// The finding's workflow status.
    pub(super) async fn status(&self) -> WorkflowStatus {
        let f = self.store.get(&self.finding_id).await.unwrap().unwrap();
        f.finding.workflow_status
    }
}

/// Rows of `rules` whose source is the world and port 22.
pub(super) fn world_ssh(rows: &[RuleRow]) -> Vec<String> {
    rows.iter()
        .filter(|(_, p, f, _, src, e)| {
            p == "tcp" && *f == 22 && !e && (src == "0.0.0.0/0" || src == "::/0")
        })
        .map(|r| r.0.clone())
        .collect()
}

#[tokio::test]
async fn only_the_world_open_ssh_rules_are_revoked_and_the_rest_stays() {
    let Some(g) = open_group_with_finding("remediate_ec2_end_to_end").await else {
        return;
    };
    let before = rules(&g.ec2, &g.group).await;
    let offending = world_ssh(&before);
    assert_eq!(offending.len(), 2, "{before:?}");
    let config = g.config("allowed_ports: [80, 443]\n");

    let planned = g.cspm("plan", Some(&config), &["--json"]);
    assert!(
        planned.status.success(),
        "{}",
        String::from_utf8_lossy(&planned.stderr)
    );
    let plan: Value = serde_json::from_str(&stdout(&planned)).unwrap();
    assert_eq!(plan["action"], "ec2-revoke-world-ingress");
    assert_eq!(plan["calls"].as_array().unwrap().len(), 1, "{plan}");
    let call = &plan["calls"][0];
    assert_eq!(
        (
            &call["service"],
            &call["operation"],
            &call["params"]["GroupId"]
        ),
        (
            &json!("ec2"),
            &json!("RevokeSecurityGroupIngress"),
            &json!(g.group)
        )
    );
    let mut ids: Vec<String> =
        serde_json::from_value(call["params"]["SecurityGroupRuleIds"].clone()).unwrap();
    ids.sort();
    assert_eq!(ids, offending, "exactly the world-open SSH rules, by id");
    let after = plan["after"].as_str().unwrap();
    for part in [
        "revoke ingress ",
        "tcp/22 from 0.0.0.0/0",
        "tcp/22 from ::/0",
        &format!(" on {}; the rules ", g.group),
        "tcp/443 from 0.0.0.0/0",
        "tcp/22 from 10.0.0.0/8",
    ] {
        assert!(after.contains(part), "{part:?} in {after}");
    }
    assert_eq!(
        plan["current_state"]["ingress"].as_array().unwrap().len(),
        4,
        "{plan}"
    );
    assert!(plan["guards"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["passed"] == true));
    assert_eq!(
        rules(&g.ec2, &g.group).await,
        before,
        "plan changes nothing"
    );

    let hash = plan["current_state"]["state_hash"].as_str().unwrap();
    let applied = g.cspm("apply", Some(&config), &["--expect-state", hash]);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let now = rules(&g.ec2, &g.group).await;
    let kept: Vec<RuleRow> = before
        .iter()
        .filter(|r| !offending.contains(&r.0))
        .cloned()
        .collect();
    assert_eq!(
        now, kept,
        "exactly the offending rules gone, the rest untouched"
    );
    assert_eq!(
        shapes(&now),
        [
            ("-1".to_string(), -1, -1, "0.0.0.0/0".to_string(), true),
            ("tcp".to_string(), 22, 22, "10.0.0.0/8".to_string(), false),
            ("tcp".to_string(), 443, 443, "0.0.0.0/0".to_string(), false),
        ]
    );
    assert_eq!(g.status().await, WorkflowStatus::Resolved);
    let steps: Vec<String> = ledger_lines(g.dir.path())
        .iter()
        .map(|e| e["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(steps, ["started", "verified"]);

    // Reopened and applied again: nothing left, so no call and no attempt.
    let reopen = WorkflowUpdate {
        workflow_status: WorkflowStatus::New,
        note: Some("checking again".into()),
    };
    pipeline(g.store.clone())
        .set_workflow(&g.finding_id, &reopen, "alice", chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    let again = g.cspm("apply", Some(&config), &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stdout(&again).starts_with("nothing left to do"),
        "{}",
        stdout(&again)
    );
    assert_eq!(rules(&g.ec2, &g.group).await, kept);
    assert_eq!(ledger_lines(g.dir.path()).len(), 2, "no second attempt");
}

/// The group left as it was: protected by tag, allowed by the file, changed
/// since the plan, deleted since the finding.
mod refusals;
