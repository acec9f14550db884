# The Lambdas: scanner, api and archiver here, fanout (with its change-feed wiring)
# in fanout.tf, exporter (with its queue) in exporter.tf, remediator (with its queue)
# in remediator.tf, the live dashboard's live and live_authorizer in live.tf; what the
# job queues share in queues.tf. Each gets exactly the environment variables and IAM
# actions listed for it in backend/lambdas.json (checked by
# scripts/check_terraform.py), with every action scoped to the resources that
# function touches; the remediation actions' own IAM comes from
# backend/remediation_actions.json: the api gets the reads of every action (plans),
# the remediator the reads and writes of the enabled actions only.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  table_resources = [var.table_arn, "${var.table_arn}/index/*"]
  # The items of a finding's failing compliance rows (store/dynamo/controls.rs).
  failing_row_keys = ["#cfr#*", "#cff#*"]
  ssm_path_arn     = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${trimsuffix(var.ssm_prefix, "/")}"
  ssm_param_arns   = [local.ssm_path_arn, "${local.ssm_path_arn}/*"]

  # The api's static admin token (docs/deploy.md, "A static API token"): beside the
  # prefix, as the client secret is, so no other role's grant on the prefix reaches it.
  api_token_parameter_name = "${trimsuffix(var.ssm_prefix, "/")}-api/api_token"
  api_token_parameter_arn  = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.api_token_parameter_name}"
}

# --- scanner: Security Hub events, redrive queue and scheduled sync -> table ---------
# It no longer alerts: every change it stores reaches the sinks (SNS alerts among
# them) through the table's stream and the fanout Lambda.

