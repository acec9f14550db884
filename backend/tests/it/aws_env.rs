//! The AWS emulator for tests: `scripts/with_moto.sh` starts moto and sets
//! `CSPM_TEST_AWS_ENDPOINT`. Without it, AWS tests fail under `CI=true` and
//! otherwise skip loudly, so a plain `cargo test` works on any machine.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use cspm::retry::Backoff;
use cspm::store::dynamo::{schema, DynamoSettings, DynamoStore};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The emulator endpoint, or `None` (after printing why) when AWS tests must skip.
pub fn endpoint(test: &str) -> Option<String> {
    match std::env::var("CSPM_TEST_AWS_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: CSPM_TEST_AWS_ENDPOINT is not set under CI=true; run through scripts/with_moto.sh");
            }
            eprintln!("!!!! SKIPPED {test}: no AWS emulator (run `scripts/with_moto.sh cargo test -p backend --test it`) !!!!");
            None
        }
    }
}

/// SDK configuration for the emulator: static test credentials, us-east-1.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// A name no other test uses (tests share one emulator and run in parallel).
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        uuid::Uuid::new_v4().simple()
    )
}

/// Fast retries so tests that inject throttling stay quick.
pub fn test_backoff() -> Backoff {
    Backoff {
        max_attempts: 6,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(10),
    }
}

/// A DynamoDB store over a fresh table at `endpoint`.
pub async fn dynamo_store_at(endpoint: &str) -> DynamoStore {
    dynamo_store_with(endpoint, |_| {}).await
}

/// [`dynamo_store_at`] with its settings adjusted by `tune`.
pub async fn dynamo_store_with(
    endpoint: &str,
    tune: impl FnOnce(&mut DynamoSettings),
) -> DynamoStore {
    let sdk = sdk_config(endpoint).await;
    let client = cspm::aws::dynamodb_client(&sdk);
    let table = unique("findings");
    schema::create_table(&client, &table)
        .await
        .expect("create table in the emulator");
    let mut settings = emulator_settings(&table);
    tune(&mut settings);
    DynamoStore::new(client, settings)
}

/// Store settings for the emulator: writes one at a time, so request counts and
/// outcomes are reproducible. (Plain moto applies a conditional write as an
/// unlocked read-then-write; `scripts/moto_server.py` serializes them, which tests
/// that race two writers on purpose rely on.) Lost races are still exercised: a
/// batch that holds several versions of one finding takes the condition-failed path.
pub fn emulator_settings(table: &str) -> DynamoSettings {
    let mut settings = DynamoSettings::new(table, cspm::config::DEFAULT_RETENTION_DAYS);
    settings.backoff = test_backoff();
    settings.concurrency = 1;
    settings
}

/// A fresh table named after `prefix` whose only key is the string hash key `key`
/// (the live connections, the tickets' state table).
pub async fn key_table(client: &aws_sdk_dynamodb::Client, prefix: &str, key: &str) -> String {
    use aws_sdk_dynamodb::types::*;
    let name = unique(prefix);
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
    name
}

/// A table attribute's definition.
fn attr(
    name: &str,
    t: aws_sdk_dynamodb::types::ScalarAttributeType,
) -> aws_sdk_dynamodb::types::AttributeDefinition {
    aws_sdk_dynamodb::types::AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .unwrap()
}

/// A key schema element.
fn key(
    name: &str,
    t: aws_sdk_dynamodb::types::KeyType,
) -> aws_sdk_dynamodb::types::KeySchemaElement {
    aws_sdk_dynamodb::types::KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .unwrap()
}

/// A fresh fan-out state table as Terraform makes it (modules/data/dynamodb.tf):
/// hash key `pk`, and the sparse index `due` (`due_sink`, `flush_at`, keys only)
/// the throttled channels' digest windows are found by.
pub async fn fanout_state_table(client: &aws_sdk_dynamodb::Client) -> String {
    use aws_sdk_dynamodb::types::*;
    let name = unique("fanout-state");
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("due_sink", ScalarAttributeType::S))
        .attribute_definitions(attr("flush_at", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(cspm::sinks::throttle::dynamo::DUE_INDEX)
                .key_schema(key("due_sink", KeyType::Hash))
                .key_schema(key("flush_at", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create the fan-out state table");
    name
}

/// A fresh remediations table as Terraform makes it (modules/data/dynamodb.tf):
/// hash key `id`, indexes `FindingIndex` (`finding_id`, `requested_at`) and
/// `TimeIndex` (`kind`, `requested_at`) and `StatusIndex` (`status`,
/// `requested_at`), all projecting everything.
pub async fn remediations_table(client: &aws_sdk_dynamodb::Client) -> String {
    use aws_sdk_dynamodb::types::*;
    use cspm::remediate::aws::{FINDING_INDEX, STATUS_INDEX, TIME_INDEX};
    let name = unique("remediations");
    let index = |name: &str, hash: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash))
            .key_schema(key("requested_at", KeyType::Range))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("id", ScalarAttributeType::S))
        .attribute_definitions(attr("finding_id", ScalarAttributeType::S))
        .attribute_definitions(attr("kind", ScalarAttributeType::S))
        .attribute_definitions(attr("status", ScalarAttributeType::S))
        .attribute_definitions(attr("requested_at", ScalarAttributeType::N))
        .key_schema(key("id", KeyType::Hash))
        .global_secondary_indexes(index(FINDING_INDEX, "finding_id"))
        .global_secondary_indexes(index(TIME_INDEX, "kind"))
        .global_secondary_indexes(index(STATUS_INDEX, "status"))
        .send()
        .await
        .expect("create the remediations table");
    name
}

/// A fresh SQS queue's URL.
pub async fn sqs_queue(sdk: &SdkConfig, prefix: &str) -> String {
    aws_sdk_sqs::Client::new(sdk)
        .create_queue()
        .queue_name(unique(prefix))
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url")
}

/// Writes a SecureString parameter (as Terraform or an operator does).
pub async fn put_secure(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutParameter {name}: {e:?}"));
}
