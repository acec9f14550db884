# remediator: applies remediations (docs/deploy.md, "Remediation on AWS"). The api
# Lambda shows a finding's plan (GET /findings/{id}/remediation/plan), and when a
# person approves it records the approval in the remediations table and queues its
# id; this function checks every guard again, counts the per-account hourly limit
# (the attempt ledger in the same table), calls AWS, reads the resource back and
# records the outcome. Only the actions listed in var.remediation_enabled can
# change anything: their IAM actions come from backend/remediation_actions.json, the
# file the code's own list is tested against, and nothing else is granted. The
# fanout Lambda's remediation sink approves and queues the findings of
# var.remediation_auto the same way (fanout.tf); it reads no resource.
#
#   api (a person's approval), fanout (remediation_auto)
#        --SendMessage--> remediations queue (KMS) --event source mapping, batch of 1,
#        ReportBatchItemFailures, 2 at a time--> remediator --> the account's resources
#        | a message the worker never handled (it records its own failures
#        | and gives up after 3 receives), after 5 receives
#        v
#   remediations dead-letter queue (KMS; alarmed in queues.tf)
#
# Accounts: with var.remediation_member_role_name empty (the default) the api and the
# remediator call AWS with their own roles, so only this account is reached. When it
# is set, two roles of modules/remediation_member_role, applied by the operator in
# each account (this one included), are reached through STS in a finding's account
# ({account}: the code fills in its id), one per Lambda:
#   - assume_role = arn:<partition>:iam::{account}:role/<name>, the writer: the reads
#     of every action and the writes of the enabled ones, trusted by the remediator
#     only; the remediator assumes it (session cspm-remediator) for every change and
#     read-back, and gets sts:AssumeRole on that name in any account (AssumeMemberRole
#     below) and on nothing else;
#   - plan_role = arn:<partition>:iam::{account}:role/<name>-planner (a path stays in
#     front: ops/cspm-remediator -> ops/cspm-remediator-planner), the planner: the
#     reads of every action and no write, trusted by the api only; the api assumes it
#     (session cspm-planner) for every plan read, and gets sts:AssumeRole on that name
#     only (AssumePlannerRole in main.tf), never on the writer.
# The fanout approves without reading the resource, so it assumes neither and gets
# no sts:AssumeRole.

locals {
  remediator_timeout = 300

  # action id -> { read = [...], write = [...] }. Reads serve the plan and the
  # read-back after a change; writes make the change. The remediator gets the reads
  # and writes of the enabled actions; the api the reads of every action (a plan
  # is shown for an action that is not enabled too: plan only).
  remediation_catalog   = jsondecode(file("${path.module}/../../../backend/remediation_actions.json")).actions
  remediation_reads     = sort(distinct(flatten([for id in var.remediation_enabled : local.remediation_catalog[id].read])))
  remediation_writes    = sort(distinct(flatten([for id in var.remediation_enabled : local.remediation_catalog[id].write])))
  remediation_all_reads = sort(distinct(flatten([for id, a in local.remediation_catalog : a.read])))

  remediation_table_resources = [var.remediation_table_arn, "${var.remediation_table_arn}/index/*"]

  # assume_role and plan_role of the remediation file (see above): `{account}` is
  # literal text (not a Terraform interpolation), which the code replaces with a
  # finding's account id. Both keys are left out when
  # var.remediation_member_role_name is empty.
  remediation_member_roles = { for k, v in {
    assume_role = "arn:${local.partition}:iam::{account}:role/${var.remediation_member_role_name}"
    plan_role   = "arn:${local.partition}:iam::{account}:role/${var.remediation_member_role_name}-planner"
  } : k => v if var.remediation_member_role_name != "" }

  # CSPM_REMEDIATION_CONFIG of the api, the remediator and the fanout: the
  # remediation file (backend/src/remediate/config.rs) as YAML. Always protected:
  # the remediator's own role; every role of this deployment (<name_prefix>-*: the
  # Lambdas' roles and the others this stack creates) -- a change made through the
  # writer member role is not stopped by the Deny of the remediator's own policy
  # (NeverChangeThisDeployment below, which binds that role only), so the code's
  # guard must refuse it, and the member role's own Deny covers the deployment only
  # where its protected_name_prefix is set; and the break-glass roles (the code adds
  # that pattern by itself too; listing it here costs nothing). The code protects
  # the member roles (assume_role, plan_role, in any account) itself.
  remediation_config = yamlencode(merge({
    enabled       = var.remediation_enabled
    auto          = var.remediation_auto
    allowed_ports = var.remediation_allowed_ports
    protected_principals = distinct(concat([
      module.remediator.role_arn,
      "arn:${local.partition}:iam::*:role/${var.name_prefix}-*",
      "arn:${local.partition}:iam::*:role/break-glass-*",
    ], var.remediation_protected_principals))
    max_per_account_per_hour = var.remediation_max_per_account_per_hour
    accounts                 = var.remediation_accounts
    regions                  = var.remediation_regions
    protected_tag            = var.remediation_protected_tag
  }, local.remediation_member_roles))
}

