//! The remediation ports on AWS, for the `remediator` Lambda and the `api`
//! Lambda: the queue is SQS ([`SqsQueue`], a dead-letter queue behind it), the
//! records and the per-account attempt counts are items of one DynamoDB table
//! ([`DynamoRecords`], [`DynamoLedger`]; `<prefix>-remediations`, string hash
//! key `id`, indexes `FindingIndex`, `TimeIndex` and `StatusIndex` as Terraform
//! makes them).

mod ledger;
pub mod queue;
mod records;

pub use ledger::DynamoLedger;
pub use queue::SqsQueue;
pub use records::{DynamoRecords, FINDING_INDEX, STATUS_INDEX, TIME_INDEX};
