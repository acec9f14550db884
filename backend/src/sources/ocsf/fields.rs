//! Reading OCSF text, product, resource and remediation attributes. Required ones
//! return a [`SourceError`] naming the attribute in OCSF's dotted spelling
//! (`cloud.account.uid`); an optional one that is unreadable is left out and logged,
//! since only a missing or unusable required field may cost a finding.

use super::resource_types::asff_type;
use crate::sources::error::json_kind;
use crate::sources::SourceError;
use serde_json::Value;
use shared_types::Resource;

/// The value at a JSON pointer. `Ok(None)` when it (or a parent) is absent or null;
/// `Err` naming the parent when a parent is not an object (`cloud is a string, not
/// an object`), so a reason says what is wrong rather than only "missing".
fn find<'a>(f: &'a Value, ptr: &str) -> Result<Option<&'a Value>, String> {
    let mut cur = f;
    let mut walked = String::new();
    for key in ptr.split('/').skip(1) {
        cur = match cur {
            Value::Object(m) => match m.get(key) {
                Some(v) => v,
                None => return Ok(None),
            },
            Value::Null => return Ok(None),
            other => return Err(format!("{walked} is {}, not an object", json_kind(other))),
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(key);
    }
    Ok(Some(cur).filter(|v| !v.is_null()))
}

/// Non-blank text at `ptr`, else `None` (ids named in rejections, markers).
pub(super) fn text(f: &Value, ptr: &str) -> Option<String> {
    f.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// Text the finding may lack: `Ok(None)` when absent, null or blank; `Err` when it
/// is of another JSON type (`finding_info.uid: expected a string, got a number`).
pub(super) fn maybe(
    f: &Value,
    ptr: &str,
    field: &'static str,
) -> Result<Option<String>, SourceError> {
    let invalid = |reason: String| SourceError::Invalid { field, reason };
    match find(f, ptr).map_err(invalid)? {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(format!(
            "expected a string, got {}",
            json_kind(other)
        ))),
    }
}

/// Text the finding must have: `missing required finding_info.title`, or why the
/// value there is not usable.
pub(super) fn required(f: &Value, ptr: &str, field: &'static str) -> Result<String, SourceError> {
    maybe(f, ptr, field)?.ok_or(SourceError::Missing(field))
}

/// Optional text; a value of another JSON type is left out (and logged).
pub(super) fn optional(f: &Value, ptr: &str) -> Option<String> {
    match f.pointer(ptr)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::String(_) | Value::Null => None,
        other => {
            tracing::warn!(
                attribute = ptr,
                "ignored: expected a string, got {}",
                json_kind(other)
            );
            None
        }
    }
}

/// The product that reported the finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Product {
    /// `metadata.product.uid`, else its name: what the id is derived from, kept as
    /// the finding's `product_arn` (Security Hub's product uids are ARNs).
    pub key: String,
    /// `metadata.product.name`, else the key.
    pub name: String,
    /// `metadata.product.vendor_name`.
    pub vendor: Option<String>,
}

/// `metadata.product`, which OCSF requires: a uid or at least a name.
pub(super) fn product(f: &Value) -> Result<Product, SourceError> {
    let uid = maybe(f, "/metadata/product/uid", "metadata.product.uid")?;
    let name = maybe(f, "/metadata/product/name", "metadata.product.name")?;
    let key = uid
        .map(|u| security_hub_v1_product(&u))
        .or_else(|| name.clone())
        .ok_or_else(|| SourceError::NoValue {
            what: "product",
            reason: "metadata.product has neither a uid nor a name".into(),
        })?;
    Ok(Product {
        name: name.unwrap_or_else(|| key.clone()),
        key,
        vendor: optional(f, "/metadata/product/vendor_name"),
    })
}

/// The product ARN Security Hub's ASFF findings give the product a v2 (OCSF)
/// finding names `arn:aws:securityhub:REGION::productv2/COMPANY/PRODUCT`: the same
/// GuardDuty finding arrives in ASFF under `…::product/aws/guardduty` with the same
/// provider id (the finding's ARN), and keyed on one product ARN it is one finding
/// whichever feed brought it, not two. Any other product uid is kept as written.
fn security_hub_v1_product(uid: &str) -> String {
    match uid.split_once("::productv2/") {
        Some((head, tail)) if head.starts_with("arn:aws") && head.contains(":securityhub:") => {
            format!("{head}::product/{tail}")
        }
        _ => uid.to_string(),
    }
}

