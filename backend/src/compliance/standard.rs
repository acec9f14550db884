//! Which security standard an identifier names, and its short slug.
//!
//! Security Hub names a standard in several forms (its user guide, "Samples of
//! control findings" and the ASFF `Compliance.AssociatedStandards` reference):
//! - `ProductFields.StandardsArn`: `arn:aws:securityhub:::standards/pci-dss/v/3.2.1`
//! - `ProductFields.StandardsGuideArn` (CIS 1.2.0 only, the older "ruleset" form):
//!   `arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0`
//! - `Compliance.AssociatedStandards[].StandardsId`: the same without the ARN
//!   prefix, `standards/nist-800-53/v/5.0.0` or `ruleset/cis-…/v/1.2.0`
//! - a standard-specific `GeneratorId`: `aws-foundational-security-best-practices/v/1.0.0/S3.1`
//!   or `arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.4`
//!
//! All of them come down to `<name>/v/<version>`; this module turns that pair
//! into a [`Standard`]. Known standards get the short slugs the API promises;
//! any other standard Security Hub adds later still gets a stable slug built
//! from its own name and version, so its findings are scored, not dropped.

/// A security standard as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Standard {
    /// Short URL-safe key (`aws-fsbp`, `cis-1.4`, `pci-dss-3.2.1`, `nist-800-53-r5`).
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// Longest slug accepted in a URL (`GET /compliance/{slug}`) and built from a name.
pub const MAX_SLUG_LEN: usize = 80;

/// The standard a standards ARN, standards id or generator id names, with the
/// rest of the id after the version (the control part of a generator id,
/// `rule/` prefix removed; empty for a standards ARN or id).
///
/// `None` when the text does not have the `<name>/v/<version>` shape.
pub fn parse(id: &str) -> Option<(Standard, &str)> {
    let id = id.trim();
    // Drop `arn:<partition>:securityhub:<region>:<account>:` (partitions vary:
    // aws, aws-cn, aws-us-gov); what follows is a resource path.
    let path = if id.starts_with("arn:") {
        id.splitn(6, ':').nth(5)?
    } else {
        id
    };
    let path = path
        .strip_prefix("standards/")
        .or_else(|| path.strip_prefix("ruleset/"))
        .or_else(|| path.strip_prefix("subscription/"))
        .or_else(|| path.strip_prefix("control/"))
        .unwrap_or(path);
    let (name, after) = path.split_once("/v/")?;
    let (version, rest) = after.split_once('/').unwrap_or((after, ""));
    let rest = rest.strip_prefix("rule/").unwrap_or(rest);
    if !valid_name(name) || !valid_version(version) {
        return None;
    }
    Some((standard(name, version), rest))
}

/// The standard an OCSF finding's `compliance.standards` entry names when it
/// is a display name rather than an id: `<Name> v<version>` (`CIS AWS
/// Foundations Benchmark v1.4.0`, `PCI DSS v3.2.1`) or NIST's `NIST SP 800-53
/// Revision 5` (also `Rev. 5`, `Rev 5`). The name's words, lower case and
/// joined by hyphens, are the id's name (FSBP, CIS, PCI DSS and NIST names give
/// their ids' slugs); a name with other characters than letters, digits and
/// hyphens names none.
pub fn from_name(text: &str) -> Option<Standard> {
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.chars().any(|c| c.is_ascii_alphanumeric()))
        .map(str::to_ascii_lowercase)
        .collect();
    let (name, version) = match words.as_slice() {
        [rest @ .., rev, n] if matches!(rev.as_str(), "revision" | "rev." | "rev") => {
            (rest.to_vec(), format!("{n}.0.0"))
        }
        [rest @ .., v] => (rest.to_vec(), v.strip_prefix('v')?.to_string()),
        [] => return None,
    };
    // NIST names carry "SP" (Special Publication), which their ids do not.
    let nist = name.first().is_some_and(|w| w == "nist");
    let name: Vec<String> = name.into_iter().filter(|w| !(nist && w == "sp")).collect();
    let name = name.join("-");
    (valid_name(&name) && valid_version(&version)).then(|| standard(&name, &version))
}

