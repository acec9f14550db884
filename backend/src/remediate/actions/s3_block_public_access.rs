//! `s3-block-public-access`: a bucket made public (a public ACL, a policy with
//! `Principal: "*"`, its public access block removed or weakened) gets its public
//! access block back with all four settings on. With them on, public ACLs and
//! public policies stop taking effect whatever they say, so the fix does not need
//! to edit (and risk breaking) the ACL or policy itself; those stay for a person
//! to review.

use crate::remediate::action::{Action, ActionError, Observed, Proposal};
use crate::remediate::action_id::ActionId;
use crate::remediate::plan::ApiCall;
use crate::remediate::target::{NotApplicable, Target};
use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use aws_sdk_s3::Client;
use serde_json::{json, Value};
use shared_types::Finding;
use std::collections::BTreeMap;

/// The ASFF resource type of a bucket.
const BUCKET_TYPE: &str = "AwsS3Bucket";
/// The four settings, named as the S3 API names them.
const SETTINGS: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

/// The action, over the SDK configuration its clients are built from.
#[derive(Debug, Clone)]
pub struct S3BlockPublicAccess {
    sdk: aws_config::SdkConfig,
}

impl S3BlockPublicAccess {
    /// The action calling S3 with `sdk`'s credentials and endpoint.
    pub fn new(sdk: aws_config::SdkConfig) -> Self {
        S3BlockPublicAccess { sdk }
    }

    /// A client for the bucket's region (S3 answers a call to another region with
    /// a redirect the SDK does not follow). With an endpoint override (the
    /// emulator) buckets are addressed by path: virtual hosts do not resolve there.
    fn client(&self, target: &Target) -> Client {
        let mut conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .region(aws_sdk_s3::config::Region::new(target.region.clone()));
        if self.sdk.endpoint_url().is_some() {
            conf = conf.force_path_style(true);
        }
        Client::from_conf(conf.build())
    }
}

/// The bucket name in a resource id: an S3 ARN (any partition) or a bare name.
pub fn bucket_name(resource_id: &str) -> Option<&str> {
    let name = match resource_id.split_once(":s3:::") {
        Some((partition, name)) if partition.starts_with("arn:") => name,
        Some(_) => return None,
        None => resource_id,
    };
    let valid = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    valid.then_some(name)
}

/// The four settings as a JSON object (`null` when the bucket has no block).
fn settings_json(c: Option<&PublicAccessBlockConfiguration>) -> Value {
    match c {
        None => Value::Null,
        Some(c) => json!({
            "BlockPublicAcls": c.block_public_acls().unwrap_or(false),
            "IgnorePublicAcls": c.ignore_public_acls().unwrap_or(false),
            "BlockPublicPolicy": c.block_public_policy().unwrap_or(false),
            "RestrictPublicBuckets": c.restrict_public_buckets().unwrap_or(false),
        }),
    }
}

/// The block the fix puts: all four on. The plan's parameters and the request
/// are both built from this one value, so the call shown is the call made.
fn desired() -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build()
}

/// The fix as the plan shows it, named as in the S3 API reference.
/// `PutPublicAccessBlock` replaces the whole configuration, so all four go.
fn put_call(target: &Target) -> ApiCall {
    ApiCall {
        service: "s3".into(),
        operation: "PutPublicAccessBlock".into(),
        params: json!({
            "Bucket": target.resource,
            "ExpectedBucketOwner": target.account,
            "PublicAccessBlockConfiguration": settings_json(Some(&desired())),
        }),
    }
}

/// The settings of an observed state that are not on.
fn settings_off(state: &Value) -> Vec<&'static str> {
    SETTINGS
        .into_iter()
        .filter(|s| state["public_access_block"][*s] != Value::Bool(true))
        .collect()
}

fn failed<E>(operation: &'static str, bucket: &str, e: &SdkError<E, HttpResponse>) -> ActionError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    ActionError {
        operation,
        resource: bucket.to_string(),
        detail: crate::aws::error_text(e),
        retryable: crate::aws::is_retryable(e),
    }
}

