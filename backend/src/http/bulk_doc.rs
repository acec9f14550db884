//! `POST /findings/workflow`'s body as the OpenAPI document describes it: one of
//! three shapes (by `ids`; by `filter` with `expected_total`; a later step of a
//! filter, by `filter` with `cursor`), each closed, so
//! a client generated from the document sends only what `bulk::check` accepts.
//! Written by hand because the handler reads the body field by field (to name
//! the bad one) and no Rust type has this shape; the filter's fields are taken
//! from the list's own query parameters ([`FilterParams`]), so the two cannot
//! drift apart.

use super::filter_params::FilterParams;
use super::findings::MAX_NOTE_LEN;
use crate::store::cursor::MAX_CURSOR_LEN;
use shared_types::{Severity, WorkflowStatus, MAX_BULK_IDS, MAX_BULK_MATCHES};
use std::borrow::Cow;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// The body's schema, named `BulkWorkflowRequest` in the document.
pub struct BulkWorkflowBody;

impl ToSchema for BulkWorkflowBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("BulkWorkflowRequest")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Severity::name().into(), Severity::schema()));
        schemas.push((WorkflowStatus::name().into(), WorkflowStatus::schema()));
    }
}

impl PartialSchema for BulkWorkflowBody {
    fn schema() -> RefOr<Schema> {
        let ids = ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String))
            .min_items(Some(1))
            .max_items(Some(MAX_BULK_IDS))
            .description(Some("The findings' ids (duplicates count once)"));
        let expected = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(MAX_BULK_MATCHES))
                .description(Some(
                    "How many findings the filter matched when the person looked; \
                 409 and nothing changed when it now matches another number",
                ))
        };
        let limit = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(MAX_BULK_MATCHES))
                .description(Some(
                    "Change at most this many findings (whole pages of the list) in this \
                 request; the answer's next_cursor goes on from there",
                ))
        };
        let cursor = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_CURSOR_LEN))
            .description(Some(
                "next_cursor of the previous step's answer, with the same filter",
            ));
        let by_ids = shape(
            "By id",
            [("ids", ids.into())],
            [],
            ["filter", "expected_total", "limit", "cursor"],
        );
        let by_filter = shape(
            "By filter",
            [("filter", filter()), ("expected_total", expected().into())],
            [("limit", limit().into())],
            ["ids", "cursor"],
        );
        let later_step = shape(
            "By filter, a later step",
            [("filter", filter()), ("cursor", cursor.into())],
            [
                ("limit", limit().into()),
                (
                    "expected_total",
                    expected()
                        .description(Some("Not checked in a later step (the first step was)"))
                        .into(),
                ),
            ],
            ["ids"],
        );
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(by_ids)
                .item(by_filter)
                .item(later_step)
                .build(),
        ))
    }
}

/// A closed object: `own` fields required, `optional` ones, the status and
/// note, and the other shapes' fields allowed only as `null` (the handler reads
/// `null` as absent).
fn shape<const N: usize, const O: usize, const M: usize>(
    title: &str,
    own: [(&str, RefOr<Schema>); N],
    optional: [(&str, RefOr<Schema>); O],
    others: [&str; M],
) -> Schema {
    let mut object = ObjectBuilder::new()
        .title(Some(title))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for (name, schema) in own {
        object = object.property(name, schema).required(name);
    }
    for (name, schema) in optional {
        object = object.property(name, schema);
    }
    for name in others {
        object = object.property(name, ObjectBuilder::new().schema_type(Type::Null));
    }
    let note = ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::Array(vec![
            Type::String,
            Type::Null,
        ]))
        .max_length(Some(MAX_NOTE_LEN))
        .description(Some("Why; kept in each finding's audit trail"));
    object
        .property(
            "workflow_status",
            Ref::from_schema_name(WorkflowStatus::name()),
        )
        .required("workflow_status")
        .property("note", note)
        .into()
}

