//! Deterministic synthetic findings: realistic Security Hub, GuardDuty and Inspector
//! findings over several accounts, regions and resource types, spread over 120 days.
//! The same `(count, anchor, seed)` always gives the same findings, so demos are
//! repeatable and benchmarks comparable.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::json;
use shared_types::{Finding, FindingSource, RecordState, Resource, Severity, WorkflowStatus};

/// Days the generated timestamps spread over, ending at the anchor.
pub const SPREAD_DAYS: i64 = 120;

/// SplitMix64: tiny, fast, and stable forever (unlike library RNGs whose streams
/// may change between versions), which is what deterministic demo data needs
/// (and tests that replay a seed).
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (0 for `n` = 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

struct Template {
    product: &'static str,
    control: &'static str,
    title: &'static str,
    severity: Severity,
    resource_type: &'static str,
    remediation: &'static str,
    weight: u64,
}

const fn t(
    product: &'static str,
    control: &'static str,
    title: &'static str,
    severity: Severity,
    resource_type: &'static str,
    remediation: &'static str,
    weight: u64,
) -> Template {
    Template {
        product,
        control,
        title,
        severity,
        resource_type,
        remediation,
        weight,
    }
}

use Severity::{Critical, High, Informational, Low, Medium};

const TEMPLATES: &[Template] = &[
    t("Security Hub", "S3.8", "S3 general purpose buckets should block public access", High, "AwsS3Bucket", "s3-controls.html#s3-8", 8),
    t("Security Hub", "S3.5", "S3 general purpose buckets should require requests to use SSL", Medium, "AwsS3Bucket", "s3-controls.html#s3-5", 8),
    t("Security Hub", "IAM.6", "Hardware MFA should be enabled for the root user", Critical, "AwsAccount", "iam-controls.html#iam-6", 1),
    t("Security Hub", "IAM.3", "IAM users' access keys should be rotated every 90 days or less", Medium, "AwsIamUser", "iam-controls.html#iam-3", 6),
    t("Security Hub", "IAM.1", "IAM policies should not allow full \"*\" administrative privileges", High, "AwsIamPolicy", "iam-controls.html#iam-1", 3),
    t("Security Hub", "EC2.19", "Security groups should not allow unrestricted access to ports with high risk", Critical, "AwsEc2SecurityGroup", "ec2-controls.html#ec2-19", 2),
    t("Security Hub", "EC2.2", "VPC default security groups should not allow inbound or outbound traffic", High, "AwsEc2SecurityGroup", "ec2-controls.html#ec2-2", 4),
    t("Security Hub", "EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)", High, "AwsEc2Instance", "ec2-controls.html#ec2-8", 5),
    t("Security Hub", "RDS.2", "RDS DB Instances should prohibit public access", Critical, "AwsRdsDbInstance", "rds-controls.html#rds-2", 1),
    t("Security Hub", "RDS.3", "RDS DB instances should have encryption at-rest enabled", Medium, "AwsRdsDbInstance", "rds-controls.html#rds-3", 4),
    t("Security Hub", "CloudTrail.1", "CloudTrail should be enabled and configured with at least one multi-Region trail", High, "AwsAccount", "cloudtrail-controls.html#cloudtrail-1", 2),
    t("Security Hub", "KMS.4", "AWS KMS key rotation should be enabled", Medium, "AwsKmsKey", "kms-controls.html#kms-4", 5),
    t("Security Hub", "Lambda.2", "Lambda functions should use supported runtimes", Medium, "AwsLambdaFunction", "lambda-controls.html#lambda-2", 6),
    t("Security Hub", "SSM.1", "EC2 instances should be managed by AWS Systems Manager", Medium, "AwsEc2Instance", "ssm-controls.html#ssm-1", 5),
    t("Security Hub", "DynamoDB.2", "DynamoDB tables should have point-in-time recovery enabled", Medium, "AwsDynamoDbTable", "dynamodb-controls.html#dynamodb-2", 4),
    t("Security Hub", "CloudWatch.1", "A log metric filter and alarm should exist for usage of the root user", Low, "AwsAccount", "cloudwatch-controls.html#cloudwatch-1", 6),
    t("Security Hub", "ELB.5", "Application and Classic Load Balancers logging should be enabled", Low, "AwsElbv2LoadBalancer", "elb-controls.html#elb-5", 6),
    t("Security Hub", "EC2.10", "Amazon EC2 should be configured to use VPC endpoints that are created for the Amazon EC2 service", Informational, "AwsEc2Vpc", "ec2-controls.html#ec2-10", 5),
    t("Security Hub", "S3.9", "S3 general purpose bucket server access logging should be enabled", Low, "AwsS3Bucket", "s3-controls.html#s3-9", 8),
    t("Security Hub", "Config.1", "AWS Config should be enabled and use the service-linked role for resource recording", Informational, "AwsAccount", "config-controls.html#config-1", 4),
    t("GuardDuty", "UnauthorizedAccess:EC2/SSHBruteForce", "EC2 instance is being probed by SSH brute force attempts", Low, "AwsEc2Instance", "", 3),
    t("GuardDuty", "CryptoCurrency:EC2/BitcoinTool.B!DNS", "EC2 instance is querying a domain name associated with cryptocurrency activity", High, "AwsEc2Instance", "", 1),
    t("GuardDuty", "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "Credentials for an EC2 instance role are used from an external IP address", High, "AwsIamAccessKey", "", 1),
    t("Inspector", "CVE-2024-3094", "CVE-2024-3094 - xz-utils backdoor in liblzma", Critical, "AwsEc2Instance", "", 1),
    t("Inspector", "CVE-2023-44487", "CVE-2023-44487 - HTTP/2 rapid reset in nghttp2", High, "AwsEcrContainerImage", "", 3),
    t("Inspector", "CVE-2024-6387", "CVE-2024-6387 - openssh regreSSHion remote code execution", High, "AwsEc2Instance", "", 2),
    t("IAM Access Analyzer", "ExternalAccess", "AwsS3Bucket/ allows access from an external principal", Medium, "AwsS3Bucket", "", 3),
];

const ACCOUNTS: &[&str] = &[
    "111122223333",
    "444455556666",
    "777788889999",
    "123456789012",
];
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-2",
];
const NAMES: &[&str] = &[
    "payments",
    "analytics",
    "web",
    "billing",
    "auth",
    "logs",
    "ml",
    "backup",
    "edge",
    "data",
];

/// Generates `count` findings whose timestamps end at `anchor` and spread over
/// [`SPREAD_DAYS`] days before it. Lazy, so a million need no more memory than one.
pub fn generate(count: usize, anchor: DateTime<Utc>, seed: u64) -> impl Iterator<Item = Finding> {
    let total_weight: u64 = TEMPLATES.iter().map(|t| t.weight).sum();
    let mut rng = Rng(seed);
    (0..count).map(move |n| one(&mut rng, n, count, anchor, total_weight))
}

/// A stable anchor for "today's" demo data: the start of the current UTC hour, so
/// repeated runs within the hour give identical findings.
pub fn default_anchor() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(Duration::hours(1)).unwrap_or(now)
}

