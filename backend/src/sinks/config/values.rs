//! The checked values a sinks file is made of: names, e-mail addresses,
//! environment variable names, target URLs, topic ARNs and durations. Each one
//! refuses a bad value where it is read, so the parser puts the line on the error.

pub use super::super::duration::HumanDuration;
use super::super::ssrf::Target;
use serde::{Deserialize, Deserializer};
/// An e-mail address: one `@`, no spaces, quotes or angle brackets (a display
/// name or a header written here is refused), a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(pub String);

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = s.len() <= 254
            && s.chars()
                .all(|c| c.is_ascii_graphic() && !"<>\"'(),;:[]\\".contains(c))
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if ok {
            Ok(EmailAddress(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "{s:?} is not an e-mail address (name@example.com)"
            )))
        }
    }
}

/// The name of an environment variable: `A-Z a-z 0-9 _`, not starting with a digit
/// (a URL or token written here instead is refused, and never repeated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvName(pub String);

impl<'de> Deserialize<'de> for EnvName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = !s.is_empty()
            && s.len() <= 128
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok {
            Ok(EnvName(s))
        } else {
            Err(serde::de::Error::custom(
                "not an environment variable name (A-Z, 0-9, _): name the variable that holds the secret, not the secret",
            ))
        }
    }
}

/// A sink name: 1–64 of `a-z 0-9 - _` (cursors, metrics and parked batches use it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkName(pub String);

impl<'de> Deserialize<'de> for SinkName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(SinkName(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "sink name {s:?}: use 1-64 of a-z, 0-9, - and _"
            )))
        }
    }
}

/// A target URL that passed the static SSRF policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl(pub Target);

impl<'de> Deserialize<'de> for TargetUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Target::parse(&s)
            .map(TargetUrl)
            .map_err(|e| serde::de::Error::custom(format!("url: {e}")))
    }
}

/// An SNS topic ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicArn(pub String);

impl<'de> Deserialize<'de> for TopicArn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let parts: Vec<&str> = s.split(':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "sns"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && !parts[5].is_empty();
        if ok {
            Ok(TopicArn(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "{s:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
            )))
        }
    }
}
