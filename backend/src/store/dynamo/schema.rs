//! Creates the findings table the way Terraform does (tests create one table each;
//! `cspm` can create one in an emulator). Keep in step with `terraform/` and
//! `docs/dynamodb.md`.

use super::error::{Call, DynamoError};
use super::item::{change_projection, LIST_PROJECTION};
use super::resources::{RANK_ATTR, RANK_INDEX_NAME, RANK_PART_ATTR};
use super::{CHANGE_INDEX_NAME, INDEX_NAME};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};

/// TTL attribute (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Creates the table (on-demand billing) with its GSI and TTL, if it does not exist.
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), DynamoError> {
    let create = Call::new("CreateTable", table);
    let ttl = Call::new("UpdateTimeToLive", table);
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let index = |name: &str, range: &str, projected: &[&str]| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key("severity", KeyType::Hash).map_err(|e| create.error(&e))?)
            .key_schema(key(range, KeyType::Range).map_err(|e| create.error(&e))?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::Include)
                    .set_non_key_attributes(Some(projected.iter().map(|s| s.to_string()).collect()))
                    .build(),
            )
            .build()
            .map_err(|e| create.error(&e))
    };
    // The list's filters and groupings read `generator_id` on this index too
    // (Terraform projects ALL attributes on it).
    let by_time_projection: Vec<&str> = LIST_PROJECTION
        .iter()
        .copied()
        .chain(["generator_id"])
        .collect();
    let by_time = index(INDEX_NAME, "updated_at", &by_time_projection)?;
    let by_change = index(CHANGE_INDEX_NAME, "changed_at", &change_projection())?;
    // Resource items only (no other item has `rank_part`); ALL, since their
    // tally attributes are named by what they count.
    let by_rank = GlobalSecondaryIndex::builder()
        .index_name(RANK_INDEX_NAME)
        .key_schema(key(RANK_PART_ATTR, KeyType::Hash).map_err(|e| create.error(&e))?)
        .key_schema(key(RANK_ATTR, KeyType::Range).map_err(|e| create.error(&e))?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| create.error(&e))?;
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("id").map_err(|e| create.error(&e))?)
        .attribute_definitions(attr("severity").map_err(|e| create.error(&e))?)
        .attribute_definitions(attr("updated_at").map_err(|e| create.error(&e))?)
        .attribute_definitions(attr("changed_at").map_err(|e| create.error(&e))?)
        .attribute_definitions(attr(RANK_PART_ATTR).map_err(|e| create.error(&e))?)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(RANK_ATTR)
                .attribute_type(ScalarAttributeType::N)
                .build()
                .map_err(|e| create.error(&e))?,
        )
        .key_schema(key("id", KeyType::Hash).map_err(|e| create.error(&e))?)
        .global_secondary_indexes(by_time)
        .global_secondary_indexes(by_change)
        .global_secondary_indexes(by_rank)
        // The change feed on AWS: the `fanout` Lambda reads every change from it.
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(|e| create.error(&e))?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return Ok(())
        }
        Err(e) => return Err(create.error(&e)),
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(|e| ttl.error(&e))?,
        )
        .send()
        .await
        .map_err(|e| ttl.error(&e))?;
    Ok(())
}