fn pick_template(rng: &mut Rng, total_weight: u64) -> &'static Template {
    let mut x = rng.below(total_weight);
    for t in TEMPLATES {
        if x < t.weight {
            return t;
        }
        x -= t.weight;
    }
    &TEMPLATES[0]
}

fn resource_id(t: &Template, rng: &mut Rng, account: &str, region: &str) -> String {
    let name = rng.pick(NAMES);
    let hex = format!("{:017x}", rng.next() >> 4);
    match t.resource_type {
        "AwsS3Bucket" => format!("arn:aws:s3:::{name}-{account}-{}", &hex[..6]),
        "AwsAccount" => format!("AWS::::Account:{account}"),
        "AwsIamUser" => format!("arn:aws:iam::{account}:user/{name}-svc"),
        "AwsIamPolicy" => format!("arn:aws:iam::{account}:policy/{name}-admin"),
        "AwsIamAccessKey" => format!("AKIA{}", hex[..16].to_uppercase()),
        "AwsEc2SecurityGroup" => format!(
            "arn:aws:ec2:{region}:{account}:security-group/sg-{}",
            &hex[..17]
        ),
        "AwsEc2Instance" => format!("arn:aws:ec2:{region}:{account}:instance/i-{}", &hex[..17]),
        "AwsEc2Vpc" => format!("arn:aws:ec2:{region}:{account}:vpc/vpc-{}", &hex[..17]),
        "AwsRdsDbInstance" => format!("arn:aws:rds:{region}:{account}:db:{name}-db"),
        "AwsKmsKey" => format!(
            "arn:aws:kms:{region}:{account}:key/{}-{}",
            &hex[..8],
            &hex[8..12]
        ),
        "AwsLambdaFunction" => format!("arn:aws:lambda:{region}:{account}:function:{name}-handler"),
        "AwsDynamoDbTable" => format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
        "AwsElbv2LoadBalancer" => format!(
            "arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{}",
            &hex[..16]
        ),
        "AwsEcrContainerImage" => {
            format!("arn:aws:ecr:{region}:{account}:repository/{name}/sha256:{hex}")
        }
        _ => format!("{name}-{hex}"),
    }
}

