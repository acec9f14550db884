//! Which (standard, control) pairs a stored finding is a result of.
//!
//! Security Hub writes control findings in two shapes (user guide, "Samples of
//! control findings" and "Consolidated control findings"):
//! - **one finding per standard** (consolidation off): `ProductFields.StandardsArn`
//!   (or `StandardsGuideArn` for CIS 1.2.0) names the standard, `ControlId` /
//!   `RuleId` the standard's own control id, the `GeneratorId` is
//!   `<standard>/v/<version>/<control>`;
//! - **one consolidated finding per control** (the default since February 2023):
//!   `GeneratorId` is `security-control/<id>`, there is no `StandardsArn`, and
//!   `Compliance.AssociatedStandards` lists every enabled standard the control
//!   belongs to — the finding is a result in each of them.
//!
//! Newer findings of both shapes carry `Compliance.SecurityControlId` (the id
//! shared across standards, `CloudTrail.2`). It is the control's key here when
//! present, so a control counts once per standard whichever shape its findings
//! have; older findings without it fall back to the standard's own id (`1.4`,
//! `PCI.S3.1`).

use super::legacy_ids;
use super::standard::{self, Standard};
use serde_json::Value;
use shared_types::Finding;

/// One (standard, control) pair a finding is a result of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The standard.
    pub standard: Standard,
    /// The control's id in it.
    pub control_id: String,
}

