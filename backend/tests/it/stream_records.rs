//! DynamoDB Streams records of a table in the emulator, as the `fanout` Lambda
//! receives them: the records are read with the Streams API (moto records real
//! INSERT/MODIFY/REMOVE records for our writes) and placed in the recorded Lambda
//! event from the `aws_lambda_events` fixtures. The Streams calls go over plain
//! HTTP (the emulator does not check signatures), so no extra SDK crate is built.

use crate::corpus::lambda_fixture;
use aws_lambda_events::event::dynamodb::Event;
use serde_json::{json, Value};

async fn call(endpoint: &str, target: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("DynamoDBStreams_20120810.{target}"))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x",
        )
        .body(body.to_string())
        .send()
        .await
        .expect("streams call")
        .json()
        .await
        .expect("streams answer")
}

/// Every stream record of `table` so far, oldest first, as the raw JSON records.
pub async fn raw_records(
    endpoint: &str,
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Vec<Value> {
    let arn = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .latest_stream_arn
        .expect("the table has a stream");
    let desc = call(endpoint, "DescribeStream", json!({"StreamArn": arn})).await;
    let mut out = Vec::new();
    for shard in desc["StreamDescription"]["Shards"].as_array().unwrap() {
        let it = call(
            endpoint,
            "GetShardIterator",
            json!({"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
        let mut iterator = it["ShardIterator"].clone();
        loop {
            let page = call(endpoint, "GetRecords", json!({"ShardIterator": iterator})).await;
            let records = page["Records"].as_array().cloned().unwrap_or_default();
            if records.is_empty() {
                break;
            }
            for mut r in records {
                r["eventSourceARN"] = Value::String(arn.clone());
                out.push(r);
            }
            iterator = page["NextShardIterator"].clone();
            if iterator.is_null() {
                break;
            }
        }
    }
    out
}

/// The recorded Lambda event with `records` in it.
pub fn lambda_event(records: &[Value]) -> Event {
    let mut event = lambda_fixture("example-dynamodb-event.json");
    event["Records"] = Value::Array(records.to_vec());
    serde_json::from_value(event).expect("a DynamoDB stream event")
}
