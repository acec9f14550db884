//! AWS Security Finding Format (ASFF) serde types: our own, because the AWS SDK's
//! types do not derive serde. Only the fields we normalize are modelled; everything
//! else stays in the raw document.
//!
//! Every field is optional and read leniently (see [`lenient`]): the schema says what
//! should be there, real data says otherwise, and deciding what is fatal is the
//! normalizer's job, where the rejection can say which field was wrong.
//! Timestamps are kept as raw JSON so `crate::time` can report the exact bad value.

pub mod lenient;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One ASFF finding, as far as we read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    /// ASFF `SchemaVersion`, e.g. `2018-10-08`.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub schema_version: Option<String>,
    /// ASFF `Id`: unique per product, usually an ARN.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// ARN of the product that produced the finding.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_arn: Option<String>,
    /// Product name (absent from older findings).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_name: Option<String>,
    /// Company name (absent from older findings).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub company_name: Option<String>,
    /// The control, rule or detector that produced the finding.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub generator_id: Option<String>,
    /// Account the finding is about (a string of 12 digits by the schema, not always in practice).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub aws_account_id: Option<String>,
    /// Region the finding was generated in.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<String>,
    /// `namespace/category/classifier` paths.
    #[serde(
        default,
        deserialize_with = "lenient::strings",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub types: Vec<String>,
    /// Raw `FirstObservedAt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_observed_at: Option<Value>,
    /// Raw `LastObservedAt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_observed_at: Option<Value>,
    /// Raw `CreatedAt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Value>,
    /// Raw `UpdatedAt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Value>,
    /// Severity in its several historical shapes.
    #[serde(
        default,
        deserialize_with = "lenient::object",
        skip_serializing_if = "Option::is_none"
    )]
    pub severity: Option<AsffSeverity>,
    /// Short title.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    /// Longer description.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// How to fix it.
    #[serde(
        default,
        deserialize_with = "lenient::object",
        skip_serializing_if = "Option::is_none"
    )]
    pub remediation: Option<AsffRemediation>,
    /// Link to the finding in the provider's console.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_url: Option<String>,
    /// Product-specific fields; values may be nested objects in real data.
    #[serde(
        default,
        deserialize_with = "lenient::map",
        skip_serializing_if = "Map::is_empty"
    )]
    pub product_fields: Map<String, Value>,
    /// Resources the finding is about (the schema requires at least one).
    #[serde(
        default,
        deserialize_with = "lenient::objects",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<AsffResource>,
    /// Control compliance result, for control findings.
    #[serde(
        default,
        deserialize_with = "lenient::object",
        skip_serializing_if = "Option::is_none"
    )]
    pub compliance: Option<AsffCompliance>,
    /// Triage status (current shape).
    #[serde(
        default,
        deserialize_with = "lenient::object",
        skip_serializing_if = "Option::is_none"
    )]
    pub workflow: Option<AsffWorkflow>,
    /// Triage status (deprecated shape: NEW, ASSIGNED, IN_PROGRESS, DEFERRED, RESOLVED).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub workflow_state: Option<String>,
    /// `ACTIVE` or `ARCHIVED`.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub record_state: Option<String>,
}

impl AsffFinding {
    /// Reads a finding from JSON. Fails only when `v` is not a JSON object: every
    /// field is lenient, so drift inside the object never fails here.
    pub fn from_value(v: &Value) -> Result<Self, serde_json::Error> {
        // Derived struct deserializers would also read a JSON array positionally.
        if !v.is_object() {
            return Err(serde::de::Error::custom("a finding must be a JSON object"));
        }
        AsffFinding::deserialize(v)
    }

    /// A `ProductFields` value as text (e.g. `aws/securityhub/SeverityLabel`), when present.
    pub fn product_field(&self, key: &str) -> Option<String> {
        self.product_fields
            .get(key)
            .cloned()
            .and_then(lenient::scalar_text)
            .filter(|s| !s.trim().is_empty())
    }
}

/// ASFF `Severity`. `Label` is current; `Normalized` (0–100) is the pre-2020 shape;
/// `Product` and `Original` are on the producing product's own scale.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    /// `INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub label: Option<String>,
    /// 0–100 score.
    #[serde(
        default,
        deserialize_with = "lenient::integer",
        skip_serializing_if = "Option::is_none"
    )]
    pub normalized: Option<i64>,
    /// Score on the product's own scale (GuardDuty 0.1–8.9, …).
    #[serde(
        default,
        deserialize_with = "lenient::float",
        skip_serializing_if = "Option::is_none"
    )]
    pub product: Option<f64>,
    /// The product's own severity text (`"6.0"`, `"MEDIUM"`…).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub original: Option<String>,
}

