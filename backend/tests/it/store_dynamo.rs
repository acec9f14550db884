//! The DynamoDB store against the shared store contract, on the AWS emulator.

use super::aws_env::{self, dynamo_store_at, dynamo_store_with};
use super::store_contract::{run_contract, StoreFactory};
use cspm::store::Store;
use std::sync::Arc;

#[tokio::test]
async fn dynamo_store_passes_the_store_contract() {
    let Some(ep) = aws_env::endpoint("dynamo_store_passes_the_store_contract") else {
        return;
    };
    let factory: StoreFactory = Box::new(move || {
        let ep = ep.clone();
        Box::pin(async move { Arc::new(dynamo_store_at(&ep).await) as Arc<dyn Store> })
    });
    run_contract(&factory).await;
}

#[tokio::test]
async fn dynamo_count_estimates_stay_within_their_bound() {
    let Some(ep) = aws_env::endpoint("dynamo_count_estimates_stay_within_their_bound") else {
        return;
    };
    // 40 index entries per count: most q/since/until views of 260 findings
    // cannot be read to the end.
    let store = dynamo_store_with(&ep, |s| s.count_budget = Some(40)).await;
    let estimates =
        super::store_contract::count::estimates_stay_within_their_bound(Arc::new(store)).await;
    assert!(estimates >= 5, "only {estimates} estimates");
}
