//! `GET /compliance`, `GET /compliance/{slug}` and its controls' failing
//! findings: scores per security standard from the stored control findings,
//! with the daily trend and the controls.

use super::error::ApiError;
use super::extract::{Path, QueryPairs};
use super::findings::unknown_parameter;
use super::AppState;
use crate::compliance::{daily, failing, standard::is_valid_slug};
use axum::extract::State;
use shared_types::{
    ComplianceOverview, FailingFindings, StandardDetail, DEFAULT_FAILING_PAGE, MAX_FAILING_PAGE,
};

/// `GET /compliance`: one card per standard the stored control findings name —
/// score (passed ÷ controls with data, whole percent), passed/failed/unknown
/// control counts and the 30-day trend of daily snapshots. Enabled controls are
/// the controls with at least one stored finding.
#[utoipa::path(get, path = "/compliance", tag = "compliance",
    responses((status = 200, body = ComplianceOverview), (status = 401, body = shared_types::ErrorBody)))]
pub async fn get_overview(
    State(state): State<AppState>,
) -> Result<axum::Json<ComplianceOverview>, ApiError> {
    let today = chrono::Utc::now().date_naive();
    Ok(axum::Json(
        daily::overview(state.store().as_ref(), today).await?,
    ))
}

/// `GET /compliance/{slug}`: one standard's card and its controls (failed
/// first) with their counts and failing resources.
#[utoipa::path(get, path = "/compliance/{slug}", tag = "compliance",
    params(("slug" = String, Path, description = "Standard slug, e.g. aws-fsbp, cis-1.4, pci-dss-3.2.1, nist-800-53-r5")),
    responses((status = 200, body = StandardDetail), (status = 404, body = shared_types::ErrorBody)))]
pub async fn get_standard(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<axum::Json<StandardDetail>, ApiError> {
    // A slug that could not exist is unknown without a store read (and is
    // never echoed back: it is attacker-controlled text).
    if !is_valid_slug(&slug) {
        return Err(ApiError::NotFound("no such standard".into()));
    }
    let today = chrono::Utc::now().date_naive();
    match daily::standard(state.store().as_ref(), &slug, today).await? {
        Some(d) => Ok(axum::Json(d)),
        None => Err(ApiError::NotFound(format!(
            "no standard {slug:?} in the stored findings"
        ))),
    }
}

/// Longest control id asked for (Security Hub's are a few characters; the
/// longest standard control numbers some tens).
const MAX_CONTROL_ID_LEN: usize = 256;
/// Longest `after` accepted: a finding id is far shorter, and DynamoDB
/// refuses longer sort keys. The OpenAPI document states it too.
const MAX_AFTER_LEN: usize = 1024;

/// A page request for a control's failing findings.
#[derive(Debug, PartialEq)]
struct FailingQuery {
    after: Option<String>,
    limit: usize,
}

fn failing_limit_error() -> ApiError {
    ApiError::invalid(
        "limit",
        format!("must be an integer from 1 to {MAX_FAILING_PAGE}"),
    )
}

/// Reads `after` and `limit`; anything else, or either twice, is a 400
/// naming the parameter.
fn parse_failing(pairs: &[(String, String)]) -> Result<FailingQuery, ApiError> {
    let mut q = FailingQuery {
        after: None,
        limit: DEFAULT_FAILING_PAGE,
    };
    let mut seen = Vec::new();
    for (k, v) in pairs {
        if seen.contains(&k.as_str()) {
            return Err(ApiError::invalid(k.clone(), "is given more than once"));
        }
        match k.as_str() {
            // Any text compares with the ids (empty: from the first); only
            // its length is bounded, as a key the store is asked with.
            "after" => {
                if v.len() > MAX_AFTER_LEN {
                    return Err(ApiError::invalid(
                        "after",
                        format!("must be the next_after of the previous page (at most {MAX_AFTER_LEN} bytes)"),
                    ));
                }
                q.after = (!v.is_empty()).then(|| v.clone());
            }
            "limit" => {
                let n: usize = v.trim().parse().map_err(|_| failing_limit_error())?;
                if !(1..=MAX_FAILING_PAGE).contains(&n) {
                    return Err(failing_limit_error());
                }
                q.limit = n;
            }
            other => return Err(unknown_parameter(other)),
        }
        seen.push(k.as_str());
    }
    Ok(q)
}

/// Whether `control_id` could name a control: not empty, bounded, no control
/// characters (it is never echoed back).
fn is_valid_control_id(control_id: &str) -> bool {
    !control_id.is_empty()
        && control_id.len() <= MAX_CONTROL_ID_LEN
        && !control_id.chars().any(char::is_control)
}

/// `GET /compliance/{slug}/controls/{control_id}/failing`: the findings that
/// make a control fail (active, compliance status `FAILED`), by finding id,
/// a page at a time. A control with no failing finding, or one the store does
/// not know, answers an empty page.
#[utoipa::path(get, path = "/compliance/{slug}/controls/{control_id}/failing", tag = "compliance",
    params(
        ("slug" = String, Path, description = "Standard slug, e.g. aws-fsbp, cis-1.4"),
        ("control_id" = String, Path, description = "The control's id in the standard, e.g. S3.1, 1.4"),
        ("after" = Option<String>, Query, max_length = 1024, description = "The previous page's `next_after` (empty or absent: the first page)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Findings listed, 1–1000 (default 100)"),
    ),
    responses(
        (status = 200, body = FailingFindings),
        (status = 400, body = shared_types::ErrorBody),
        (status = 401, body = shared_types::ErrorBody),
        (status = 404, body = shared_types::ErrorBody),
    ))]
