//! Two SNS topics in the emulator delivering to one SQS queue, so a test can read
//! what was published.

use crate::aws_env::{sdk_config, unique};
use serde_json::Value;

/// Two SNS topics delivering to one SQS queue in the emulator.
pub struct Topics {
    /// Reads the queue.
    pub sqs: aws_sdk_sqs::Client,
    /// The queue.
    pub queue_url: String,
    /// Standard topic ARN.
    pub standard: String,
    /// Critical topic ARN.
    pub critical: String,
}

pub async fn topics(ep: &str) -> Topics {
    let sdk = sdk_config(ep).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name(unique("alerts"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn =
        attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    let mut arns = Vec::new();
    for name in ["standard", "critical"] {
        let arn = sns
            .create_topic()
            .name(unique(name))
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .send()
            .await
            .unwrap();
        arns.push(arn);
    }
    Topics {
        sqs,
        queue_url,
        critical: arns.pop().unwrap(),
        standard: arns.pop().unwrap(),
    }
}

/// Every SNS notification waiting in the queue: `(topic arn, subject, message)`.
pub async fn drain(t: &Topics) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    loop {
        let r = t
            .sqs
            .receive_message()
            .queue_url(&t.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let msgs = r.messages();
        if msgs.is_empty() {
            return out;
        }
        for m in msgs {
            let n: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            out.push((
                n["TopicArn"].as_str().unwrap_or_default().to_string(),
                n["Subject"].as_str().unwrap_or_default().to_string(),
                n["Message"].as_str().unwrap_or_default().to_string(),
            ));
            t.sqs
                .delete_message()
                .queue_url(&t.queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}