impl S3BlockPublicAccess {
    /// The bucket's block settings; a bucket without a configuration has all off.
    /// Every call names the expected owner: S3 answers 403 when the bucket is
    /// another account's, so a finding's account is checked, not trusted.
    async fn read_block(&self, client: &Client, target: &Target) -> Result<Value, ActionError> {
        let bucket = &target.resource;
        match client
            .get_public_access_block()
            .bucket(bucket)
            .expected_bucket_owner(&target.account)
            .send()
            .await
        {
            Ok(out) => Ok(settings_json(out.public_access_block_configuration())),
            Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => Ok(Value::Null),
            Err(e) => Err(failed("GetPublicAccessBlock", bucket, &e)),
        }
    }

    async fn read_tags(
        &self,
        client: &Client,
        target: &Target,
    ) -> Result<BTreeMap<String, String>, ActionError> {
        let bucket = &target.resource;
        match client
            .get_bucket_tagging()
            .bucket(bucket)
            .expected_bucket_owner(&target.account)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()),
            Err(e) if e.code() == Some("NoSuchTagSet") => Ok(BTreeMap::new()),
            Err(e) => Err(failed("GetBucketTagging", bucket, &e)),
        }
    }
}

#[async_trait]
impl Action for S3BlockPublicAccess {
    fn id(&self) -> ActionId {
        ActionId::S3BlockPublicAccess
    }

    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable> {
        let resource = finding
            .resources
            .iter()
            .find(|r| r.resource_type == BUCKET_TYPE)
            .ok_or(NotApplicable::NoResource(BUCKET_TYPE))?;
        let bucket = bucket_name(&resource.id).ok_or_else(|| NotApplicable::ResourceId {
            id: resource.id.clone(),
            expected: "a bucket name or S3 bucket ARN (an account-level setting?)",
        })?;
        // The calls go where the bucket is; the finding's region is where the
        // event was recorded, which may be another.
        let region = resource.region.as_deref().unwrap_or(&finding.region);
        Target::new(bucket, region, &finding.account_id)
    }

    async fn observe(&self, target: &Target) -> Result<Observed, ActionError> {
        let client = self.client(target);
        let block = self.read_block(&client, target).await?;
        let tags = self.read_tags(&client, target).await?;
        Ok(Observed {
            state: json!({"bucket": target.resource, "public_access_block": block}),
            tags,
            principals: Vec::new(),
        })
    }

    fn plan(&self, target: &Target, observed: &Observed) -> Proposal {
        let off = settings_off(&observed.state);
        if off.is_empty() {
            return Proposal {
                calls: Vec::new(),
                after: format!(
                    "nothing left to do: all four public access block settings of bucket {} are on",
                    target.resource
                ),
            };
        }
        Proposal {
            calls: vec![put_call(target)],
            after: format!(
                "bucket {} blocks public access ({} turned on); its ACL, policy and objects stay as they are",
                target.resource,
                off.join(", ")
            ),
        }
    }

    async fn apply(&self, target: &Target, proposal: &Proposal) -> Result<(), ActionError> {
        if proposal.calls.is_empty() {
            return Ok(());
        }
        // Only the plan this action made for this bucket runs: anything else (a
        // plan for another bucket or owner, an edited one) is refused unmade.
        if proposal.calls != [put_call(target)] {
            return Err(ActionError {
                operation: "PutPublicAccessBlock",
                resource: target.resource.clone(),
                detail: "the proposal is not this action's plan for this bucket".into(),
                retryable: false,
            });
        }
        self.client(target)
            .put_public_access_block()
            .bucket(&target.resource)
            .expected_bucket_owner(&target.account)
            .public_access_block_configuration(desired())
            .send()
            .await
            .map_err(|e| failed("PutPublicAccessBlock", &target.resource, &e))?;
        Ok(())
    }

    async fn verify(&self, target: &Target) -> Result<Option<String>, ActionError> {
        let block = self.read_block(&self.client(target), target).await?;
        let off = settings_off(&json!({ "public_access_block": block }));
        Ok((!off.is_empty()).then(|| format!("still off after the put: {}", off.join(", "))))
    }
}

#[cfg(test)]
mod tests;