/// The slug and name of `<name>/v/<version>`.
fn standard(name: &str, version: &str) -> Standard {
    let known = |slug: String, title: String| Standard { slug, name: title };
    match name {
        // The FSBP sample in the user guide spells its AssociatedStandards id
        // `aws-foundation-best-practices`: the same standard.
        "aws-foundational-security-best-practices" | "aws-foundation-best-practices" => known(
            versioned("aws-fsbp", version, "1.0.0"),
            format!("AWS Foundational Security Best Practices v{version}"),
        ),
        "cis-aws-foundations-benchmark" => known(
            format!("cis-{}", short_version(version)),
            format!("CIS AWS Foundations Benchmark v{version}"),
        ),
        "pci-dss" => known(format!("pci-dss-{version}"), format!("PCI DSS v{version}")),
        // NIST versions are revisions: 5.0.0 is SP 800-53 Revision 5.
        "nist-800-53" | "nist-800-171" => {
            let rev = version.split('.').next().unwrap_or(version);
            known(
                format!("{name}-r{rev}"),
                format!("NIST SP {} Revision {rev}", &name["nist-".len()..]),
            )
        }
        "service-managed-aws-control-tower" => known(
            versioned("aws-control-tower", version, "1.0.0"),
            format!("AWS Control Tower service-managed standard v{version}"),
        ),
        "aws-resource-tagging-standard" => known(
            versioned("aws-resource-tagging", version, "1.0.0"),
            format!("AWS Resource Tagging Standard v{version}"),
        ),
        _ => known(
            truncate(format!("{name}-{version}")),
            format!("{name} v{version}"),
        ),
    }
}

/// `base` for the version every account has today, `base-<version>` for another.
fn versioned(base: &str, version: &str, current: &str) -> String {
    if version == current {
        base.to_string()
    } else {
        format!("{base}-{version}")
    }
}

/// `1.4.0` → `1.4` (CIS slugs name major.minor); a patch other than 0 stays.
fn short_version(version: &str) -> &str {
    version
        .strip_suffix(".0")
        .filter(|v| v.contains('.'))
        .unwrap_or(version)
}

fn truncate(mut s: String) -> String {
    s.truncate(MAX_SLUG_LEN);
    s
}

