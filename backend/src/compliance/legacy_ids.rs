//! Standard control ids → security control ids, for control findings written
//! without consolidated control findings (no `Compliance.SecurityControlId`; the
//! standard's own id in `ProductFields.RuleId`/`ControlId` or the generator id).
//! Without it a standard scored from both kinds of finding — an account turning
//! consolidation on, or a member account whose administrator has it off — would
//! count one control twice, under `1.4` and under `IAM.3`.
//!
//! Data: the AWS Security Hub User Guide, "Impact of consolidation on ASFF fields
//! and values", table "Generator IDs before and after turning on consolidated
//! control findings" (controls supported as of 2023-02-15). A standard id that
//! maps to two security controls there (CIS 1.2 `1.1`: CloudWatch.1 and IAM.20)
//! is kept as it is; an id not listed (a later control) too. Control Tower's ids
//! are its security control ids with `CT.` in front, as the guide says.

/// `(standard control id, security control id)` per standard slug, sorted by
/// the standard control id (binary search). Identity pairs are left out.
const TABLES: [(&str, &[(&str, &str)]); 4] = [
    (
        "cis-1.2",
        &[
            ("1.10", "IAM.16"),
            ("1.11", "IAM.17"),
            ("1.12", "IAM.4"),
            ("1.13", "IAM.9"),
            ("1.14", "IAM.6"),
            ("1.16", "IAM.2"),
            ("1.2", "IAM.5"),
            ("1.20", "IAM.18"),
            ("1.22", "IAM.1"),
            ("1.3", "IAM.8"),
            ("1.4", "IAM.3"),
            ("1.5", "IAM.11"),
            ("1.6", "IAM.12"),
            ("1.7", "IAM.13"),
            ("1.8", "IAM.14"),
            ("1.9", "IAM.15"),
            ("2.1", "CloudTrail.1"),
            ("2.2", "CloudTrail.4"),
            ("2.3", "CloudTrail.6"),
            ("2.4", "CloudTrail.5"),
            ("2.5", "Config.1"),
            ("2.6", "CloudTrail.7"),
            ("2.7", "CloudTrail.2"),
            ("2.8", "KMS.4"),
            ("2.9", "EC2.6"),
            ("3.1", "CloudWatch.2"),
            ("3.10", "CloudWatch.10"),
            ("3.11", "CloudWatch.11"),
            ("3.12", "CloudWatch.12"),
            ("3.13", "CloudWatch.13"),
            ("3.14", "CloudWatch.14"),
            ("3.2", "CloudWatch.3"),
            ("3.3", "CloudWatch.1"),
            ("3.4", "CloudWatch.4"),
            ("3.5", "CloudWatch.5"),
            ("3.6", "CloudWatch.6"),
            ("3.7", "CloudWatch.7"),
            ("3.8", "CloudWatch.8"),
            ("3.9", "CloudWatch.9"),
            ("4.1", "EC2.13"),
            ("4.2", "EC2.14"),
            ("4.3", "EC2.2"),
        ],
    ),
    (
        "cis-1.4",
        &[
            ("1.10", "IAM.5"),
            ("1.14", "IAM.3"),
            ("1.16", "IAM.1"),
            ("1.17", "IAM.18"),
            ("1.4", "IAM.4"),
            ("1.5", "IAM.9"),
            ("1.6", "IAM.6"),
            ("1.7", "CloudWatch.1"),
            ("1.8", "IAM.15"),
            ("1.9", "IAM.16"),
            ("2.1.1", "S3.4"),
            ("2.1.2", "S3.5"),
            ("2.1.5.1", "S3.1"),
            ("2.1.5.2", "S3.8"),
            ("2.2.1", "EC2.7"),
            ("2.3.1", "RDS.3"),
            ("3.1", "CloudTrail.1"),
            ("3.2", "CloudTrail.4"),
            ("3.4", "CloudTrail.5"),
            ("3.5", "Config.1"),
            ("3.6", "S3.9"),
            ("3.7", "CloudTrail.2"),
            ("3.8", "KMS.4"),
            ("3.9", "EC2.6"),
            ("4.10", "CloudWatch.10"),
            ("4.11", "CloudWatch.11"),
            ("4.12", "CloudWatch.12"),
            ("4.13", "CloudWatch.13"),
            ("4.14", "CloudWatch.14"),
            ("4.3", "CloudWatch.1"),
            ("4.4", "CloudWatch.4"),
            ("4.5", "CloudWatch.5"),
            ("4.6", "CloudWatch.6"),
            ("4.7", "CloudWatch.7"),
            ("4.8", "CloudWatch.8"),
            ("4.9", "CloudWatch.9"),
            ("5.1", "EC2.21"),
            ("5.3", "EC2.2"),
        ],
    ),
    (
        "pci-dss-3.2.1",
        &[
            ("PCI.AutoScaling.1", "AutoScaling.1"),
            ("PCI.CW.1", "CloudWatch.1"),
            ("PCI.CloudTrail.1", "CloudTrail.2"),
            ("PCI.CloudTrail.2", "CloudTrail.3"),
            ("PCI.CloudTrail.3", "CloudTrail.4"),
            ("PCI.CloudTrail.4", "CloudTrail.5"),
            ("PCI.CodeBuild.1", "CodeBuild.1"),
            ("PCI.CodeBuild.2", "CodeBuild.2"),
            ("PCI.Config.1", "Config.1"),
            ("PCI.DMS.1", "DMS.1"),
            ("PCI.EC2.1", "EC2.1"),
            ("PCI.EC2.2", "EC2.2"),
            ("PCI.EC2.4", "EC2.12"),
            ("PCI.EC2.5", "EC2.13"),
            ("PCI.EC2.6", "EC2.6"),
            ("PCI.ELBv2.1", "ELB.1"),
            ("PCI.ES.1", "ES.2"),
            ("PCI.ES.2", "ES.1"),
            ("PCI.GuardDuty.1", "GuardDuty.1"),
            ("PCI.IAM.1", "IAM.4"),
            ("PCI.IAM.2", "IAM.2"),
            ("PCI.IAM.3", "IAM.1"),
            ("PCI.IAM.4", "IAM.6"),
            ("PCI.IAM.5", "IAM.9"),
            ("PCI.IAM.6", "IAM.19"),
            ("PCI.IAM.7", "IAM.8"),
            ("PCI.IAM.8", "IAM.10"),
            ("PCI.KMS.1", "KMS.4"),
            ("PCI.Lambda.1", "Lambda.1"),
            ("PCI.Lambda.2", "Lambda.3"),
            ("PCI.Opensearch.1", "Opensearch.2"),
            ("PCI.Opensearch.2", "Opensearch.1"),
            ("PCI.RDS.1", "RDS.1"),
            ("PCI.RDS.2", "RDS.2"),
            ("PCI.Redshift.1", "Redshift.1"),
            ("PCI.S3.1", "S3.3"),
            ("PCI.S3.2", "S3.2"),
            ("PCI.S3.3", "S3.7"),
            ("PCI.S3.4", "S3.4"),
            ("PCI.S3.5", "S3.5"),
            ("PCI.S3.6", "S3.1"),
            ("PCI.SSM.1", "SSM.2"),
            ("PCI.SSM.2", "SSM.3"),
            ("PCI.SSM.3", "SSM.1"),
            ("PCI.SageMaker.1", "SageMaker.1"),
        ],
    ),
    ("aws-fsbp", &[("ELBv2.1", "ELB.1")]),
];

