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

# The sinks YAML of the fanout Lambda (CSPM_SINKS_PARAMETER names it whether or not
# it exists). Managed from var.sinks_yaml: when that is empty no parameter is
# created, and the Lambda falls back to one SNS sink built from the two topics (the
# alerting the scanner used to do). A SecureString although the file holds no
# secrets itself (those are `secret_ssm:` references): webhook URLs often carry a
# token. Put it either here or by hand (aws ssm put-parameter), not both.
locals {
  sinks_parameter_name = "${var.ssm_prefix}sinks"
}

resource "aws_ssm_parameter" "sinks" {
  count       = nonsensitive(trimspace(var.sinks_yaml) == "") ? 0 : 1
  name        = local.sinks_parameter_name
  description = "Sinks YAML of the fanout Lambda (terraform variable sinks_yaml; docs/deploy.md)."
  type        = "SecureString"
  tier        = "Standard"
  key_id      = var.kms_key_arn
  value       = var.sinks_yaml
}

# The organisation's lists the detection rules read (the format of
# backend/rules/detection-settings.yaml), from var.detection_settings_yaml: when that
# is empty no parameter is created and every list is empty (the rules that need one
# stay inert). The scanner and api read it with the other parameters under the
# prefix at cold start. Put it either here or by hand, not both.
resource "aws_ssm_parameter" "detection_settings" {
  # checkov:skip=CKV2_AWS_34:Lists of resource names, ARN patterns, instance types and account ids, no credentials; kept a plain String so plans show what changes in them.
  count       = trimspace(var.detection_settings_yaml) == "" ? 0 : 1
  name        = "${var.ssm_prefix}detection_settings"
  description = "Detection settings (honeytokens, automation principals, usual instance types, trusted accounts) read by the scanner and api (terraform variable detection_settings_yaml; docs/detections.md)."
  type        = "String"
  tier        = "Standard"
  value       = var.detection_settings_yaml
}
