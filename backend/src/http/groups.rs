//! `GET /findings/groups`: the list's view grouped by generator, resource,
//! account, region or resource type, most severe group first (store/groups.rs).

use super::error::ApiError;
use super::extract::QueryPairs;
use super::findings::{split_filter, unknown_parameter};
use super::AppState;
use axum::extract::State;
use shared_types::{FindingFilter, FindingGroups, GroupBy, DEFAULT_GROUP_LIMIT, MAX_GROUP_LIMIT};

/// A grouping request: the list's filter, what to group by, how many groups.
#[derive(Debug, PartialEq)]
struct GroupQuery {
    filter: FindingFilter,
    by: GroupBy,
    limit: u32,
}

fn limit_error() -> ApiError {
    ApiError::invalid(
        "limit",
        format!("must be an integer from 1 to {MAX_GROUP_LIMIT}"),
    )
}

/// Reads the query: the list's filters (parsed where the list parses them),
/// `by` (required) and `limit`; anything else, or `by`/`limit` twice, is a 400
/// naming the parameter.
fn parse(pairs: &[(String, String)]) -> Result<GroupQuery, ApiError> {
    let (filter, rest) = split_filter(pairs)?;
    let mut by = None;
    let mut limit = None;
    for (k, v) in rest {
        match k {
            "by" => {
                by = Some(
                    v.trim()
                        .parse::<GroupBy>()
                        .map_err(|e| ApiError::invalid("by", e.to_string()))?,
                )
            }
            "limit" => {
                let n: u32 = v.trim().parse().map_err(|_| limit_error())?;
                if !(1..=MAX_GROUP_LIMIT).contains(&n) {
                    return Err(limit_error());
                }
                limit = Some(n);
            }
            other => return Err(unknown_parameter(other)),
        }
    }
    let by = by.ok_or_else(|| {
        ApiError::invalid(
            "by",
            "is required: generator, resource, account, region or resource_type",
        )
    })?;
    Ok(GroupQuery {
        filter,
        by,
        limit: limit.unwrap_or(DEFAULT_GROUP_LIMIT),
    })
}

/// `GET /findings/groups`: the view's findings grouped, most severe first.
#[utoipa::path(get, path = "/findings/groups", tag = "findings",
    params(
        ("by" = GroupBy, Query, description = "What to group by"),
        super::filter_params::FilterParams,
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Groups listed, 1–1000 (default 100); the rest are counted in `other`"),
    ),
    responses(
        (status = 200, body = FindingGroups),
        (status = 400, body = shared_types::ErrorBody),
        (status = 401, body = shared_types::ErrorBody),
    ))]
pub async fn get_groups(
    State(state): State<AppState>,
    QueryPairs(pairs): QueryPairs,
) -> Result<axum::Json<FindingGroups>, ApiError> {
    let q = parse(&pairs)?;
    let groups = state.store().groups(&q.filter, q.by, q.limit).await?;
    Ok(axum::Json(groups))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(q).unwrap()
    }

    fn field(q: &str) -> String {
        match parse(&pairs(q)).unwrap_err() {
            ApiError::BadRequest { field: Some(f), .. } => f,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn the_list_filters_and_the_grouping_are_read_and_limit_defaults() {
        let q = parse(&pairs("by=resource_type&severity=HIGH&generator=S3.8")).unwrap();
        assert_eq!(q.by, GroupBy::ResourceType);
        assert_eq!(q.limit, DEFAULT_GROUP_LIMIT);
        assert_eq!(q.filter.generator.as_deref(), Some("S3.8"));
        assert_eq!(parse(&pairs("by=account&limit=1000")).unwrap().limit, 1000);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        assert_eq!(field(""), "by");
        assert_eq!(field("by=severity"), "by");
        assert_eq!(field("by=account&by=region"), "by");
        for l in ["0", "1001", "x", "-1", ""] {
            assert_eq!(field(&format!("by=account&limit={l}")), "limit", "{l}");
        }
        assert_eq!(field("by=account&cursor=abc"), "cursor");
        assert_eq!(field("by=account&severity=BAD"), "severity");
        assert_eq!(
            field("by=account&since=2024-05-02&until=2024-05-01"),
            "since"
        );
    }

    #[test]
    fn the_documented_limit_is_the_enforced_one() {
        use utoipa::Path as _;
        let op = serde_json::to_value(__path_get_groups::operation()).unwrap();
        let params = op["parameters"].as_array().unwrap();
        let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
        assert_eq!(limit["schema"]["maximum"], MAX_GROUP_LIMIT);
        let by = params.iter().find(|p| p["name"] == "by").unwrap();
        assert_eq!(by["required"], true);
        assert!(params.iter().any(|p| p["name"] == "generator"));
    }
}