/// Every (standard, control) pair `f` is a result of, one per standard (first
/// source wins): `Compliance.AssociatedStandards`, then the `ProductFields`
/// standards ARNs, then a standard-specific generator id. Empty for findings that
/// are not control results (GuardDuty, CloudTrail detections, third parties).
pub fn memberships(f: &Finding) -> Vec<Membership> {
    let raw = &f.raw;
    let pf = |k: &str| {
        raw.get("ProductFields")
            .and_then(|p| p.get(k))
            .and_then(text)
    };
    let security_control = raw
        .get("Compliance")
        .and_then(|c| c.get("SecurityControlId"))
        .and_then(text);
    let generator = standard::parse(&f.generator_id).filter(|(_, rest)| !rest.is_empty());
    // The standard's own control id, for findings without a SecurityControlId.
    let own_control = |s: &Standard| -> Option<String> {
        pf("ControlId")
            .or_else(|| pf("RuleId"))
            .or_else(|| {
                generator
                    .as_ref()
                    .filter(|(g, _)| g == s)
                    .map(|(_, rest)| rest.to_string())
            })
            .or_else(|| {
                let arn = pf("StandardsControlArn")?;
                let (g, rest) = standard::parse(&arn)?;
                (g == *s && !rest.is_empty()).then(|| rest.to_string())
            })
    };

    let mut standards: Vec<Standard> = Vec::new();
    let associated = raw
        .get("Compliance")
        .and_then(|c| c.get("AssociatedStandards"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("StandardsId").and_then(text));
    let product_fields = ["StandardsArn", "StandardsGuideArn"]
        .into_iter()
        .filter_map(pf);
    for id in associated.chain(product_fields) {
        if let Some((s, _)) = standard::parse(&id) {
            standards.push(s);
        }
    }
    // An OCSF compliance finding (the new Security Hub's, Prowler's) names its
    // standards in `compliance.standards`, as ids or as display names.
    let ocsf = raw.get("compliance");
    let ocsf_standards = ocsf
        .and_then(|c| c.get("standards"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(text);
    for id in ocsf_standards {
        let s = standard::parse(&id)
            .map(|(s, _)| s)
            .or_else(|| standard::from_name(&id));
        standards.extend(s);
    }
    let ocsf_control = ocsf.and_then(|c| {
        c.get("control")
            .and_then(text)
            .or_else(|| f.control_id.clone())
    });
    if let Some((s, _)) = &generator {
        standards.push(s.clone());
    }

    let mut out: Vec<Membership> = Vec::new();
    for s in standards {
        if out.iter().any(|m| m.standard.slug == s.slug) {
            continue;
        }
        // A standard's own id names the control by its security control id when
        // it has one, so findings with and without consolidation meet.
        let control = security_control
            .clone()
            .or_else(|| {
                own_control(&s).map(|own| {
                    legacy_ids::security_control_of(&s.slug, &own)
                        .map(str::to_string)
                        .unwrap_or(own)
                })
            })
            .or_else(|| ocsf_control.clone());
        if let Some(control_id) = control.filter(|c| valid_control(c)) {
            out.push(Membership {
                standard: s,
                control_id,
            });
        }
    }
    out
}

/// A trimmed, non-empty string (the lenient ASFF reader also takes the first
/// element of a list where a string belongs).
fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.as_str(),
        Value::Array(a) => a.first()?.as_str()?,
        _ => return None,
    };
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Control ids are short printable names (`S3.8`, `1.4`, `PCI.CloudTrail.1`).
fn valid_control(c: &str) -> bool {
    c.len() <= 64 && !c.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(raw: Value) -> Finding {
        let mut f = crate::demo::generate(1, chrono::Utc::now(), 1)
            .next()
            .unwrap();
        f.generator_id = raw["GeneratorId"].as_str().unwrap_or_default().to_string();
        f.raw = raw;
        f
    }

    fn pairs(raw: Value) -> Vec<(String, String)> {
        memberships(&finding(raw))
            .into_iter()
            .map(|m| (m.standard.slug, m.control_id))
            .collect()
    }

    fn p(s: &str, c: &str) -> (String, String) {
        (s.to_string(), c.to_string())
    }

    /// The consolidated sample of the user guide: one finding, seven standards.
    #[test]
    fn a_consolidated_finding_belongs_to_every_associated_standard() {
        let raw = json!({
            "GeneratorId": "security-control/CloudTrail.2",
            "ProductFields": {"RelatedAWSResources:0/type": "AWS::Config::ConfigRule"},
            "Compliance": {"Status": "FAILED", "SecurityControlId": "CloudTrail.2",
                "AssociatedStandards": [
                    {"StandardsId": "ruleset/cis-aws-foundations-benchmark/v/1.2.0"},
                    {"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"},
                    {"StandardsId": "standards/cis-aws-foundations-benchmark/v/1.4.0"},
                    {"StandardsId": "standards/cis-aws-foundations-benchmark/v/3.0.0"},
                    {"StandardsId": "standards/nist-800-171/v/2.0.0"},
                    {"StandardsId": "standards/pci-dss/v/3.2.1"},
                    {"StandardsId": "standards/pci-dss/v/4.0.1"}]}
        });
        let c = "CloudTrail.2";
        assert_eq!(
            pairs(raw),
            vec![
                p("cis-1.2", c),
                p("aws-fsbp", c),
                p("cis-1.4", c),
                p("cis-3.0", c),
                p("nist-800-171-r2", c),
                p("pci-dss-3.2.1", c),
                p("pci-dss-4.0.1", c)
            ]
        );
    }

    /// The CIS 1.2.0 shape: the standard in `StandardsGuideArn`, the control in
    /// `RuleId`, no SecurityControlId (as in Security Hub's older findings). The
    /// rule id names the control by its security control id, so a consolidated
    /// finding of the same control counts in the same control.
    #[test]
    fn a_cis_1_2_finding_without_security_control_id_is_its_rules_security_control() {
        let raw = json!({
            "GeneratorId": "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.4",
            "ProductFields": {
                "StandardsGuideArn": "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
                "RuleId": "1.4",
                "StandardsControlArn": "arn:aws:securityhub:us-east-1:111122223333:control/cis-aws-foundations-benchmark/v/1.2.0/1.4"},
            "Compliance": {"Status": "FAILED"}
        });
        assert_eq!(pairs(raw), vec![p("cis-1.2", "IAM.3")]);
        let consolidated = json!({
            "GeneratorId": "security-control/IAM.3",
            "Compliance": {"Status": "PASSED", "SecurityControlId": "IAM.3",
                "AssociatedStandards": [{"StandardsId": "ruleset/cis-aws-foundations-benchmark/v/1.2.0"}]}
        });
        assert_eq!(pairs(consolidated), vec![p("cis-1.2", "IAM.3")]);
        // Rule 1.1 is two security controls: it stays 1.1.
        let ambiguous = json!({
            "GeneratorId": "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.1",
            "ProductFields": {"RuleId": "1.1"},
            "Compliance": {"Status": "FAILED"}
        });
        assert_eq!(pairs(ambiguous), vec![p("cis-1.2", "1.1")]);
    }

    #[test]
    fn a_standard_specific_finding_prefers_the_security_control_id() {
        let raw = json!({
            "GeneratorId": "cis-aws-foundations-benchmark/v/1.4.0/3.7",
            "ProductFields": {
                "StandardsArn": "arn:aws:securityhub:::standards/cis-aws-foundations-benchmark/v/1.4.0",
                "ControlId": "3.7"},
            "Compliance": {"Status": "FAILED", "SecurityControlId": "CloudTrail.2",
                "AssociatedStandards": [{"StandardsId": "standards/cis-aws-foundations-benchmark/v/1.4.0"}]}
        });
        assert_eq!(pairs(raw), vec![p("cis-1.4", "CloudTrail.2")]);
    }

    /// The FSBP sample of the user guide names its standard twice, once with a
    /// misspelt id: still one membership.
    #[test]
    fn two_spellings_of_one_standard_give_one_membership() {
        let raw = json!({
            "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/CloudTrail.2",
            "ProductFields": {
                "StandardsArn": "arn:aws:securityhub:::standards/aws-foundational-security-best-practices/v/1.0.0",
                "ControlId": "CloudTrail.2"},
            "Compliance": {"Status": "FAILED", "SecurityControlId": "CloudTrail.2",
                "AssociatedStandards": [{"StandardsId": "standards/aws-foundation-best-practices/v/1.0.0"}]}
        });
        assert_eq!(pairs(raw), vec![p("aws-fsbp", "CloudTrail.2")]);
    }

    /// An OCSF compliance finding names its standards by id or by display
    /// name, and its control in `compliance.control`.
    #[test]
    fn an_ocsf_compliance_finding_is_a_result_in_each_standard_it_names() {
        let raw = json!({"class_uid": 2003, "compliance": {"control": "S3.1", "status_id": 3,
            "standards": ["AWS Foundational Security Best Practices v1.0.0",
                "standards/cis-aws-foundations-benchmark/v/3.0.0",
                "NIST SP 800-53 Revision 5", "not a standard"]}});
        assert_eq!(
            pairs(raw),
            vec![
                p("aws-fsbp", "S3.1"),
                p("cis-3.0", "S3.1"),
                p("nist-800-53-r5", "S3.1")
            ]
        );
    }

    #[test]
    fn only_a_generator_id_is_enough() {
        let raw = json!({"GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/S3.1",
            "Compliance": {"Status": "PASSED"}});
        assert_eq!(pairs(raw), vec![p("aws-fsbp", "S3.1")]);
    }

    #[test]
    fn findings_that_are_not_control_results_have_no_membership() {
        for raw in [
            json!({"GeneratorId": "arn:aws:config:eu-central-1:123456789012:config-rule/config-rule-mburzq",
                "Compliance": {"Status": "FAILED"}}),
            json!({"GeneratorId": "security-control/EC2.19", "Compliance": {"Status": "FAILED"}}),
            json!({"GeneratorId": "arn:aws:guardduty:us-east-1:1:detector/abc"}),
            json!({"eventName": "CreateAccessKey"}),
        ] {
            assert!(pairs(raw.clone()).is_empty(), "{raw}");
        }
    }
}