/// The list's filters as one closed JSON object, each field described as its
/// query parameter is, less the empty values a query's form field may send
/// (`bulk::check_filter` refuses them: "any" is a key left out); `severity`
/// and `status` also take a JSON list.
fn filter() -> RefOr<Schema> {
    let mut object = ObjectBuilder::new()
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .description(Some(
            "The list's filters, named and read as GET /findings' query parameters; \
             an empty value is refused (leave the key out for any)",
        ));
    for p in FilterParams::into_params(|| Some(ParameterIn::Query)) {
        let Some(schema) = p.schema else { continue };
        let schema = if matches!(p.name.as_str(), "severity" | "status") {
            // The query string's comma-separated form, or a JSON list.
            let text = ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("Comma-separated, as in the query string"));
            RefOr::T(Schema::AnyOf(
                AnyOfBuilder::new().item(schema).item(text).build(),
            ))
        } else {
            schema
        };
        object = object.property(p.name, non_empty(schema));
    }
    object.into()
}

/// `schema` without its empty values: every string at least one character,
/// every list at least one item, and no alternative that is only the empty
/// string (`since`/`until`'s "no bound").
fn non_empty(schema: RefOr<Schema>) -> RefOr<Schema> {
    fn patch(v: &mut serde_json::Value) {
        use serde_json::{json, Value};
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(alts)) = v.get_mut(key) {
                alts.retain(|a| a.get("maxLength") != Some(&json!(0)));
                alts.iter_mut().for_each(patch);
            }
        }
        match v.get("type").and_then(Value::as_str) {
            Some("string") if v.get("enum").is_none() => v["minLength"] = json!(1),
            Some("array") => v["minItems"] = json!(1),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(&schema).expect("a schema serializes");
    patch(&mut v);
    serde_json::from_value(v).expect("a patched schema is a schema")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::findings::FILTER_KEYS;

    fn json() -> serde_json::Value {
        serde_json::to_value(BulkWorkflowBody::schema()).unwrap()
    }

    #[test]
    fn the_filter_object_names_every_filter_the_handler_reads() {
        let doc = json();
        let filter = &doc["oneOf"][1]["properties"]["filter"];
        let mut names: Vec<&str> = filter["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        let mut want = FILTER_KEYS.to_vec();
        want.sort_unstable();
        assert_eq!(names, want);
        assert_eq!(filter["additionalProperties"], false);
        assert_eq!(filter["properties"]["q"]["maxLength"], 256);
    }

    /// The handler refuses every empty value, so the document allows none.
    #[test]
    fn the_filter_object_allows_no_empty_value() {
        fn strings_and_lists(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
            if matches!(
                v.get("type").and_then(|t| t.as_str()),
                Some("string" | "array")
            ) {
                out.push(v.clone());
            }
            for key in ["anyOf", "oneOf"] {
                for alt in v[key].as_array().into_iter().flatten() {
                    strings_and_lists(alt, out);
                }
            }
        }
        let doc = json();
        let filter = &doc["oneOf"][1]["properties"]["filter"];
        for (name, schema) in filter["properties"].as_object().unwrap() {
            let mut leaves = Vec::new();
            strings_and_lists(schema, &mut leaves);
            assert!(!leaves.is_empty(), "{name}: {schema}");
            for leaf in leaves {
                let bounded =
                    leaf["minLength"] == 1 || leaf["minItems"] == 1 || leaf.get("format").is_some();
                assert!(bounded, "{name} allows an empty value: {leaf}");
            }
        }
    }

    #[test]
    fn the_documented_bounds_are_the_handlers() {
        let doc = json();
        let ids = &doc["oneOf"][0]["properties"]["ids"];
        assert_eq!(ids["maxItems"], 1000);
        assert_eq!(ids["minItems"], 1);
        let expected = &doc["oneOf"][1]["properties"]["expected_total"];
        assert_eq!(expected["maximum"], 100_000);
        assert_eq!(doc["oneOf"][0]["properties"]["note"]["maxLength"], 2000);
        assert_eq!(
            doc["oneOf"][0]["required"],
            serde_json::json!(["ids", "workflow_status"])
        );
        assert_eq!(
            doc["oneOf"][1]["required"],
            serde_json::json!(["filter", "expected_total", "workflow_status"])
        );
        assert_eq!(
            doc["oneOf"][2]["required"],
            serde_json::json!(["filter", "cursor", "workflow_status"])
        );
        assert_eq!(doc["oneOf"][1]["properties"]["limit"]["maximum"], 100_000);
        assert_eq!(
            doc["oneOf"][2]["properties"]["cursor"]["maxLength"],
            MAX_CURSOR_LEN
        );
        assert_eq!(doc["oneOf"][1]["properties"]["cursor"]["type"], "null");
    }
}
