//! Resource types in one spelling: ASFF's (`AwsS3Bucket`), whatever a producer wrote.
//!
//! The new Security Hub's OCSF findings name AWS resources in CloudFormation's
//! spelling (`AWS::IAM::AccessKey`), Prowler and OCSF's own examples in ASFF's
//! (`AwsIamAccessKey`). Filters, alert routes and remediation actions match the
//! type as text, so the same bucket must not be two types depending on who reported
//! it: CloudFormation names are turned into the ASFF names Security Hub documents
//! (`Aws` + service + resource, each in Pascal case: `AWS::RDS::DBInstance` →
//! `AwsRdsDbInstance`); any other spelling is kept as written.

/// Services whose ASFF name is not their CloudFormation name in Pascal case.
const SERVICES: [(&str, &str); 5] = [
    ("ElasticLoadBalancingV2", "Elbv2"),
    ("ElasticLoadBalancing", "Elb"),
    ("WAFv2", "Wafv2"),
    ("StepFunctions", "StepFunction"),
    ("OpenSearchService", "OpenSearchService"),
];

/// Whole types whose ASFF name follows no rule.
const TYPES: [(&str, &str); 1] = [("AWS::Events::EventBus", "AwsEventsEventbus")];

/// `type` in ASFF's spelling when it is a CloudFormation `AWS::Service::Resource`
/// name; otherwise `type` unchanged.
pub(super) fn asff_type(type_name: &str) -> String {
    if let Some((_, asff)) = TYPES.iter().find(|(cfn, _)| *cfn == type_name) {
        return (*asff).to_string();
    }
    let Some(rest) = type_name.strip_prefix("AWS::") else {
        return type_name.to_string();
    };
    let mut parts = rest.split("::");
    let (Some(service), Some(resource), None) = (parts.next(), parts.next(), parts.next()) else {
        return type_name.to_string();
    };
    if resource.is_empty() || !rest.chars().all(|c| c.is_ascii_alphanumeric() || c == ':') {
        return type_name.to_string();
    }
    let service = SERVICES
        .iter()
        .find(|(cfn, _)| *cfn == service)
        .map_or_else(|| pascal(service), |(_, asff)| (*asff).to_string());
    format!("Aws{service}{}", pascal(resource))
}

/// `word` with each run of capitals written as one capital and lowercase letters
/// (`IAM` → `Iam`, `DBInstance` → `DbInstance`, `EC2` → `Ec2`); the last capital of a
/// run that a lowercase letter follows starts the next word and stays.
fn pascal(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    for (i, &c) in chars.iter().enumerate() {
        let after_capital = i > 0 && chars[i - 1].is_ascii_uppercase();
        let starts_word = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        if c.is_ascii_uppercase() && after_capital && !starts_word {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::asff_type;

    #[test]
    fn cloudformation_names_become_the_asff_names_security_hub_documents() {
        for (cfn, asff) in [
            ("AWS::IAM::AccessKey", "AwsIamAccessKey"),
            ("AWS::IAM::Policy", "AwsIamPolicy"),
            ("AWS::SQS::Queue", "AwsSqsQueue"),
            ("AWS::S3::Bucket", "AwsS3Bucket"),
            ("AWS::EC2::SecurityGroup", "AwsEc2SecurityGroup"),
            ("AWS::EC2::VPC", "AwsEc2Vpc"),
            ("AWS::EC2::NetworkACL", "AwsEc2NetworkAcl"),
            ("AWS::EC2::VPCEndpointService", "AwsEc2VpcEndpointService"),
            ("AWS::RDS::DBInstance", "AwsRdsDbInstance"),
            ("AWS::DynamoDB::Table", "AwsDynamoDbTable"),
            ("AWS::KMS::Key", "AwsKmsKey"),
            ("AWS::Lambda::Function", "AwsLambdaFunction"),
            (
                "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "AwsElbv2LoadBalancer",
            ),
            (
                "AWS::ElasticLoadBalancing::LoadBalancer",
                "AwsElbLoadBalancer",
            ),
            ("AWS::WAFv2::WebACL", "AwsWafv2WebAcl"),
            ("AWS::WAFRegional::WebACL", "AwsWafRegionalWebAcl"),
            (
                "AWS::StepFunctions::StateMachine",
                "AwsStepFunctionStateMachine",
            ),
            ("AWS::Events::EventBus", "AwsEventsEventbus"),
            ("AWS::ApiGatewayV2::Api", "AwsApiGatewayV2Api"),
            ("AWS::::Account", "AwsAccount"),
        ] {
            assert_eq!(asff_type(cfn), asff, "{cfn}");
        }
    }

    #[test]
    fn other_spellings_are_kept_as_written() {
        for t in [
            "AwsS3Bucket",
            "Other",
            "Microsoft.Insights/components",
            "API Key",
            "AWS::S3",
            "AWS::S3::Bucket::Extra",
            "AWS::S3::",
            "AWS::S3::Bu cket",
            "",
        ] {
            assert_eq!(asff_type(t), t);
        }
    }
}
