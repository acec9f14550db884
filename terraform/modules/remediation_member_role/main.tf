# The two roles cross-account remediation acts as (docs/deploy.md, "Remediation on
# AWS"). Not called by terraform/main.tf: an operator applies it in every account
# remediated -- each member account, and the deployment's own account too, since with
# remediation_member_role_name set every plan and every change goes through these
# roles (README.md here shows how).
#
#   deployment's remediator (changes, read-backs)
#        --sts:AssumeRole, session cspm-remediator-->  writer  <role_name>
#        (reads of every action, writes of var.enabled_actions)
#   deployment's api (plans)
#        --sts:AssumeRole, session cspm-planner-->     planner <role_name>-planner
#        (reads of every action, no write)
#   both in the finding's account  -->  the account's resources
#
# Each role trusts one of the deployment's roles only: the writer the remediator
# (var.writer_trusted_role_arns), the planner the api (var.planner_trusted_role_arns),
# so the api, which shows plans and records approvals, can never reach a write. What
# they may do comes from backend/remediation_actions.json, the file the code's own
# list of calls is tested against (scripts/check_terraform.py checks this module
# against the "member_roles" entries of backend/lambdas.json): the reads of every
# action for both (a plan reads the resource, and an action that is not enabled is
# still planned; the remediator reads the resource back after a change), and the
# writes of var.enabled_actions for the writer only, on any resource of the account;
# an explicit Deny keeps both roles, break-glass roles and (in the home account,
# var.protected_name_prefix) the deployment's own roles and functions out of reach.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # "ops/cspm-remediator" is the role cspm-remediator under the path /ops/: its ARN
  # is ...:role/ops/cspm-remediator, what the deployment's assume_role names. The
  # planner is <name>-planner under the same path (ops/cspm-remediator-planner), what
  # its plan_role names.
  role_name_parts = split("/", var.role_name)
  role_base_name  = element(local.role_name_parts, length(local.role_name_parts) - 1)
  role_path       = length(local.role_name_parts) > 1 ? "/${join("/", slice(local.role_name_parts, 0, length(local.role_name_parts) - 1))}/" : "/"

  # action id -> { read = [...], write = [...] }, read from the repository (a module
  # source must be a checkout, or a git source with //terraform/modules/... so the
  # file comes along). An unknown id in var.enabled_actions is refused by the writer
  # policy's precondition.
  catalog         = jsondecode(file("${path.module}/../../../backend/remediation_actions.json")).actions
  unknown_actions = [for id in var.enabled_actions : id if !contains(keys(local.catalog), id)]
  all_reads       = sort(distinct(flatten([for id, a in local.catalog : a.read])))
  writes          = sort(distinct(flatten([for id in var.enabled_actions : try(local.catalog[id].write, [])])))

  # A role trusted for both would let the api reach the writes.
  trusted_by_both = setintersection(var.writer_trusted_role_arns, var.planner_trusted_role_arns)

  protected_resources = concat(
    [aws_iam_role.writer.arn, aws_iam_role.planner.arn, "arn:${local.partition}:iam::${local.account_id}:role/break-glass-*"],
    var.protected_name_prefix == "" ? [] : [
      "arn:${local.partition}:iam::${local.account_id}:role/${var.protected_name_prefix}-*",
      "arn:${local.partition}:lambda:*:${local.account_id}:function:${var.protected_name_prefix}-*",
    ],
  )
}

# The writer was aws_iam_role.member when the module made one role: keep it.
moved {
  from = aws_iam_role.member
  to   = aws_iam_role.writer
}

moved {
  from = aws_iam_role_policy.member
  to   = aws_iam_role_policy.writer
}

# --- writer: the remediator's changes ------------------------------------------------

# Only the deployment's remediator role, by ARN.
data "aws_iam_policy_document" "writer_trust" {
  statement {
    sid     = "TrustTheRemediator"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.writer_trusted_role_arns
    }
  }
}

resource "aws_iam_role" "writer" {
  name                 = local.role_base_name
  path                 = local.role_path
  description          = "cspm-monitor remediation: assumed by the deployment's remediator only (changes, read-backs); the reads of every remediation action and the writes of the enabled ones (backend/remediation_actions.json)."
  assume_role_policy   = data.aws_iam_policy_document.writer_trust.json
  max_session_duration = 3600

  lifecycle {
    precondition {
      condition     = length(local.trusted_by_both) == 0
      error_message = "writer_trusted_role_arns and planner_trusted_role_arns must not share a role (the api must never be trusted by the writer); both list: ${join(", ", local.trusted_by_both)}."
    }
  }
}

