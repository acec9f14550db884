# The role cross-account remediation acts as (docs/deploy.md, "Remediation on AWS").
# Not called by terraform/main.tf: an operator applies it in every account remediated
# -- each member account, and the deployment's own account too, since with
# remediation_member_role_name set every plan and every change goes through this
# role (README.md here shows how).
#
#   deployment's api (plans) and remediator (changes), in the home account
#        --sts:AssumeRole, session name cspm-remediator-->  this role, in the
#        finding's account  --the enabled actions-->  the account's resources
#
# What it may do comes from backend/remediation_actions.json, the file the code's own
# list of calls is tested against (scripts/check_terraform.py checks this module
# against the "member_roles" entry of backend/lambdas.json): the reads of every
# action (a plan reads the resource, and an action that is not enabled is still
# planned), and the writes of var.enabled_actions only, on any resource of the
# account; an explicit Deny keeps this role, break-glass roles and (in the home
# account, var.protected_name_prefix) the deployment's own roles and functions out of
# reach. Only var.trusted_role_arns may assume it.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # "ops/cspm-remediator" is the role cspm-remediator under the path /ops/: its ARN
  # is ...:role/ops/cspm-remediator, what the deployment's assume_role names.
  role_name_parts = split("/", var.role_name)
  role_path       = length(local.role_name_parts) > 1 ? "/${join("/", slice(local.role_name_parts, 0, length(local.role_name_parts) - 1))}/" : "/"

  # action id -> { read = [...], write = [...] }, read from the repository (a module
  # source must be a checkout, or a git source with //terraform/modules/... so the
  # file comes along). An unknown id in var.enabled_actions is refused by the role
  # policy's precondition.
  catalog         = jsondecode(file("${path.module}/../../../backend/remediation_actions.json")).actions
  unknown_actions = [for id in var.enabled_actions : id if !contains(keys(local.catalog), id)]
  all_reads       = sort(distinct(flatten([for id, a in local.catalog : a.read])))
  writes          = sort(distinct(flatten([for id in var.enabled_actions : try(local.catalog[id].write, [])])))

  protected_resources = concat(
    [aws_iam_role.member.arn, "arn:${local.partition}:iam::${local.account_id}:role/break-glass-*"],
    var.protected_name_prefix == "" ? [] : [
      "arn:${local.partition}:iam::${local.account_id}:role/${var.protected_name_prefix}-*",
      "arn:${local.partition}:lambda:*:${local.account_id}:function:${var.protected_name_prefix}-*",
    ],
  )
}

# Only the deployment's remediator and api roles, by ARN.
data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "TrustTheRemediationRoles"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.trusted_role_arns
    }
  }
}

resource "aws_iam_role" "member" {
  name                 = element(local.role_name_parts, length(local.role_name_parts) - 1)
  path                 = local.role_path
  description          = "cspm-monitor remediation: assumed by the deployment's remediator (changes) and api (plans); the reads of every remediation action and the writes of the enabled ones (backend/remediation_actions.json)."
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "member" {
  # checkov does not expand the computed statements below (their actions are read from
  # a file at plan time); rendered with actions enabled, they fail these checks by design:
  # checkov:skip=CKV_AWS_356:Remediation actions read and fix whichever security group, bucket, key, user, role, trail or function a finding of this account names, so their resource is "*"; the reads are Get/List/Describe only (checked by scripts/check_terraform.py), only the enabled actions' writes are granted, the code's guards narrow every call, and a Deny statement keeps this role, break-glass roles and the deployment's own roles and functions out of reach.
  # checkov:skip=CKV_AWS_111:Remediation writes (revoke an ingress rule, block public access, deactivate a key, detach or delete a policy, start a trail, cancel a key deletion, remove a public permission) must reach any resource a finding names; only the enabled actions are granted (var.enabled_actions), each call is guarded and recorded by the deployment.
  # checkov:skip=CKV_AWS_109:iam:Detach*Policy, iam:Delete*Policy and lambda:RemovePermission only take permissions away (a finding's admin or inline policy, a public function permission); granted only when their action is enabled, and denied on this role, on break-glass roles and on the deployment's own roles and functions.
  # checkov:skip=CKV_AWS_107:iam:UpdateAccessKey is granted only when iam-deactivate-access-key is enabled, and the code only sets a leaked key Inactive; it can neither create nor read a key.

  # A plan reads the resource it would change, and an action that is not enabled is
  # still planned (plan only): the reads of every action, on any resource.
  statement {
    sid       = "ObserveRemediationTargets"
    actions   = local.all_reads
    resources = ["*"]
  }

  # The writes of the enabled actions only, on any resource: a finding can name any
  # security group, bucket, key, user, role, trail or function of the account, which
  # the guards (protected principals and tag, allowed ports, the hourly limit) narrow
  # per call. No statement at all when nothing is enabled.
  dynamic "statement" {
    for_each = length(local.writes) > 0 ? [local.writes] : []

    content {
      sid       = "RemediateTargets"
      actions   = statement.value
      resources = ["*"]
    }
  }

  # Whatever is enabled: never strip this role, a break-glass role or (home account)
  # the deployment's own roles and functions (the guards refuse these too; this holds
  # if they fail).
  statement {
    sid       = "NeverChangeTheRemediation"
    effect    = "Deny"
    actions   = ["iam:DetachRolePolicy", "iam:DeleteRolePolicy", "lambda:RemovePermission", "lambda:UpdateFunctionUrlConfig"]
    resources = local.protected_resources
  }
}

resource "aws_iam_role_policy" "member" {
  name   = "remediation"
  role   = aws_iam_role.member.id
  policy = data.aws_iam_policy_document.member.json

  lifecycle {
    precondition {
      condition     = length(local.unknown_actions) == 0
      error_message = "enabled_actions must list action ids that are keys of \"actions\" in backend/remediation_actions.json; unknown: ${join(", ", local.unknown_actions)}."
    }
  }
}
