//! S3 archive locations (`s3://bucket/prefix`) and, with the `aws` feature, the S3
//! sink. Every object is encrypted at rest (SSE-KMS with the configured key,
//! SSE-S3 otherwise) and carries its content type.

use super::{check_key, SinkError};

/// The sink over the S3 SDK.
#[cfg(feature = "aws")]
mod sink;
#[cfg(feature = "aws")]
pub use sink::S3Sink;

/// `s3://bucket/prefix`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix without leading or trailing `/` (may be empty).
    pub prefix: String,
}

impl std::str::FromStr for S3Location {
    type Err = SinkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| SinkError::InvalidLocation {
            location: s.to_owned(),
            reason,
        };
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| bad("must start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // S3 bucket naming rules, enough to refuse typos and injection.
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(bad(
                "bucket name must be 3-63 characters of a-z, 0-9, '-' and '.'",
            ));
        }
        let prefix = prefix.trim_matches('/').to_owned();
        if !prefix.is_empty() && check_key(&prefix).is_err() {
            return Err(bad("prefix may only hold A-Z a-z 0-9 / = . _ -"));
        }
        Ok(S3Location {
            bucket: bucket.to_owned(),
            prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_parse_into_bucket_and_prefix() {
        let l: S3Location = "s3://my-bucket/cspm/archive/".parse().unwrap();
        assert_eq!(l.bucket, "my-bucket");
        assert_eq!(l.prefix, "cspm/archive");
        let l: S3Location = "s3://my-bucket".parse().unwrap();
        assert_eq!(l.prefix, "");
        for bad in [
            "my-bucket/x",
            "s3://",
            "s3://UPPER/x",
            "s3://b/../x",
            "s3://ab",
        ] {
            assert!(bad.parse::<S3Location>().is_err(), "{bad} accepted");
        }
    }
}