/// Every resource with an id (`uid`, else `uid_alt`, else `name`), in order; the
/// first is the primary one. Entries without one are dropped (and logged); none left
/// is a rejection, as lists and alerts are keyed on the primary resource. Compliance
/// Finding before OCSF 1.3 has one `resource` object instead of `resources`.
pub(super) fn resources(f: &Value) -> Result<Vec<Resource>, SourceError> {
    let (entries, field): (Vec<&Value>, &'static str) = match f.get("resources") {
        Some(Value::Array(list)) if !list.is_empty() => (list.iter().collect(), "resources"),
        Some(other @ (Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Object(_))) => {
            return Err(SourceError::Invalid {
                field: "resources",
                reason: format!("expected a list of resources, got {}", json_kind(other)),
            })
        }
        _ => match f.get("resource") {
            Some(one @ Value::Object(_)) => (vec![one], "resource"),
            None | Some(Value::Null) => {
                return Err(SourceError::Invalid {
                    field: "resources",
                    reason: "missing or empty (a finding names at least one resource)".into(),
                })
            }
            Some(other) => {
                return Err(SourceError::Invalid {
                    field: "resource",
                    reason: format!("expected a resource object, got {}", json_kind(other)),
                })
            }
        },
    };
    let total = entries.len();
    let kept: Vec<Resource> = entries.into_iter().filter_map(resource).collect();
    if kept.len() < total {
        tracing::warn!(
            dropped = total - kept.len(),
            "{field} without uid, uid_alt or name dropped"
        );
    }
    if kept.is_empty() {
        return Err(SourceError::Invalid {
            field,
            reason: format!("none of the {total} entries has a uid, uid_alt or name"),
        });
    }
    Ok(kept)
}

fn resource(r: &Value) -> Option<Resource> {
    let id = text(r, "/uid")
        .or_else(|| text(r, "/uid_alt"))
        .or_else(|| text(r, "/name"))?;
    Some(Resource {
        resource_type: text(r, "/type").map_or_else(|| "Other".into(), |t| asff_type(&t)),
        id,
        partition: text(r, "/cloud_partition"),
        region: text(r, "/region"),
    })
}

/// `cloud.region`, else the primary resource's region.
pub(super) fn region(f: &Value, resources: &[Resource]) -> Result<String, SourceError> {
    maybe(f, "/cloud/region", "cloud.region")?
        .or_else(|| resources.first().and_then(|r| r.region.clone()))
        .ok_or_else(|| SourceError::NoValue {
            what: "region",
            reason: "no cloud.region and no region on the first resource".into(),
        })
}

/// `remediation.desc` and the first web link among `remediation.references`
/// (Prowler lists CLI commands there too). A description that is only the link, as
/// our export writes for a finding that had only a URL, is not repeated as text.
pub(super) fn remediation(f: &Value) -> (Option<String>, Option<String>) {
    let url = f
        .pointer("/remediation/references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .find(|r| r.starts_with("https://") || r.starts_with("http://"))
        .map(str::to_string);
    let text = optional(f, "/remediation/desc").filter(|d| Some(d) != url.as_ref());
    (text, url)
}

/// The rule, control or check that produced the finding: `finding_info.analytic.uid`,
/// else the compliance control, `metadata.event_code` (Prowler's check id),
/// `analytic.name`, and last the title, so it is never blank.
pub(super) fn generator(f: &Value, control: Option<&str>, title: &str) -> String {
    optional(f, "/finding_info/analytic/uid")
        .or_else(|| control.map(str::to_string))
        .or_else(|| optional(f, "/metadata/event_code"))
        .or_else(|| optional(f, "/finding_info/analytic/name"))
        .unwrap_or_else(|| title.to_string())
}

/// `finding_info.types`, the text entries of it.
pub(super) fn types(f: &Value) -> Vec<String> {
    f.pointer("/finding_info/types")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::security_hub_v1_product;

    #[test]
    fn security_hub_v2_product_uids_become_the_asff_product_arns() {
        for (v2, v1) in [
            (
                "arn:aws:securityhub:us-east-1::productv2/aws/guardduty",
                "arn:aws:securityhub:us-east-1::product/aws/guardduty",
            ),
            (
                "arn:aws-us-gov:securityhub:us-gov-west-1::productv2/aws/securityhub",
                "arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/securityhub",
            ),
        ] {
            assert_eq!(security_hub_v1_product(v2), v1);
        }
        for kept in [
            "arn:aws:securityhub:us-east-1::product/aws/guardduty",
            "prowler",
            "urn:example::productv2/x",
            "arn:aws:inspector2:us-east-1::productv2/x",
        ] {
            assert_eq!(security_hub_v1_product(kept), kept);
        }
    }
}