data "aws_iam_policy_document" "scanner" {
  # BatchGetItem: the stored heads of a batch; a TransactWriteItems of its puts and
  # counter updates is authorized as PutItem/UpdateItem.
  statement {
    sid       = "UpsertFindings"
    actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = local.table_resources
  }

  # A finding that stops failing a control takes its failing rows out in its own
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

  statement {
    sid       = "ReadSettings"
    actions   = ["ssm:GetParametersByPath", "ssm:GetParameter"]
    resources = local.ssm_param_arns
  }

  statement {
    sid       = "SaveSyncState"
    actions   = ["ssm:PutParameter"]
    resources = [var.sync_state_parameter_arn]
  }

  statement {
    sid       = "SyncSecurityHub"
    actions   = ["securityhub:GetFindings"]
    resources = ["arn:${local.partition}:securityhub:${local.region}:${local.account_id}:hub/default"]
  }

  statement {
    sid       = "RedriveDeadLetters"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [var.events_dlq_arn]
  }

  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

# memory_size buys CPU, not memory (peak RSS under 30 MiB with a 100-finding event):
# below about 1 GB the handler is CPU-bound, so the cost per event does not depend
# on the size, only its duration does (README, "Lambda cost: the scanner").
module "scanner" {
  source = "../lambda"

  name_prefix          = var.name_prefix
  function_key         = "scanner"
  description          = "Normalizes Security Hub findings (events, redrive queue, scheduled sync) and stores them."
  zip_path             = "${var.lambda_dist_dir}/scanner/bootstrap.zip"
  memory_size          = 512
  timeout              = 300
  reserved_concurrency = var.scanner_reserved_concurrency
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = var.alarm_topic_arn
  policy_json          = data.aws_iam_policy_document.scanner.json

  environment = {
    CSPM_TABLE_NAME          = var.table_name
    CSPM_RETENTION_DAYS      = tostring(var.retention_days)
    CSPM_SSM_PREFIX          = var.ssm_prefix
    CSPM_ACCOUNT_ID_OVERRIDE = var.account_id_override
    RUST_LOG                 = var.log_level
  }
}

# --- api: the HTTP API behind CloudFront /api/* and /auth/* -------------------------
# It authenticates every request itself: Cognito bearer tokens against the pool's JWKS,
# browser sessions from the sessions table (sign-in at /auth/*, docs/auth.md).

data "aws_iam_policy_document" "api" {
  # The remediation reads below are granted on "*", which fails this check by design:
  # checkov:skip=CKV_AWS_356:A remediation plan reads whichever resource a finding names, so the reads of every remediation action (Get, List and Describe only, checked by scripts/check_terraform.py) are granted on "*"; no write is.
  statement {
    sid       = "ReadAndTriageFindings"
    actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = local.table_resources
  }

  # A workflow change that suppresses a failing finding takes its failing rows out.
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

  statement {
    sid       = "ReadSettings"
    actions   = ["ssm:GetParametersByPath"]
    resources = local.ssm_param_arns
  }

  # POST /live/ticket: a single-use ticket (its sha256) for a live dashboard
  # connection, consumed by the live_authorizer.
  statement {
    sid       = "IssueLiveTickets"
    actions   = ["dynamodb:PutItem"]
    resources = [var.state_table_arn]
  }

  # The app client's secret, read once per cold start: a parameter of its own,
  # which no other role may read.
  statement {
    sid       = "ReadClientSecret"
    actions   = ["ssm:GetParameter"]
    resources = [var.oidc_client_secret_parameter_arn]
  }

  # The static admin token, when the deployment has one (static_api_token): also a
  # parameter of its own, read once per cold start.
  statement {
    sid       = "ReadStaticToken"
    actions   = ["ssm:GetParameter"]
    resources = [local.api_token_parameter_arn]
  }

  # The auth table. Sessions and sign-ins in progress: written, read, and taken
  # with a DeleteItem that returns the old item (callback, sign-out, renewal); only
  # items whose key starts session# or login#. Named tokens: read by hash, and only
  # their last use recorded. Tokens are made and revoked by an operator's
  # `cspm tokens --table`, never by this role, so it cannot mint one. (The
  # conditions follow AWS's fine-grained access control keys; the emulator does
  # not enforce IAM, so they are not exercised by the tests.)
  statement {
    sid       = "ReadAuthItems"
    actions   = ["dynamodb:GetItem"]
    resources = [var.auth_table_arn]
  }

  statement {
    sid       = "KeepSessions"
    actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [var.auth_table_arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["session#*", "login#*"]
    }
  }

  statement {
    sid       = "RecordTokenUse"
    actions   = ["dynamodb:UpdateItem"]
    resources = [var.auth_table_arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["token#*"]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:Attributes"
      values   = ["pk", "last_used_ms"]
    }
  }

  # Export jobs (POST /exports, GET /exports/{id}): the status objects under
  # exports/ (the exporter writes the files; a presigned link is signed with this
  # role, so reading the file is this role's GetObject and kms:Decrypt).
  statement {
    sid       = "KeepExportJobs"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = [local.exports_objects]
  }

  statement {
    sid       = "ListExportJobs"
    actions   = ["s3:ListBucket"]
    resources = [var.archive_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.exports_key_prefix}*"]
    }
  }

  # The job queues: export jobs for the exporter, approved remediations for the
  # remediator.
  statement {
    sid       = "QueueJobs"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.exports.arn, aws_sqs_queue.remediations.arn]
  }

  # Remediation records: an approval is recorded before it is queued; GET
  # /remediations and a finding's remediations read them back (Query on
  # FindingIndex, TimeIndex and StatusIndex).
  statement {
    sid       = "KeepRemediationRecords"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = local.remediation_table_resources
  }

  # A plan (GET /findings/{id}/remediation/plan) reads the resource it would
  # change: the reads, and only the reads, of every action of
  # backend/remediation_actions.json, on any resource a finding can name. Enabled
  # or not: an action that is not enabled is still planned (plan only), and the
  # plan observes the resource; only the remediator gets writes, and only of the
  # enabled actions (remediator.tf).
  statement {
    sid       = "ObserveRemediationTargets"
    actions   = local.remediation_all_reads
    resources = ["*"]
  }

  # Cross-account remediation (var.remediation_member_role_name set): a plan reads
  # the resource as the planner member role of the finding's account (plan_role,
  # <name>-planner: the reads of every action, no write; remediator.tf). That role
  # name in any account and no other role: never the writer <name>, which holds the
  # enabled actions' writes and which only the remediator assumes. No statement at
  # all when the variable is empty.
  dynamic "statement" {
    for_each = var.remediation_member_role_name == "" ? [] : [var.remediation_member_role_name]

    content {
      sid       = "AssumePlannerRole"
      actions   = ["sts:AssumeRole"]
      resources = ["arn:${local.partition}:iam::*:role/${var.remediation_member_role_name}-planner"]
    }
  }

  # Decrypt the tables, parameters and export objects; encrypt status objects and
  # queued jobs.
  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

module "api" {
  source = "../lambda"

  name_prefix          = var.name_prefix
  function_key         = "api"
  description          = "HTTP API for the dashboard and tools (findings, summary, health, live tickets, export jobs, remediation plans and approvals) and browser sign-in (/auth/*)."
  zip_path             = "${var.lambda_dist_dir}/api/bootstrap.zip"
  memory_size          = 256
  timeout              = 15
  reserved_concurrency = var.api_reserved_concurrency
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = var.alarm_topic_arn
  policy_json          = data.aws_iam_policy_document.api.json

