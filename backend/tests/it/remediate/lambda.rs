//! `lambda-remove-public-access` through the binary against the emulator
//! (moto supports AddPermission, GetPolicy, RemovePermission and function URL
//! configs without running the function): a function with a public grant, a
//! grant to S3 for one bucket and a function URL with auth NONE; planned,
//! applied, read back (the public grant gone, the S3 grant kept, the URL on
//! AWS_IAM), re-applied with no call.

use super::stored::{store_finding, Stored};
use super::*;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, FunctionUrlAuthType, Runtime};

const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// An empty zip archive (end of central directory only): the function is
/// created, never run.
const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// The function's policy statement ids, sorted.
pub(super) async fn sids(lambda: &aws_sdk_lambda::Client, function: &str) -> Vec<String> {
    let Ok(out) = lambda.get_policy().function_name(function).send().await else {
        return Vec::new();
    };
    let doc: Value = serde_json::from_str(out.policy().unwrap()).unwrap();
    let mut s: Vec<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["Sid"].as_str().unwrap().to_string())
        .collect();
    s.sort();
    s
}

async fn url_auth(lambda: &aws_sdk_lambda::Client, function: &str) -> FunctionUrlAuthType {
    let out = lambda
        .get_function_url_config()
        .function_name(function)
        .send()
        .await
        .unwrap();
    out.auth_type().clone()
}

/// A function anyone can invoke, its client and the finding of that grant.
pub(super) struct PublicFunction {
    /// The finding.
    pub stored: Stored,
    /// The emulator's Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// The function's name.
    pub function: String,
}

/// A function with a public grant (as the corpus event recorded it), a grant to
/// S3 for one bucket and a function URL with auth NONE, and the event's finding;
/// `None` without the emulator.
pub(super) async fn public_function(test: &str) -> Option<PublicFunction> {
    let endpoint = endpoint(test)?;
    let sdk = sdk_config(&endpoint).await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let role = unique("rem-fn-role");
    let role_arn = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(LAMBDA_TRUST)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    let function = unique("rem-fn");
    lambda
        .create_function()
        .function_name(&function)
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .role(&role_arn)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(EMPTY_ZIP.to_vec()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Stratus Red Team's real AddPermission20150331v2 event (principal "*"),
    // changed where needed: its anonymised account 880896431042 and region
    // ca-centralnorth-1r to the emulator's 123456789012 and us-east-1, the
    // function name to this test's. The grant it records is made as recorded.
    let path = corpus_dir().join(
        "cloudtrail/stratus__aws.persistence.lambda-backdoor-function_AddPermission20150331v2.json",
    );
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("880896431042", "123456789012")
        .replace("ca-centralnorth-1r", "us-east-1")
        .replace("stratus-red-team-backdoor-f-func", &function);
    let event: Value = serde_json::from_str(&text).unwrap();
    let record = event.get("detail").unwrap_or(&event);
    let params = &record["requestParameters"];
    lambda
        .add_permission()
        .function_name(&function)
        .statement_id(params["statementId"].as_str().unwrap())
        .action(params["action"].as_str().unwrap())
        .principal(params["principal"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    lambda
        .add_permission()
        .function_name(&function)
        .statement_id("s3-one-bucket")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::rem-uploads")
        .send()
        .await
        .unwrap();
    lambda
        .create_function_url_config()
        .function_name(&function)
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .unwrap();
    let stored = store_finding(endpoint, &event, "aws.lambda.made-public").await;
    Some(PublicFunction {
        stored,
        lambda,
        function,
    })
}

#[tokio::test]
async fn the_public_grant_and_open_url_go_and_the_pinned_grant_stays() {
    let Some(PublicFunction {
        stored: s,
        lambda,
        function,
    }) = public_function("remediate_lambda").await
    else {
        return;
    };
    let config = s.config("lambda-remove-public-access", "");

    let plan = s.plan(&config);
    assert_eq!(
        plan["calls"],
        json!([
            {"service": "lambda", "operation": "RemovePermission",
             "params": {"FunctionName": function, "StatementId": "backdoor"}},
            {"service": "lambda", "operation": "UpdateFunctionUrlConfig",
             "params": {"FunctionName": function, "AuthType": "AWS_IAM"}}
        ])
    );
    assert!(
        plan["after"]
            .as_str()
            .unwrap()
            .contains("\"s3-one-bucket\" stay"),
        "{plan}"
    );
    s.apply(&config);
    assert_eq!(sids(&lambda, &function).await, ["s3-one-bucket"]);
    assert_eq!(
        url_auth(&lambda, &function).await,
        FunctionUrlAuthType::AwsIam
    );
    assert_eq!(s.status().await, WorkflowStatus::Resolved);
    let ledger = ledger_lines(s.dir.path());
    assert_eq!(
        ledger[0]["record"]["removed_statements"][0]["Sid"],
        "backdoor"
    );

    s.reopen().await;
    assert!(s.apply(&config).starts_with("nothing left to do"));
    assert_eq!(
        ledger_lines(s.dir.path()).len(),
        2,
        "no call the second time"
    );
}
