//! The DynamoDB store against the shared store contract, on the AWS emulator.

use super::aws_env::{self, dynamo_store_at};
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
