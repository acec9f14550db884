//! Security Hub SDK findings back to ASFF JSON, so synced findings go through the
//! same normalizer as EventBridge events. The SDK's types do not derive serde, so
//! the fields the normalizer reads are copied explicitly (absent ones are left out,
//! never written as `null`). The raw document of a synced finding is this subset.

use aws_sdk_securityhub::types::AwsSecurityFinding;
use serde_json::{json, Map, Value};

fn put(m: &mut Map<String, Value>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        m.insert(k.to_string(), Value::String(v.to_string()));
    }
}

/// The ASFF JSON of one finding.
pub fn to_asff(f: &AwsSecurityFinding) -> Value {
    let mut m = Map::new();
    put(&mut m, "SchemaVersion", f.schema_version());
    put(&mut m, "Id", f.id());
    put(&mut m, "ProductArn", f.product_arn());
    put(&mut m, "ProductName", f.product_name());
    put(&mut m, "CompanyName", f.company_name());
    put(&mut m, "Region", f.region());
    put(&mut m, "GeneratorId", f.generator_id());
    put(&mut m, "AwsAccountId", f.aws_account_id());
    m.insert("Types".into(), json!(f.types()));
    put(&mut m, "FirstObservedAt", f.first_observed_at());
    put(&mut m, "LastObservedAt", f.last_observed_at());
    put(&mut m, "CreatedAt", f.created_at());
    put(&mut m, "UpdatedAt", f.updated_at());
    put(&mut m, "Title", f.title());
    put(&mut m, "Description", f.description());
    put(&mut m, "SourceUrl", f.source_url());
    if let Some(s) = f.severity() {
        let mut sev = Map::new();
        put(&mut sev, "Label", s.label().map(|l| l.as_str()));
        if let Some(n) = s.normalized() {
            sev.insert("Normalized".into(), json!(n));
        }
        put(&mut sev, "Original", s.original());
        if let Some(p) = s.product() {
            sev.insert("Product".into(), json!(p));
        }
        m.insert("Severity".into(), Value::Object(sev));
    }
    if let Some(r) = f.remediation().and_then(|r| r.recommendation()) {
        let mut rec = Map::new();
        put(&mut rec, "Text", r.text());
        put(&mut rec, "Url", r.url());
        m.insert("Remediation".into(), json!({ "Recommendation": rec }));
    }
    if let Some(pf) = f.product_fields() {
        m.insert("ProductFields".into(), json!(pf));
    }
    let resources: Vec<Value> = f
        .resources()
        .iter()
        .map(|r| {
            let mut o = Map::new();
            put(&mut o, "Type", r.r#type());
            put(&mut o, "Id", r.id());
            put(&mut o, "Partition", r.partition().map(|p| p.as_str()));
            put(&mut o, "Region", r.region());
            Value::Object(o)
        })
        .collect();
    m.insert("Resources".into(), Value::Array(resources));
    if let Some(c) = f.compliance() {
        let mut o = Map::new();
        put(&mut o, "Status", c.status().map(|s| s.as_str()));
        put(&mut o, "SecurityControlId", c.security_control_id());
        m.insert("Compliance".into(), Value::Object(o));
    }
    if let Some(w) = f.workflow().and_then(|w| w.status()) {
        m.insert("Workflow".into(), json!({ "Status": w.as_str() }));
    }
    put(
        &mut m,
        "WorkflowState",
        f.workflow_state().map(|w| w.as_str()),
    );
    put(&mut m, "RecordState", f.record_state().map(|r| r.as_str()));
    Value::Object(m)
}