/// Lower-case letters, digits and inner hyphens: what every Security Hub
/// standard name is, and all a slug may carry.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// Digits separated by dots (`1.0.0`, `3.2.1`).
fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 16
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// True when `slug` could be one this module builds (checked before a lookup,
/// so a path parameter is never echoed unchecked).
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_LEN
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(id: &str) -> String {
        parse(id).map(|(s, _)| s.slug).unwrap_or_default()
    }

    /// Standards ARNs and ids exactly as the Security Hub user guide prints them.
    #[test]
    fn display_names_give_the_slugs_of_their_ids() {
        for (name, slug) in [
            (
                "AWS Foundational Security Best Practices v1.0.0",
                "aws-fsbp",
            ),
            ("CIS AWS Foundations Benchmark v1.4.0", "cis-1.4"),
            ("CIS AWS Foundations Benchmark v3.0.0", "cis-3.0"),
            ("PCI DSS v3.2.1", "pci-dss-3.2.1"),
            ("NIST SP 800-53 Revision 5", "nist-800-53-r5"),
            ("NIST SP 800-53 Rev. 5", "nist-800-53-r5"),
        ] {
            assert_eq!(from_name(name).map(|s| s.slug), Some(slug.into()), "{name}");
        }
        for name in [
            "",
            "v1.0",
            "PCI DSS",
            "Best <b>Practices</b> v1",
            "NIST Rev. x",
        ] {
            assert_eq!(from_name(name), None, "{name}");
        }
    }

    #[test]
    fn documented_standards_arns_map_to_their_slugs() {
        let cases = [
            (
                "arn:aws:securityhub:::standards/aws-foundational-security-best-practices/v/1.0.0",
                "aws-fsbp",
            ),
            (
                "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
                "cis-1.2",
            ),
            (
                "arn:aws:securityhub:::standards/cis-aws-foundations-benchmark/v/1.4.0",
                "cis-1.4",
            ),
            (
                "arn:aws:securityhub:::standards/cis-aws-foundations-benchmark/v/3.0.0",
                "cis-3.0",
            ),
            (
                "arn:aws:securityhub:::standards/cis-aws-foundations-benchmark/v/5.0.0",
                "cis-5.0",
            ),
            (
                "arn:aws:securityhub:us-east-1::standards/pci-dss/v/3.2.1",
                "pci-dss-3.2.1",
            ),
            (
                "arn:aws:securityhub:::standards/pci-dss/v/4.0.1",
                "pci-dss-4.0.1",
            ),
            (
                "arn:aws:securityhub:::standards/nist-800-53/v/5.0.0",
                "nist-800-53-r5",
            ),
            (
                "arn:aws:securityhub:::standards/nist-800-171/v/2.0.0",
                "nist-800-171-r2",
            ),
            (
                "arn:aws:securityhub:::standards/service-managed-aws-control-tower/v/1.0.0",
                "aws-control-tower",
            ),
            (
                "standards/aws-resource-tagging-standard/v/1.0.0",
                "aws-resource-tagging",
            ),
            ("ruleset/cis-aws-foundations-benchmark/v/1.2.0", "cis-1.2"),
            (
                "standards/aws-foundation-best-practices/v/1.0.0",
                "aws-fsbp",
            ),
            (
                "arn:aws-us-gov:securityhub:::standards/pci-dss/v/3.2.1",
                "pci-dss-3.2.1",
            ),
        ];
        for (id, want) in cases {
            assert_eq!(slug(id), want, "{id}");
        }
    }

    #[test]
    fn generator_ids_give_the_standard_and_the_control() {
        let (s, rest) = parse("aws-foundational-security-best-practices/v/1.0.0/S3.1").unwrap();
        assert_eq!((s.slug.as_str(), rest), ("aws-fsbp", "S3.1"));
        let (s, rest) =
            parse("arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.4")
                .unwrap();
        assert_eq!((s.slug.as_str(), rest), ("cis-1.2", "1.4"));
        let (s, rest) = parse("pci-dss/v/3.2.1/PCI.CloudTrail.1").unwrap();
        assert_eq!(
            (s.name.as_str(), rest),
            ("PCI DSS v3.2.1", "PCI.CloudTrail.1")
        );
        let (s, rest) = parse("cis-aws-foundations-benchmark/v/3.0.0/2.2.1").unwrap();
        assert_eq!((s.slug.as_str(), rest), ("cis-3.0", "2.2.1"));
    }

    #[test]
    fn an_unknown_standard_keeps_its_own_name_and_version() {
        let (s, _) = parse("standards/acme-baseline/v/2.1.0").unwrap();
        assert_eq!(s.slug, "acme-baseline-2.1.0");
        assert!(is_valid_slug(&s.slug));
        assert_eq!(
            slug("standards/aws-fsbp-next/v/2.0.0"),
            "aws-fsbp-next-2.0.0"
        );
        assert_eq!(
            slug("standards/aws-foundational-security-best-practices/v/2.0.0"),
            "aws-fsbp-2.0.0"
        );
    }

    #[test]
    fn ids_without_a_standard_are_none() {
        for id in [
            "security-control/CloudTrail.2",
            "arn:aws:config:eu-central-1:123456789012:config-rule/config-rule-mburzq",
            "arn:aws:guardduty:us-east-1:1:detector/abc",
            "standards/Bad Name/v/1.0.0",
            "standards/pci-dss/v/three",
            "",
            "/v/1.0.0",
        ] {
            assert!(parse(id).is_none(), "{id}");
        }
    }

    #[test]
    fn slugs_are_checked_before_lookups() {
        assert!(is_valid_slug("cis-1.4"));
        assert!(!is_valid_slug("cis 1.4"));
        assert!(!is_valid_slug("<script>"));
        assert!(!is_valid_slug(""));
    }
}
