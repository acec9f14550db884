//! The facts an analyst needs first from the event behind a finding, read from
//! its raw document: for an API call, who made it (user ARN, access key), what
//! it created (a new access key's id), from where (source IP, region, user
//! agent); for an alarm, its name, state change and reason. Pure, so it is
//! tested natively; the detail page renders the pairs as text (never HTML).

use serde_json::Value;

/// Labelled facts in display order; empty when the document is neither a
/// CloudTrail record nor an alarm state change.
pub fn incident_fields(raw: &Value) -> Vec<(&'static str, String)> {
    let doc = raw.get("detail").filter(|d| d.is_object()).unwrap_or(raw);
    if doc.get("eventName").is_some() {
        api_call(doc)
    } else if doc.get("alarmName").is_some() || raw.get("AlarmName").is_some() {
        alarm(doc, raw)
    } else {
        Vec::new()
    }
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    match cur {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn api_call(r: &Value) -> Vec<(&'static str, String)> {
    let actor = text(r, &["userIdentity", "arn"]).or_else(|| {
        // Roles assumed through SAML/OIDC and AWS services carry no `arn`.
        let kind = text(r, &["userIdentity", "type"])?;
        let who = text(r, &["userIdentity", "principalId"])
            .or_else(|| text(r, &["userIdentity", "invokedBy"]))
            .unwrap_or_default();
        Some(format!("{kind} {who}").trim().to_string())
    });
    let call = match (text(r, &["eventSource"]), text(r, &["eventName"])) {
        (Some(s), Some(n)) => Some(format!("{n} ({s})")),
        (None, n) => n,
        (s, None) => s,
    };
    let new_key = text(r, &["responseElements", "accessKey", "accessKeyId"]);
    let target_user = text(r, &["requestParameters", "userName"])
        .or_else(|| text(r, &["responseElements", "accessKey", "userName"]));
    let failed = text(r, &["errorCode"]).map(|c| match text(r, &["errorMessage"]) {
        Some(m) => format!("{c}: {m}"),
        None => c,
    });
    [
        ("API call", call),
        ("User ARN", actor),
        ("Access key id", new_key),
        ("For user", target_user),
        (
            "Caller's access key",
            text(r, &["userIdentity", "accessKeyId"]),
        ),
        ("Source IP", text(r, &["sourceIPAddress"])),
        ("Region", text(r, &["awsRegion"])),
        ("User agent", text(r, &["userAgent"])),
        ("Event time", text(r, &["eventTime"])),
        ("Failed with", failed),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

fn alarm(detail: &Value, raw: &Value) -> Vec<(&'static str, String)> {
    // EventBridge "CloudWatch Alarm State Change" or the SNS notification body.
    let pick = |eb: &[&str], sns: &str| text(detail, eb).or_else(|| text(raw, &[sns]));
    let change = match (
        pick(&["previousState", "value"], "OldStateValue"),
        pick(&["state", "value"], "NewStateValue"),
    ) {
        (Some(from), Some(to)) => Some(format!("{from} → {to}")),
        (None, to) => to,
        (from, None) => from.map(|f| format!("{f} → ?")),
    };
    [
        ("Alarm", pick(&["alarmName"], "AlarmName")),
        ("State", change),
        ("Reason", pick(&["state", "reason"], "NewStateReason")),
        (
            "Region",
            text(raw, &["region"]).or_else(|| text(raw, &["Region"])),
        ),
        (
            "Account",
            text(raw, &["account"]).or_else(|| text(raw, &["AWSAccountId"])),
        ),
        (
            "Changed at",
            pick(&["state", "timestamp"], "StateChangeTime"),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get<'a>(fields: &'a [(&'static str, String)], k: &str) -> Option<&'a str> {
        fields
            .iter()
            .find(|(l, _)| *l == k)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_new_access_key_shows_who_what_and_from_where() {
        let record = json!({
            "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
            "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.0", "eventTime": "2024-05-01T10:00:00Z",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accessKeyId": "AKIAOLD"},
            "requestParameters": {"userName": "bob"},
            "responseElements": {"accessKey": {"accessKeyId": "AKIANEW", "userName": "bob"}}
        });
        // The same record inside an EventBridge envelope reads the same.
        let envelope =
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": record.clone()});
        for doc in [record, envelope] {
            let f = incident_fields(&doc);
            assert_eq!(
                get(&f, "User ARN"),
                Some("arn:aws:iam::111122223333:user/alice")
            );
            assert_eq!(get(&f, "Access key id"), Some("AKIANEW"));
            assert_eq!(get(&f, "For user"), Some("bob"));
            assert_eq!(get(&f, "Source IP"), Some("203.0.113.7"));
            assert_eq!(get(&f, "Region"), Some("us-east-1"));
            assert_eq!(get(&f, "User agent"), Some("aws-cli/2.15.0"));
            assert_eq!(
                get(&f, "API call"),
                Some("CreateAccessKey (iam.amazonaws.com)")
            );
            assert_eq!(get(&f, "Failed with"), None);
        }
    }

    #[test]
    fn a_federated_caller_without_an_arn_and_a_failed_call_are_named() {
        let f = incident_fields(&json!({
            "eventName": "CreateAccessKey", "errorCode": "AccessDenied", "errorMessage": "no",
            "userIdentity": {"type": "WebIdentityUser", "principalId": "accounts.google.com:123"}
        }));
        assert_eq!(
            get(&f, "User ARN"),
            Some("WebIdentityUser accounts.google.com:123")
        );
        assert_eq!(get(&f, "Failed with"), Some("AccessDenied: no"));
    }

    #[test]
    fn alarms_show_their_state_change_in_both_delivery_shapes() {
        let eb = json!({"region": "us-east-1", "account": "1", "detail": {
            "alarmName": "cpu", "state": {"value": "ALARM", "reason": "Threshold Crossed"},
            "previousState": {"value": "OK"}}});
        let f = incident_fields(&eb);
        assert_eq!(get(&f, "Alarm"), Some("cpu"));
        assert_eq!(get(&f, "State"), Some("OK → ALARM"));
        assert_eq!(get(&f, "Reason"), Some("Threshold Crossed"));
        let sns = json!({"AlarmName": "cpu", "NewStateValue": "OK", "OldStateValue": "ALARM", "Region": "EU (Ireland)"});
        let f = incident_fields(&sns);
        assert_eq!(get(&f, "State"), Some("ALARM → OK"));
        assert_eq!(get(&f, "Region"), Some("EU (Ireland)"));
    }

    #[test]
    fn other_documents_have_no_incident_panel() {
        assert!(incident_fields(&json!({"SchemaVersion": "2018-10-08", "Id": "x"})).is_empty());
        assert!(incident_fields(&json!("text")).is_empty());
        assert!(incident_fields(&json!({"detail": "not an object"})).is_empty());
    }
}