data "aws_iam_policy_document" "writer" {
  # checkov does not expand the computed statements below (their actions are read from
  # a file at plan time); rendered with actions enabled, they fail these checks by design:
  # checkov:skip=CKV_AWS_356:Remediation actions read and fix whichever security group, bucket, key, user, role, trail or function a finding of this account names, so their resource is "*"; the reads are Get/List/Describe only (checked by scripts/check_terraform.py), only the enabled actions' writes are granted, the code's guards narrow every call, and a Deny statement keeps the member roles, break-glass roles and the deployment's own roles and functions out of reach.
  # checkov:skip=CKV_AWS_111:Remediation writes (revoke an ingress rule, block public access, deactivate a key, detach or delete a policy, start a trail, cancel a key deletion, remove a public permission) must reach any resource a finding names; only the enabled actions are granted (var.enabled_actions), each call is guarded and recorded by the deployment.
  # checkov:skip=CKV_AWS_109:iam:Detach*Policy, iam:Delete*Policy and lambda:RemovePermission only take permissions away (a finding's admin or inline policy, a public function permission); granted only when their action is enabled, and denied on the member roles, on break-glass roles and on the deployment's own roles and functions.
  # checkov:skip=CKV_AWS_107:iam:UpdateAccessKey is granted only when iam-deactivate-access-key is enabled, and the code only sets a leaked key Inactive; it can neither create nor read a key.

  # The remediator reads the resource before and after a change: the reads of every
  # action, on any resource (as the planner's, below).
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

  # Whatever is enabled: never strip the member roles, a break-glass role or (home
  # account) the deployment's own roles and functions (the guards refuse these too;
  # this holds if they fail).
  statement {
    sid       = "NeverChangeTheRemediation"
    effect    = "Deny"
    actions   = ["iam:DetachRolePolicy", "iam:DeleteRolePolicy", "lambda:RemovePermission", "lambda:UpdateFunctionUrlConfig"]
    resources = local.protected_resources
  }
}

resource "aws_iam_role_policy" "writer" {
  name   = "remediation"
  role   = aws_iam_role.writer.id
  policy = data.aws_iam_policy_document.writer.json

  lifecycle {
    precondition {
      condition     = length(local.unknown_actions) == 0
      error_message = "enabled_actions must list action ids that are keys of \"actions\" in backend/remediation_actions.json; unknown: ${join(", ", local.unknown_actions)}."
    }
  }
}

# --- planner: the api's plans -----------------------------------------------------------

# Only the deployment's api role, by ARN.
data "aws_iam_policy_document" "planner_trust" {
  statement {
    sid     = "TrustTheApi"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.planner_trusted_role_arns
    }
  }
}

resource "aws_iam_role" "planner" {
  name                 = "${local.role_base_name}-planner"
  path                 = local.role_path
  description          = "cspm-monitor remediation: assumed by the deployment's api only (plans); the reads of every remediation action (backend/remediation_actions.json), no write."
  assume_role_policy   = data.aws_iam_policy_document.planner_trust.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "planner" {
  # checkov does not expand the computed statement below (its actions are read from a
  # file at plan time):
  # checkov:skip=CKV_AWS_356:A plan reads whichever security group, bucket, key, user, role, trail or function a finding of this account names, so the reads (Get/List/Describe only, checked by scripts/check_terraform.py) are granted on "*"; the role has no write at all.

  # A plan reads the resource it would change, and an action that is not enabled is
  # still planned (plan only): the reads of every action, on any resource. Nothing
  # else: whatever the deployment enables, this role can change nothing.
  statement {
    sid       = "ObserveRemediationTargets"
    actions   = local.all_reads
    resources = ["*"]
  }

  # It has no write to deny; kept so that the role can never be the way around the
  # writer's Deny if a write were ever added here.
  statement {
    sid       = "NeverChangeTheRemediation"
    effect    = "Deny"
    actions   = ["iam:DetachRolePolicy", "iam:DeleteRolePolicy", "lambda:RemovePermission", "lambda:UpdateFunctionUrlConfig"]
    resources = local.protected_resources
  }
}

resource "aws_iam_role_policy" "planner" {
  name   = "remediation-plans"
  role   = aws_iam_role.planner.id
  policy = data.aws_iam_policy_document.planner.json
}