/// ASFF `Remediation`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    /// The recommendation.
    #[serde(
        default,
        deserialize_with = "lenient::object",
        skip_serializing_if = "Option::is_none"
    )]
    pub recommendation: Option<AsffRecommendation>,
}

/// ASFF `Remediation.Recommendation`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    /// What to do, in words.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub text: Option<String>,
    /// Link to the fix documentation.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<String>,
}

/// One entry of ASFF `Resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    /// Resource type, e.g. `AwsS3Bucket` (or `Other`, or a non-AWS type such as `GcpGceVmInstance`).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<String>,
    /// Resource identifier: usually an ARN, sometimes a bare name or an IP address.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`…
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub partition: Option<String>,
    /// Region of the resource.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<String>,
}

/// ASFF `Compliance`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    /// `PASSED`, `WARNING`, `FAILED` or `NOT_AVAILABLE`.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// Cross-standard control id, e.g. `S3.8` (published as a list in some samples).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub security_control_id: Option<String>,
    /// Requirements of the standards the control maps to.
    #[serde(
        default,
        deserialize_with = "lenient::strings",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub related_requirements: Vec<String>,
}

/// ASFF `Workflow`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffWorkflow {
    /// `NEW`, `NOTIFIED`, `SUPPRESSED` or `RESOLVED`.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drifted_fields_are_read_without_failing_the_finding() {
        let v = json!({
            "Id": "x", "AwsAccountId": 12345678901_i64, "Types": "Software and Configuration Checks",
            "Severity": [{"Normalized": "40"}], "Resources": {"Type": "Other", "Id": "10.0.0.1"},
            "Compliance": {"SecurityControlId": ["EC2.19"], "RelatedRequirements": "PCI1.2"},
            "ProductFields": {"nested": {"a": [1, 2]}, "aws/securityhub/SeverityLabel": "LOW"},
            "Workflow": "NEW", "Remediation": {"Recommendation": {"Text": ["Fix it"]}}
        });
        let f = match AsffFinding::from_value(&v) {
            Ok(f) => f,
            Err(e) => panic!("lenient read failed: {e}"),
        };
        assert_eq!(f.aws_account_id.as_deref(), Some("12345678901"));
        assert_eq!(
            f.types,
            vec!["Software and Configuration Checks".to_string()]
        );
        assert_eq!(
            f.product_field("aws/securityhub/SeverityLabel").as_deref(),
            Some("LOW")
        );
        assert_eq!(f.product_field("nested"), None);
        assert_eq!(f.severity.and_then(|s| s.normalized), Some(40));
        assert_eq!(f.resources.len(), 1);
        assert_eq!(
            f.resources.first().and_then(|r| r.id.as_deref()),
            Some("10.0.0.1")
        );
        let c = f.compliance.unwrap_or_default();
        assert_eq!(c.security_control_id.as_deref(), Some("EC2.19"));
        assert_eq!(c.related_requirements, vec!["PCI1.2".to_string()]);
        assert_eq!(f.workflow, None);
        let text = f
            .remediation
            .and_then(|r| r.recommendation)
            .and_then(|r| r.text);
        assert_eq!(text.as_deref(), Some("Fix it"));
    }

    #[test]
    fn only_non_objects_fail_to_read() {
        assert!(AsffFinding::from_value(&json!([1, 2])).is_err());
        assert!(AsffFinding::from_value(&json!("finding")).is_err());
        assert_eq!(
            AsffFinding::from_value(&json!({})).ok(),
            Some(AsffFinding::default())
        );
    }

    #[test]
    fn serializes_back_to_asff_field_names() {
        let f = AsffFinding {
            aws_account_id: Some("111111111111".into()),
            resources: vec![AsffResource {
                r#type: Some("AwsS3Bucket".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let v = serde_json::to_value(&f).unwrap_or_default();
        assert_eq!(
            v,
            json!({"AwsAccountId": "111111111111", "Resources": [{"Type": "AwsS3Bucket"}]})
        );
    }
}