resource "aws_sqs_queue" "remediations_dlq" {
  name                              = "${var.name_prefix}-remediations-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue" "remediations" {
  name = "${var.name_prefix}-remediations"
  # An approval older than 4 days is stale; its record still says it was approved.
  message_retention_seconds = 345600
  # Six times the function timeout, as AWS recommends for SQS event sources.
  visibility_timeout_seconds        = local.remediator_timeout * 6
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  # The worker gives up after 3 receives and records the failure; 5 leaves room
  # for that, so only a message it could never handle ends here.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.remediations_dlq.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sqs_queue_policy" "remediations" {
  queue_url = aws_sqs_queue.remediations.id
  policy    = data.aws_iam_policy_document.job_queues["remediations"].json
}

resource "aws_sqs_queue_policy" "remediations_dlq" {
  queue_url = aws_sqs_queue.remediations_dlq.id
  policy    = data.aws_iam_policy_document.job_queues["remediations_dlq"].json
}

data "aws_iam_policy_document" "remediator" {
  # checkov does not expand the dynamic statement below (its actions are only known
  # at plan time); rendered with actions enabled, it fails these checks by design:
  # checkov:skip=CKV_AWS_356:Remediation actions fix whichever security group, bucket, key, user, role, trail or function a finding names, so their resource is "*"; only the enabled actions are granted, the code's guards narrow every call, and a Deny statement keeps this deployment's roles and functions and the break-glass roles out of reach.
  # checkov:skip=CKV_AWS_111:Remediation writes (revoke an ingress rule, block public access, deactivate a key, detach or delete a policy, start a trail, cancel a key deletion, remove a public permission) must reach any resource a finding names; only the enabled actions are granted (var.remediation_enabled), each call is guarded and recorded.
  # checkov:skip=CKV_AWS_109:iam:Detach*Policy, iam:Delete*Policy and lambda:RemovePermission only take permissions away (a finding's admin or inline policy, a public function permission); granted only when their action is enabled, and denied on this deployment's roles and functions and on break-glass roles.
  # checkov:skip=CKV_AWS_107:iam:UpdateAccessKey is granted only when iam-deactivate-access-key is enabled, and the code only sets a leaked key Inactive; it can neither create nor read a key.
  # The finding a remediation resolves, written back through the pipeline like any
  # writer's change.
  statement {
    sid       = "ResolveFindings"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = local.table_resources
  }

  # A resolve whose compliance results change takes failing rows out in its own
  # write's transaction; no other item may be deleted.
  statement {
    sid       = "RemoveFailingRows"
    actions   = ["dynamodb:DeleteItem"]
    resources = [var.table_arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = local.failing_row_keys
    }
  }

  # Records (read, update with the outcome; Query: a finding's records, the
  # records by time) and the per-account attempt ledger items.
  statement {
    sid       = "KeepRemediationRecords"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = local.remediation_table_resources
  }

  # The poller's reads of the queue (with the function's role), and the code's
  # own: a message it must try again later is made visible after a delay.
  statement {
    sid       = "ReceiveRemediations"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.remediations.arn]
  }

  # The tables and the queue are encrypted with the key.
  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  # The enabled actions' reads and writes (backend/remediation_actions.json), on
  # any resource: a finding can name any security group, bucket, key, user, role,
  # trail or function of the account, which the guards (protected principals and
  # tag, allowed ports, the hourly limit) narrow per call. No statement at all
  # when nothing is enabled.
  dynamic "statement" {
    for_each = { for sid, actions in { ObserveRemediationTargets = local.remediation_reads, RemediateTargets = local.remediation_writes } : sid => actions if length(actions) > 0 }

    content {
      sid       = statement.key
      actions   = statement.value
      resources = ["*"]
    }
  }

  # Cross-account remediation (var.remediation_member_role_name set): act as the
  # writer member role of a finding's account (assume_role), that role name in any
  # account and no other role -- not the planner, which only the api assumes. No
  # statement at all when it is empty.
  dynamic "statement" {
    for_each = var.remediation_member_role_name == "" ? [] : [var.remediation_member_role_name]

    content {
      sid       = "AssumeMemberRole"
      actions   = ["sts:AssumeRole"]
      resources = ["arn:${local.partition}:iam::*:role/${var.remediation_member_role_name}"]
    }
  }

  # Whatever is enabled: never strip this deployment's own roles or functions, nor
  # a break-glass role (the guards refuse these too; this holds if they fail).
  statement {
    sid     = "NeverChangeThisDeployment"
    effect  = "Deny"
    actions = ["iam:DetachRolePolicy", "iam:DeleteRolePolicy", "lambda:RemovePermission", "lambda:UpdateFunctionUrlConfig"]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:role/${var.name_prefix}-*",
      "arn:${local.partition}:iam::${local.account_id}:role/break-glass-*",
      "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name_prefix}-*",
    ]
  }
}

