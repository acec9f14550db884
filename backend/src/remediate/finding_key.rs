//! How remediation names the kind of a finding: its Security Hub control id when
//! it has one, else its detection rule id (`generator_id`). The registry maps this
//! key to an action and the `auto` list names findings by it; both ask this one
//! function so they can never disagree about which id counts.

use shared_types::Finding;

/// A finding's kind, as remediation names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKey<'a> {
    /// A Security Hub control id (`S3.8`).
    Control(&'a str),
    /// A detection rule id (`aws.s3.bucket-policy-public`).
    Rule(&'a str),
}

impl<'a> FindingKey<'a> {
    /// The key of `finding`: the control id first, else the rule id.
    pub fn of(finding: &'a Finding) -> FindingKey<'a> {
        FindingKey::from_parts(finding.control_id.as_deref(), &finding.generator_id)
    }

    /// The key of a finding known by its control id and rule id only (a change
    /// on the feed carries these, not the whole finding).
    pub fn from_parts(control_id: Option<&'a str>, generator_id: &'a str) -> FindingKey<'a> {
        match control_id {
            Some(control) => FindingKey::Control(control),
            None => FindingKey::Rule(generator_id),
        }
    }

    /// The id itself, as `auto` lists it.
    pub fn as_str(self) -> &'a str {
        match self {
            FindingKey::Control(s) | FindingKey::Rule(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_control_id_wins_over_the_rule_id() {
        let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 5)
            .next()
            .expect("one demo finding");
        f.generator_id = "aws.s3.bucket-policy-public".into();
        f.control_id = None;
        assert_eq!(
            FindingKey::of(&f),
            FindingKey::Rule("aws.s3.bucket-policy-public")
        );
        f.control_id = Some("S3.8".into());
        assert_eq!(FindingKey::of(&f), FindingKey::Control("S3.8"));
        assert_eq!(FindingKey::of(&f).as_str(), "S3.8");
    }
}
