//! The organisation's lists on AWS, against the emulator: the `detection_settings`
//! parameter under the SSM prefix, read at cold start the way `boot::load` reads it
//! (`read_ssm_parameters` + `overlay_ssm`), reaches the rules of the pipeline the
//! scanner and api Lambdas build; without it the decoy rule stays inert.

use crate::aws_env::{endpoint, sdk_config, unique};
use crate::helpers::corpus_dir;
use aws_sdk_ssm::types::ParameterType;
use cspm::config::lambda::{read_ssm_parameters, LambdaConfig, SSM_DETECTION_SETTINGS};
use cspm::lambda::boot;
use cspm::pipeline::Pipeline;
use cspm::store::{SqliteStore, Store};
use serde_json::Value;
use shared_types::FindingFilter;
use std::sync::Arc;

/// The rule that reports calls naming a decoy (`backend/rules/honeytoken-accessed.yaml`).
const DECOY_RULE: &str = "aws.honeytoken.accessed";

/// A real EventBridge CloudTrail event (what the scanner receives): `CreateBucket` of
/// the bucket `cwe-test`, on which no built-in rule fires with the shipped lists.
fn create_bucket_event() -> Value {
    let path = corpus_dir().join("cloudtrail/custodian__event-cloud-trail-s3.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// A cold start of the scanner: its environment as Terraform sets it, then every
/// parameter under the prefix laid over it, as `boot::load` does.
async fn cold_start(ssm: &aws_sdk_ssm::Client, prefix: &str) -> LambdaConfig {
    let mut config = LambdaConfig::from_lookup(|k| match k {
        "CSPM_TABLE_NAME" => Some("findings".to_string()),
        "CSPM_SSM_PREFIX" => Some(prefix.to_string()),
        _ => None,
    })
    .unwrap();
    let params = read_ssm_parameters(ssm, prefix)
        .await
        .unwrap_or_else(|e| panic!("GetParametersByPath {prefix}: {e:?}"));
    if let Err(e) = config.overlay_ssm(&params) {
        panic!("the cold start failed: {e}");
    }
    config
}

/// The rule ids of the findings the Lambdas' pipeline for `config` stores from
/// `doc` (its normalizer over a fresh SQLite store instead of the table).
async fn stored_rule_ids(config: &LambdaConfig, doc: &Value) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let pipeline = Pipeline::new(Arc::new(boot::normalizer(config)), store.clone());
    let outcome = pipeline.run_document("event", doc).await.unwrap();
    assert!(outcome.rejected.is_empty(), "{outcome:?}");
    let page = store
        .list(&FindingFilter::default(), 10, None)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for item in &page.items {
        let detail = store
            .get(&item.id)
            .await
            .unwrap()
            .expect("a listed finding");
        ids.push(detail.finding.generator_id);
    }
    ids
}

#[tokio::test]
async fn a_decoy_named_in_the_detection_settings_parameter_is_reported_and_not_without_it() {
    let Some(ep) = endpoint("detection_settings_from_ssm") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let prefix = format!("/{}/", unique("cspm"));
    let event = create_bucket_event();

    // No parameter (Terraform creates none while detection_settings_yaml is empty):
    // the shipped empty lists, the decoy rule inert, nothing stored.
    let config = cold_start(&ssm, &prefix).await;
    assert!(config.detection_settings.honeytoken_resources.is_empty());
    assert_eq!(stored_rule_ids(&config, &event).await, Vec::<String>::new());

    // The parameter as Terraform writes it (a plain String) names the bucket.
    let name = format!("{prefix}{SSM_DETECTION_SETTINGS}");
    ssm.put_parameter()
        .name(&name)
        .value("# the format of detection-settings.yaml\nhoneytoken_resources: [cwe-test]\n")
        .r#type(ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutParameter {name}: {e:?}"));
    let config = cold_start(&ssm, &prefix).await;
    assert_eq!(config.detection_settings.honeytoken_resources, ["cwe-test"]);
    assert_eq!(stored_rule_ids(&config, &event).await, [DECOY_RULE]);
}