  environment = {
    CSPM_TABLE_NAME     = var.table_name
    CSPM_RETENTION_DAYS = tostring(var.retention_days)
    CSPM_DASHBOARD_URL  = var.dashboard_url
    CSPM_SSM_PREFIX     = var.ssm_prefix
    # Same origin behind CloudFront, so the browser sends no CORS request; listed
    # anyway so a tool served elsewhere from the dashboard URL keeps working.
    CSPM_CORS_ORIGINS = var.dashboard_url
    CSPM_STATE_TABLE  = var.state_table_name
    # Export jobs: status objects in the archive bucket, jobs queued for the exporter.
    CSPM_ARCHIVE_BUCKET      = var.archive_bucket
    CSPM_ARCHIVE_PREFIX      = var.archive_prefix
    CSPM_ARCHIVE_KMS_KEY_ARN = var.kms_key_arn
    CSPM_EXPORT_QUEUE_URL    = aws_sqs_queue.exports.url
    # Remediation: plans shown, approvals recorded and queued for the remediator.
    CSPM_REMEDIATION_TABLE     = var.remediation_table_name
    CSPM_REMEDIATION_QUEUE_URL = aws_sqs_queue.remediations.url
    CSPM_REMEDIATION_CONFIG    = local.remediation_config
    # Sign-in: the pool's tokens are verified here (discovery and JWKS from the
    # issuer); browsers sign in with the confidential client (its secret from the
    # SSM parameter below, beside the prefix) and come back to
    # <CSPM_DASHBOARD_URL>/auth/callback; sign-out and refresh-token revocation go
    # to the managed login domain.
    CSPM_OIDC_ISSUER                  = var.oidc_issuer
    CSPM_OIDC_CLIENT_ID               = var.oidc_client_id
    CSPM_OIDC_CLIENT_SECRET_PARAMETER = var.oidc_client_secret_parameter_name
    CSPM_OIDC_COGNITO_DOMAIN          = var.oidc_cognito_domain
    CSPM_AUTH_TABLE                   = var.auth_table_name
    CSPM_API_TOKEN_PARAMETER          = var.static_api_token ? local.api_token_parameter_name : ""
    RUST_LOG                          = var.log_level
  }
}

# --- archiver: daily move of old findings to S3 -------------------------------------

data "aws_iam_policy_document" "archiver" {
  # Query: candidates from the SeverityTimestampIndex; BatchGetItem: their full
  # documents; GetItem + a TransactWriteItems of a conditional Delete, the
  # counter Updates and the failing rows' Deletes (authorized as
  # DeleteItem/UpdateItem): the verified deletes; then BatchGetItem + UpdateItem
  # of the counter items: dropping the tallies that netted to zero; Query of the
  # ResourceRankIndex + DeleteItem: dropping the emptied resource items.
  statement {
    sid       = "FindAndRemoveArchivedFindings"
    actions   = ["dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
    resources = local.table_resources
  }

  # The day's compliance snapshot item, after the run.
  statement {
    sid       = "StoreComplianceSnapshot"
    actions   = ["dynamodb:PutItem"]
    resources = [var.table_arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["#compliance#*"]
    }
  }

  statement {
    sid       = "WriteAndVerifyArchive"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = [for p in var.archive_key_prefixes : "${var.archive_bucket_arn}/${p}*"]
  }

  statement {
    sid       = "ListArchive"
    actions   = ["s3:ListBucket"]
    resources = [var.archive_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for p in var.archive_key_prefixes : "${p}*"]
    }
  }

  statement {
    sid       = "UseArchiveKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

module "archiver" {
  source = "../lambda"

  name_prefix  = var.name_prefix
  function_key = "archiver"
  description  = "Moves findings older than the retention window to the S3 archive, daily."
  zip_path     = "${var.lambda_dist_dir}/archiver/bootstrap.zip"
  memory_size  = 1024
  timeout      = 900
  # One run at a time: two concurrent runs would race on the same findings.
  reserved_concurrency = 1
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = var.alarm_topic_arn
  policy_json          = data.aws_iam_policy_document.archiver.json

  environment = {
    CSPM_TABLE_NAME          = var.table_name
    CSPM_ARCHIVE_BUCKET      = var.archive_bucket
    CSPM_ARCHIVE_PREFIX      = var.archive_prefix
    CSPM_ARCHIVE_KMS_KEY_ARN = var.kms_key_arn
    CSPM_RETENTION_DAYS      = tostring(var.retention_days)
    RUST_LOG                 = var.log_level
  }
}