/// The security control id of control `own` of the standard `slug`, when it has
/// another one; `None` when `own` already is one or is not listed.
pub fn security_control_of<'a>(slug: &str, own: &'a str) -> Option<&'a str> {
    if slug == "aws-control-tower" {
        return own.strip_prefix("CT.");
    }
    let (_, pairs) = TABLES.iter().find(|(s, _)| *s == slug)?;
    pairs
        .binary_search_by(|(o, _)| (*o).cmp(own))
        .ok()
        .map(|i| pairs[i].1)
}

#[cfg(test)]
mod tests {
    use super::{security_control_of, TABLES};

    #[test]
    fn each_table_is_sorted_without_repeats_so_binary_search_finds_every_entry() {
        for (slug, pairs) in TABLES {
            for w in pairs.windows(2) {
                assert!(w[0].0 < w[1].0, "{slug}: {:?} before {:?}", w[0], w[1]);
            }
            for (own, security) in pairs.iter() {
                assert_eq!(security_control_of(slug, own), Some(*security));
            }
        }
    }

    #[test]
    fn the_user_guides_examples_map_and_the_rest_stays() {
        assert_eq!(security_control_of("cis-1.2", "1.4"), Some("IAM.3"));
        assert_eq!(security_control_of("cis-1.2", "2.7"), Some("CloudTrail.2"));
        assert_eq!(security_control_of("cis-1.4", "1.14"), Some("IAM.3"));
        assert_eq!(
            security_control_of("pci-dss-3.2.1", "PCI.IAM.5"),
            Some("IAM.9")
        );
        assert_eq!(
            security_control_of("pci-dss-3.2.1", "PCI.EC2.2"),
            Some("EC2.2")
        );
        assert_eq!(security_control_of("aws-fsbp", "ELBv2.1"), Some("ELB.1"));
        assert_eq!(
            security_control_of("aws-control-tower", "CT.CodeBuild.1"),
            Some("CodeBuild.1")
        );
        // Two security controls for one CIS 1.2 id; ids that already are security
        // control ids; standards without a table.
        assert_eq!(security_control_of("cis-1.2", "1.1"), None);
        assert_eq!(security_control_of("aws-fsbp", "EC2.2"), None);
        assert_eq!(security_control_of("cis-3.0", "1.4"), None);
        assert_eq!(
            security_control_of("aws-control-tower", "CodeBuild.1"),
            None
        );
    }
}