module "remediator" {
  source = "../lambda"

  name_prefix  = var.name_prefix
  function_key = "remediator"
  description  = "Applies approved remediations from the remediations queue (only the actions enabled in remediation_enabled), reads the result back and records it."
  zip_path     = "${var.lambda_dist_dir}/remediator/bootstrap.zip"
  # One remediation at a time: a few AWS calls and a record.
  memory_size = 256
  timeout     = local.remediator_timeout
  # The event source mapping's two pollers; no other caller.
  reserved_concurrency = 2
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = var.alarm_topic_arn
  policy_json          = data.aws_iam_policy_document.remediator.json

  environment = {
    CSPM_TABLE_NAME            = var.table_name
    CSPM_RETENTION_DAYS        = tostring(var.retention_days)
    CSPM_REMEDIATION_TABLE     = var.remediation_table_name
    CSPM_REMEDIATION_QUEUE_URL = aws_sqs_queue.remediations.url
    CSPM_REMEDIATION_CONFIG    = local.remediation_config
    RUST_LOG                   = var.log_level
  }
}

resource "aws_lambda_event_source_mapping" "remediator" {
  event_source_arn = aws_sqs_queue.remediations.arn
  function_name    = module.remediator.function_arn
  # One remediation per invocation. With maximum_concurrency = 2 two invocations
  # may start remediations of one account at the same moment; the per-account
  # hourly limit still holds, because a start is recorded in the ledger item only
  # on the version its check read (a conditional write): the second start reads
  # the first one and is refused as rate-limited when it would pass
  # var.remediation_max_per_account_per_hour.
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = 2
  }

  depends_on = [aws_sqs_queue_policy.remediations]
}
