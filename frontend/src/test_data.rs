//! Builders for native unit tests.

use chrono::{DateTime, TimeZone, Utc};
use shared_types::{FindingListItem, FindingSource, Severity, WorkflowStatus};

/// A fixed instant `minutes` after 2024-05-01T00:00Z.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

/// A list item with the given id and severity, updated `minutes` after the epoch above.
pub fn item(id: &str, severity: Severity, minutes: i64) -> FindingListItem {
    FindingListItem {
        id: id.into(),
        asff_id: format!("arn:aws:securityhub:us-east-1:111122223333:finding/{id}"),
        severity,
        title: format!("Finding {id}"),
        workflow_status: WorkflowStatus::New,
        account_id: "111122223333".into(),
        region: "us-east-1".into(),
        resource_type: "AwsS3Bucket".into(),
        resource_id: format!("arn:aws:s3:::bucket-{id}"),
        product_name: "Security Hub".into(),
        source: FindingSource::SecurityHub,
        compliance_status: None,
        control_id: None,
        created_at: at(minutes),
        updated_at: at(minutes),
    }
}
