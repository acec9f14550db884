# Settings the code reads at run time under the SSM prefix (/<project>/<env>/).
# Values that change outside Terraform (a secret set by an operator, a cursor the
# scanner writes) are created once and then left alone (ignore_changes).

resource "aws_ssm_parameter" "slack_webhook_url" {
  name        = "${var.ssm_prefix}slack_webhook_url"
  description = "Slack incoming-webhook URL for alerts; set it with aws ssm put-parameter --overwrite (docs/deploy.md). 'unset' disables Slack."
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = "unset"

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_ssm_parameter" "sync_state" {
  # checkov:skip=CKV2_AWS_34:Holds only the Security Hub sync progress, not a secret; a SecureString would force kms:Encrypt onto the scanner role, which nothing else needs.
  name        = "${var.ssm_prefix}sync_state"
  description = "Where the last full Security Hub sync stopped; written by the scanner."
  type        = "String"
  value       = "{}"

  lifecycle {
    ignore_changes = [value]
  }
}
