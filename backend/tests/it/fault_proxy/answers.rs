//! What the proxy answers instead of AWS: each protocol's own error shape, as
//! the service sends it, so the SDK classifies it (throttling is retried,
//! access denied is not) exactly as it would AWS's answer. The bodies follow
//! the services' documented error responses.

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// A fault to inject into one operation's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The service's throttling error (S3 `SlowDown` 503, EC2
    /// `RequestLimitExceeded` 503, IAM `Throttling` 400, DynamoDB
    /// `ProvisionedThroughputExceededException` 400).
    Throttle,
    /// The service's access-denied error (S3 `AccessDenied` 403, EC2
    /// `UnauthorizedOperation` 403, IAM `AccessDenied` 403, JSON services
    /// `AccessDeniedException` 400).
    Deny,
    /// A success that is never forwarded: AWS said yes, yet the change is not
    /// there when read back.
    Pretend,
}

/// How a request is framed, which decides how its operation is named and how
/// an error looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// `X-Amz-Target` and a JSON body (DynamoDB, KMS, CloudTrail…).
    Json { dynamodb: bool },
    /// A form body with `Action=` and EC2's own error envelope.
    Ec2Query,
    /// A form body with `Action=` (IAM, STS, SNS…).
    Query,
    /// REST with XML (S3).
    RestXml,
}

/// A call as the proxy sees it.
pub struct Call {
    protocol: Protocol,
    /// The API operation: the target's suffix, the form's `Action`, or for S3
    /// the verb and the sub-resource (`PUT ?publicAccessBlock` is
    /// `PutPublicAccessBlock`) unless the SDK names it in `x-id`.
    pub operation: String,
}

impl Call {
    /// Reads the operation and protocol of a request.
    pub fn of(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Call {
        if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
            return Call {
                protocol: Protocol::Json {
                    dynamodb: target.starts_with("DynamoDB"),
                },
                operation: target.rsplit('.').next().unwrap_or("").to_string(),
            };
        }
        let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        if let Some((_, action)) = form.iter().find(|(k, _)| k == "Action") {
            // EC2's API version; its errors have their own envelope.
            let ec2 = form
                .iter()
                .any(|(k, v)| k == "Version" && v == "2016-11-15");
            return Call {
                protocol: if ec2 {
                    Protocol::Ec2Query
                } else {
                    Protocol::Query
                },
                operation: action.clone(),
            };
        }
        Call {
            protocol: Protocol::RestXml,
            operation: rest_operation(method, uri.query().unwrap_or("")),
        }
    }

    /// The answer `fault` gives this call.
    pub fn answer(&self, fault: Fault) -> Response {
        let op = &self.operation;
        let (status, content_type, body) = match (self.protocol, fault) {
            (Protocol::Json { dynamodb }, Fault::Throttle) => {
                let kind = if dynamodb {
                    "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
                } else {
                    "ThrottlingException"
                };
                (400, JSON, json_error(kind, "injected by the test proxy"))
            }
            (Protocol::Json { .. }, Fault::Deny) => (
                400,
                JSON,
                json_error("AccessDeniedException", "injected by the test proxy"),
            ),
            (Protocol::Json { .. }, Fault::Pretend) => (200, JSON, "{}".to_string()),
            (Protocol::Ec2Query, Fault::Throttle) => (
                503,
                XML,
                ec2_error("RequestLimitExceeded", "Request limit exceeded."),
            ),
            (Protocol::Ec2Query, Fault::Deny) => (
                403,
                XML,
                ec2_error(
                    "UnauthorizedOperation",
                    "You are not authorized to perform this operation.",
                ),
            ),
            (Protocol::Ec2Query, Fault::Pretend) => (
                200,
                XML,
                format!(
                    r#"<{op}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>{REQUEST_ID}</requestId><return>true</return></{op}Response>"#
                ),
            ),
            (Protocol::Query, Fault::Throttle) => {
                (400, XML, query_error("Throttling", "Rate exceeded"))
            }
            (Protocol::Query, Fault::Deny) => (
                403,
                XML,
                query_error("AccessDenied", "User is not authorized to perform this action"),
            ),
            (Protocol::Query, Fault::Pretend) => (
                200,
                XML,
                format!(
                    "<{op}Response><ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata></{op}Response>"
                ),
            ),
            (Protocol::RestXml, Fault::Throttle) => (
                503,
                XML,
                s3_error("SlowDown", "Please reduce your request rate."),
            ),
            (Protocol::RestXml, Fault::Deny) => (403, XML, s3_error("AccessDenied", "Access Denied")),
            (Protocol::RestXml, Fault::Pretend) => (200, XML, String::new()),
        };
        (
            StatusCode::from_u16(status).expect("a status"),
            [("content-type", content_type)],
            body,
        )
            .into_response()
    }
}

const JSON: &str = "application/x-amz-json-1.0";
const XML: &str = "text/xml";
const REQUEST_ID: &str = "00000000-0000-0000-0000-fa017fa017fa";

fn json_error(kind: &str, message: &str) -> String {
    serde_json::json!({"__type": kind, "message": message}).to_string()
}

fn ec2_error(code: &str, message: &str) -> String {
    format!(
        "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{REQUEST_ID}</RequestID></Response>"
    )
}

fn query_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"
    )
}

fn s3_error(code: &str, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>{REQUEST_ID}</RequestId></Error>"#
    )
}

/// An S3 operation's name from its verb and query: `x-id` when the SDK sends
/// it, else the verb and the bare sub-resource key, else the verb alone.
fn rest_operation(method: &Method, query: &str) -> String {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if let Some((_, id)) = pairs.iter().find(|(k, _)| k == "x-id") {
        return id.clone();
    }
    let verb = match *method {
        Method::GET => "Get",
        Method::PUT => "Put",
        Method::DELETE => "Delete",
        Method::POST => "Post",
        Method::HEAD => "Head",
        _ => "Other",
    };
    let sub = query
        .split('&')
        .find(|p| !p.is_empty() && !p.contains('='))
        .unwrap_or("");
    let mut name = verb.to_string();
    let mut chars = sub.chars();
    if let Some(first) = chars.next() {
        name.extend(first.to_uppercase());
        name.extend(chars);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_operations_are_named_from_the_verb_and_the_sub_resource() {
        assert_eq!(
            rest_operation(&Method::PUT, "publicAccessBlock"),
            "PutPublicAccessBlock"
        );
        assert_eq!(
            rest_operation(&Method::GET, "publicAccessBlock"),
            "GetPublicAccessBlock"
        );
        assert_eq!(rest_operation(&Method::GET, "tagging"), "GetTagging");
        assert_eq!(rest_operation(&Method::GET, "x-id=GetObject"), "GetObject");
    }
}