pub async fn get_failing_findings(
    State(state): State<AppState>,
    Path((slug, control_id)): Path<(String, String)>,
    QueryPairs(pairs): QueryPairs,
) -> Result<axum::Json<FailingFindings>, ApiError> {
    if !is_valid_slug(&slug) {
        return Err(ApiError::NotFound("no such standard".into()));
    }
    if !is_valid_control_id(&control_id) {
        return Err(ApiError::NotFound("no such control".into()));
    }
    let q = parse_failing(&pairs)?;
    let page = failing::failing_page(
        state.store().as_ref(),
        &slug,
        &control_id,
        q.after.as_deref(),
        q.limit,
    )
    .await?;
    Ok(axum::Json(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(q).unwrap()
    }

    fn field(q: &str) -> String {
        match parse_failing(&pairs(q)).unwrap_err() {
            ApiError::BadRequest { field: Some(f), .. } => f,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn a_page_request_reads_after_and_limit_and_refuses_the_rest() {
        assert_eq!(
            parse_failing(&pairs("")).unwrap(),
            FailingQuery {
                after: None,
                limit: DEFAULT_FAILING_PAGE
            }
        );
        let q = parse_failing(&pairs("after=abc-1&limit=1000")).unwrap();
        assert_eq!((q.after.as_deref(), q.limit), (Some("abc-1"), 1000));
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=x",
            "limit=-1",
            "limit=1&limit=2",
        ] {
            assert_eq!(field(bad), "limit", "{bad}");
        }
        assert_eq!(parse_failing(&pairs("after=")).unwrap().after, None);
        let odd = parse_failing(&pairs("after=a%0Ab")).unwrap();
        assert_eq!(odd.after.as_deref(), Some("a\nb"));
        assert_eq!(
            field(&format!("after={}", "a".repeat(MAX_AFTER_LEN + 1))),
            "after"
        );
        assert_eq!(field("severity=HIGH"), "severity");
    }

    #[test]
    fn control_ids_are_bounded_and_printable() {
        assert!(is_valid_control_id("S3.1"));
        assert!(is_valid_control_id("PCI.IAM.3"));
        assert!(!is_valid_control_id(""));
        assert!(!is_valid_control_id("S3\n1"));
        assert!(!is_valid_control_id(&"x".repeat(MAX_CONTROL_ID_LEN + 1)));
    }
}