fn product_arn(product: &str, region: &str) -> String {
    let p = match product {
        "GuardDuty" => "aws/guardduty",
        "Inspector" => "aws/inspector",
        "IAM Access Analyzer" => "aws/access-analyzer",
        _ => "aws/securityhub",
    };
    format!("arn:aws:securityhub:{region}::product/{p}")
}

fn one(rng: &mut Rng, n: usize, count: usize, anchor: DateTime<Utc>, total_weight: u64) -> Finding {
    let t = pick_template(rng, total_weight);
    let account = *rng.pick(ACCOUNTS);
    let region = *rng.pick(REGIONS);
    let resource_id = resource_id(t, rng, account, region);
    let spread = SPREAD_DAYS * 86_400;
    // Oldest first, as a real history arrives: the store's time indexes then grow at
    // their newest end. (Random order would make every insert a random page write.)
    let age = (spread - 1) - (n as i64 * spread) / count.max(1) as i64;
    let updated_at = anchor - Duration::seconds(age);
    // Created a while before its last evaluation, never before the spread starts.
    let created_at = updated_at - Duration::seconds(rng.below((spread - age).max(1) as u64) as i64);
    let workflow_status = match rng.below(100) {
        0..=59 => WorkflowStatus::New,
        60..=74 => WorkflowStatus::Notified,
        75..=84 => WorkflowStatus::Suppressed,
        _ => WorkflowStatus::Resolved,
    };
    let product_arn = product_arn(t.product, region);
    let asff_id = format!(
        "arn:aws:securityhub:{region}:{account}:demo/{}/finding/{:08x}-{n:08x}",
        t.control,
        rng.next() as u32
    );
    let id = crate::ids::short_id(&product_arn, &asff_id);
    let is_control = t.product == "Security Hub";
    let compliance_status = is_control.then(|| "FAILED".to_string());
    let control_id = is_control.then(|| t.control.to_string());
    let remediation_url = (!t.remediation.is_empty()).then(|| {
        format!(
            "https://docs.aws.amazon.com/securityhub/latest/userguide/{}",
            t.remediation
        )
    });
    let remediation_text = Some(match &remediation_url {
        Some(_) => format!("For information on how to correct this issue, consult the AWS Security Hub controls documentation for {}.", t.control),
        None => format!("Investigate the {} finding on the affected resource and follow your incident runbook.", t.product),
    });
    let title = if t.product == "IAM Access Analyzer" {
        format!("{} allows access from an external principal", resource_id)
    } else {
        t.title.to_string()
    };
    let description = format!(
        "{title}. Detected on {} in account {account} ({region}).",
        resource_id
    );
    let ts = |d: DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let raw = json!({
        "SchemaVersion": "2018-10-08",
        "Id": asff_id,
        "ProductArn": product_arn,
        "ProductName": t.product,
        "CompanyName": "AWS",
        "GeneratorId": t.control,
        "AwsAccountId": account,
        "Region": region,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "CreatedAt": ts(created_at),
        "UpdatedAt": ts(updated_at),
        "FirstObservedAt": ts(created_at),
        "LastObservedAt": ts(updated_at),
        "Severity": {"Label": t.severity.as_str()},
        "Title": title,
        "Description": description,
        "Remediation": {"Recommendation": {"Text": remediation_text, "Url": remediation_url}},
        "Resources": [{"Type": t.resource_type, "Id": resource_id, "Partition": "aws", "Region": region}],
        "Compliance": compliance_status.as_ref().map(|s| json!({"Status": s, "SecurityControlId": t.control,
            "AssociatedStandards": demo_standards(t.control).iter().map(|id| json!({"StandardsId": id})).collect::<Vec<_>>()})),
        "Workflow": {"Status": workflow_status.as_str()},
        "RecordState": "ACTIVE",
        "ProductFields": {"cspm/demo": "true"}
    });
    Finding {
        id,
        asff_id,
        product_arn,
        product_name: t.product.to_string(),
        company_name: Some("AWS".into()),
        generator_id: t.control.to_string(),
        source: FindingSource::Demo,
        account_id: account.to_string(),
        region: region.to_string(),
        title,
        description,
        severity: t.severity,
        workflow_status,
        record_state: RecordState::Active,
        types: vec!["Software and Configuration Checks/Industry and Regulatory Standards".into()],
        resource_type: t.resource_type.to_string(),
        resource_id: resource_id.clone(),
        resources: vec![Resource {
            resource_type: t.resource_type.to_string(),
            id: resource_id,
            partition: Some("aws".into()),
            region: Some(region.to_string()),
        }],
        compliance_status,
        control_id,
        remediation_text,
        remediation_url,
        source_url: None,
        mitre: Vec::new(),
        created_at,
        updated_at,
        first_observed_at: Some(created_at),
        last_observed_at: Some(updated_at),
        raw,
        revision: 0,
        workflow_by_person: false,
    }
}

