# Optional: enable Security Hub here with the AWS Foundational Security Best
# Practices and CIS AWS Foundations standards. Leave it off when an organization's
# delegated administrator already manages Security Hub.

data "aws_region" "current" {}
data "aws_partition" "current" {}

resource "aws_securityhub_account" "main" {
  enable_default_standards  = false
  auto_enable_controls      = true
  control_finding_generator = "SECURITY_CONTROL"
}

resource "aws_securityhub_standards_subscription" "standards" {
  for_each      = toset(var.standards)
  standards_arn = "arn:${data.aws_partition.current.partition}:securityhub:${data.aws_region.current.name}::standards/${each.value}"

  depends_on = [aws_securityhub_account.main]
}
