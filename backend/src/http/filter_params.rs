//! The list's filters as the OpenAPI document describes them, written once for
//! every route that takes them (`GET /findings`, `GET /findings/export`,
//! `GET /findings/groups`). The
//! values are parsed by `FindingFilter::from_pairs`; these types only describe
//! what it accepts, so a client generated from the document sends nothing it
//! refuses.

use shared_types::{Severity, WorkflowStatus};
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::IntoParams;

// The attributes need literals: 256 is `MAX_FILTER_LEN` (the test below keeps
// them equal) and the pattern is the parser's "no control characters"
// (`char::is_control`: U+0000-U+001F, U+007F-U+009F).
#[cfg(test)]
const TEXT_MAX: usize = 256;

/// The filters of the findings list, as query parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the query; the handlers parse the pairs themselves.
pub struct FilterParams {
    /// One or several severities, comma-separated (or the key repeated).
    #[param(style = Form, explode = false)]
    severity: Option<Vec<Severity>>,
    /// One or several workflow statuses, comma-separated (or the key repeated).
    #[param(style = Form, explode = false)]
    status: Option<Vec<WorkflowStatus>>,
    /// AWS account id.
    #[param(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    account: Option<String>,
    /// Region.
    #[param(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    region: Option<String>,
    /// Primary resource type, e.g. AwsS3Bucket.
    #[param(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    resource_type: Option<String>,
    /// Product name, e.g. GuardDuty.
    #[param(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    product: Option<String>,
    /// Generator id: the control, rule or detector (exact).
    #[param(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    generator: Option<String>,
    /// Primary resource id, e.g. an ARN (exact).
    #[param(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    resource: Option<String>,
    /// Text in title, description, resource id or ASFF id.
    #[param(max_length = 256, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    q: Option<String>,
    /// `updated_at` at or after this RFC 3339 time (a bare date `YYYY-MM-DD`
    /// means its midnight UTC; empty means no bound); before `until` when both
    /// are given.
    #[param(schema_with = instant)]
    since: Option<String>,
    /// `updated_at` before this RFC 3339 time (or bare date; empty: no bound).
    #[param(schema_with = instant)]
    until: Option<String>,
}

/// A JSON list of `severity`/`status` names as the query's comma-separated
/// value. Each item must be one name: an empty or padded item, or one holding a
/// comma, would slip past the name parser (which skips empty pieces of a query
/// list) although the document's `enum` refuses it. The error is the message
/// for the caller's own error code.
pub(super) fn list_of_names<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<String, String> {
    let mut names = Vec::new();
    for item in items {
        if item.is_empty() || item.trim() != item || item.contains(',') {
            return Err(format!("{item:?} is not a name: list one name per item"));
        }
        names.push(item);
    }
    Ok(names.join(","))
}

/// What `since`/`until` accept: an RFC 3339 time, a bare date, or nothing.
fn instant() -> Schema {
    let string = |format: Option<KnownFormat>, max: Option<usize>| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(format.map(SchemaFormat::KnownFormat))
            .max_length(max)
            .build()
    };
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(string(Some(KnownFormat::DateTime), None))
            .item(string(Some(KnownFormat::Date), None))
            .item(string(None, Some(0)))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_types::{FindingFilter, MAX_FILTER_LEN};

    #[test]
    fn the_documented_text_bound_is_the_parsers() {
        assert_eq!(TEXT_MAX, MAX_FILTER_LEN);
        let at = "x".repeat(TEXT_MAX);
        let over = "x".repeat(TEXT_MAX + 1);
        assert!(FindingFilter::from_pairs([("account", at.as_str())]).is_ok());
        assert!(FindingFilter::from_pairs([("account", over.as_str())]).is_err());
        assert!(FindingFilter::from_pairs([("q", "a\u{85}b")]).is_err());
    }
}