/// The `Compliance.AssociatedStandards` ids of a demo control finding (the
/// consolidated shape): every control is in FSBP; the account-level IAM,
/// CloudTrail, CloudWatch, Config and S3/EC2 basics are also in CIS 1.4.
fn demo_standards(control: &str) -> Vec<&'static str> {
    const CIS: &[&str] = &[
        "IAM.1",
        "IAM.3",
        "IAM.6",
        "CloudTrail.1",
        "CloudWatch.1",
        "Config.1",
        "EC2.2",
        "S3.5",
        "S3.8",
        "KMS.4",
    ];
    let mut ids = vec!["standards/aws-foundational-security-best-practices/v/1.0.0"];
    if CIS.contains(&control) {
        ids.push("standards/cis-aws-foundations-benchmark/v/1.4.0");
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn same_inputs_give_same_findings_and_ids_are_unique() {
        let anchor: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let a: Vec<_> = generate(500, anchor, 7).collect();
        let b: Vec<_> = generate(500, anchor, 7).collect();
        assert_eq!(a, b);
        let ids: HashSet<_> = a.iter().map(|f| f.id.clone()).collect();
        assert_eq!(ids.len(), 500);
    }

    #[test]
    fn demo_data_covers_every_severity_and_status_within_the_spread() {
        let anchor: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let all: Vec<_> = generate(2000, anchor, 1).collect();
        for s in Severity::ALL_DESC {
            assert!(all.iter().any(|f| f.severity == s), "{s} missing");
        }
        for s in WorkflowStatus::ALL {
            assert!(all.iter().any(|f| f.workflow_status == s), "{s} missing");
        }
        for f in &all {
            assert!(f.created_at <= f.updated_at && f.updated_at <= anchor);
            assert!(anchor - f.created_at <= Duration::days(SPREAD_DAYS));
        }
        assert!(
            all.windows(2).all(|w| w[0].updated_at <= w[1].updated_at),
            "oldest first"
        );
        assert!(anchor - all[0].updated_at > Duration::days(SPREAD_DAYS - 1));
        let accounts: HashSet<_> = all.iter().map(|f| &f.account_id).collect();
        assert!(accounts.len() >= 4);
    }
}
