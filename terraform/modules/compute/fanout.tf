# fanout: the change feed on AWS. Every write that changes the findings table shows
# up in its stream; Lambda reads the stream and hands the changes to this function,
# which gives each one to every configured sink (SNS alert topics, webhooks, a log
# sink; the sinks YAML is in the SSM parameter var.sinks_parameter_name) and to the
# live sink, which posts it to every open dashboard connection (live.tf), to the
# audit log (always; hash-chained lines in the Object Lock bucket) and, when
# var.remediation_auto lists rules, to the remediation sink, which approves the
# matching findings and queues them for the remediator (remediator.tf); it prints
# its metrics as EMF lines (namespace cspm).
#
#   findings table stream (NEW_AND_OLD_IMAGES)
#        | event source mapping: batches of <= 100 within 1 s, only findings' changes
#        v
#   fanout --- answers batchItemFailures: the changes a failing sink could not take
#        | a change still failing after 10 retries or 1 hour (bisecting the batch)
#        v
#   on-failure queue (KMS): shard and sequence-number range of the parked changes
#
# A stream's position is per shard: the mapping keeps it (the sinks' cursors are the
# stream's own checkpoints). Sent alert keys live in the fan-out state table, so a
# redelivered change never alerts twice. Alarms (iterator age, on-failure queue) and
# the dashboard widgets are in modules/alerting.

locals {
  ses_identity_arns = length(var.alert_email_identities) > 0 ? [
    for i in var.alert_email_identities : "arn:aws:ses:${local.region}:${local.account_id}:identity/${i}"
  ] : ["arn:aws:ses:${local.region}:${local.account_id}:identity/no-email-identity-configured.invalid"]
}

data "aws_iam_policy_document" "fanout" {
  # What the event source mapping does with the function's role: read the stream...
  statement {
    sid       = "ReadChangeFeed"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    resources = [var.table_stream_arn]
  }

  # ...and list it. ListStreams has no resource-level permissions (Service
  # Authorization Reference: no resource type), so only "*" matches it; a grant on the
  # stream ARN would grant nothing. It returns stream ARNs, no data.
  statement {
    sid       = "ListChangeFeeds"
    actions   = ["dynamodb:ListStreams"]
    resources = ["*"]
  }

  # A sink that needs the whole finding reads it by id (the stream image is enough
  # for most; the counter items are never read).
  # GetItem: the whole finding a sink needs; BatchGetItem: the summary counter
  # items the live sink sends after each batch (the overview's counters).
  statement {
    sid       = "ReadWholeFinding"
    actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem"]
    resources = [var.table_arn]
  }

  # Sent alert keys, the throttled channels' state, and the audit chain's head: one
  # item moved only by a conditional UpdateItem, so concurrent invocations never fork
  # the chain. The throttle state is read with BatchGetItem and written with
  # conditional TransactWriteItems (whose Put/Update/Delete need those actions);
  # a flushed digest window is deleted.
  statement {
    sid = "RememberSentAlertsThrottleStateAndAuditHead"
    actions = [
      "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem",
      "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    ]
    resources = [var.state_table_arn]
  }

  # The digest windows that are due (the sparse index `due`, keys only).
  statement {
    sid       = "FindDueDigests"
    actions   = ["dynamodb:Query"]
    resources = ["${var.state_table_arn}/index/due"]
  }

  # Audit objects (the bucket holds nothing else): written once, Object Lock keeps
  # every version; GetObject is what HeadObject needs, to see whether an object a
  # writer claimed was already written. No s3:BypassGovernanceRetention.
  statement {
    sid       = "WriteAuditLog"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${var.audit_bucket_arn}/*"]
  }

  # The live sink: every open dashboard connection gets each batch; a connection
  # that answers 410 Gone is deleted (its $disconnect was lost).
  statement {
    sid       = "ListAndForgetConnections"
    actions   = ["dynamodb:Scan", "dynamodb:DeleteItem"]
    resources = [var.connections_table_arn]
  }

  statement {
    sid       = "PushToDashboards"
    actions   = ["execute-api:ManageConnections"]
    resources = local.live_connection_arns
  }

  # Alert e-mail (kind: ses sinks) only from the deployment's listed SES identities.
  # With none listed the statement names an identity that cannot exist (IAM needs a
  # resource), so the role can send no e-mail at all.
  statement {
    sid       = "SendAlertEmail"
    actions   = ["ses:SendEmail"]
    resources = local.ses_identity_arns
  }

  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [var.sns_standard_topic_arn, var.sns_critical_topic_arn]
  }

  # The sinks YAML and the SecureStrings its `secret_ssm:` entries name: only under
  # the deployment's prefix.
  statement {
    sid       = "ReadSinksAndSecrets"
    actions   = ["ssm:GetParameter", "ssm:GetParametersByPath"]
    resources = local.ssm_param_arns
  }

  # Lambda sends the on-failure record with the function's role.
  statement {
    sid       = "ParkFailedChanges"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.fanout_failures.arn]
  }

  # The remediation sink (it acts only when var.remediation_auto lists rules): a
  # finding that matches an auto rule is approved as a person's approval would be,
  # recorded in the remediations table (GetItem/Query, on the table and its
  # indexes: the finding's earlier records; PutItem/UpdateItem: the new record) and
  # queued for the remediator. It reads the finding from the findings table (ReadWholeFinding),
  # never the resource: it screens only the guards that need no AWS read, so it
  # gets no remediation action's permission; the remediator checks every guard
  # again before it changes anything.
  statement {
    sid       = "KeepRemediationRecords"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = local.remediation_table_resources
  }

  statement {
    sid       = "QueueRemediations"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.remediations.arn]
  }

  # Decrypt the stream, tables, SecureStrings; encrypt to the topics and queues.
  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

module "fanout" {
  source = "../lambda"

  name_prefix  = var.name_prefix
  function_key = "fanout"
  description  = "Hands every change of the findings table (its stream) to the configured sinks (SNS alerts, webhooks, log) and the live dashboards."
  zip_path     = "${var.lambda_dist_dir}/fanout/bootstrap.zip"
  memory_size  = 256
  # A batch is up to 100 changes for every sink; a webhook may take its 5 s timeout
  # more than once. A timeout fails the whole batch (then bisected and retried).
  timeout = 120
  # One invocation per stream shard at a time (parallelization_factor 1). Reserved
  # so a burst elsewhere in the account cannot starve the feed, and capped so the
  # sinks' endpoints see a bounded number of senders; it must stay at or above the
  # stream's open shard count, or shards wait (throttles alarm, iterator age grows).
  reserved_concurrency = var.fanout_reserved_concurrency
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = var.alarm_topic_arn
  policy_json          = data.aws_iam_policy_document.fanout.json

  environment = {
    CSPM_TABLE_NAME      = var.table_name
    CSPM_STATE_TABLE     = var.state_table_name
    CSPM_SINKS_PARAMETER = var.sinks_parameter_name
    # Without a sinks parameter: one SNS sink from these three (today's alerting).
    CSPM_SNS_STANDARD_TOPIC_ARN = var.sns_standard_topic_arn
    CSPM_SNS_CRITICAL_TOPIC_ARN = var.sns_critical_topic_arn
    CSPM_ALERT_MIN_SEVERITY     = var.alert_min_severity
    CSPM_DASHBOARD_URL          = var.dashboard_url
    CSPM_SSM_PREFIX             = var.ssm_prefix
    CSPM_RETENTION_DAYS         = tostring(var.retention_days)
    CSPM_CONNECTIONS_TABLE      = var.connections_table_name
    CSPM_LIVE_ENDPOINT          = var.live_management_endpoint
    CSPM_AUDIT_BUCKET           = var.audit_location
    # The remediation sink: approvals of var.remediation_auto's findings, recorded
    # and queued as the api does (same table, queue and remediation file).
    CSPM_REMEDIATION_TABLE     = var.remediation_table_name
    CSPM_REMEDIATION_QUEUE_URL = aws_sqs_queue.remediations.url
    CSPM_REMEDIATION_CONFIG    = local.remediation_config
    RUST_LOG                   = var.log_level
  }
}

# --- Changes no retry could deliver ---------------------------------------------------
# For a stream source the message is the batch's metadata (shard id, first and last
# sequence number, why it failed), not the changes: read them again from the stream
# within its 24 hours, or the findings from the table (docs/deploy.md).

resource "aws_sqs_queue" "fanout_failures" {
  name                              = "${var.name_prefix}-fanout-failures"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

data "aws_iam_policy_document" "fanout_failures" {
  # Principals of this account, through their IAM policies (the fanout role sends,
  # operators read); nobody else.
  statement {
    sid       = "ThisAccountThroughIam"
    actions   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.fanout_failures.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "DenyOtherAccounts"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.fanout_failures.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "aws:PrincipalAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.fanout_failures.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "fanout_failures" {
  queue_url = aws_sqs_queue.fanout_failures.id
  policy    = data.aws_iam_policy_document.fanout_failures.json
}

# --- The stream -> fanout mapping ---------------------------------------------------

resource "aws_lambda_event_source_mapping" "fanout" {
  event_source_arn  = var.table_stream_arn
  function_name     = module.fanout.function_arn
  starting_position = "LATEST"

  batch_size                         = 100
  maximum_batching_window_in_seconds = 1
  parallelization_factor             = 1

  # The function names the changes a failing sink could not take; Lambda
  # checkpoints before the first of them and retries from there, so changes that
  # went through are not sent again by this batch (sinks dedup by key anyway). An
  # error of the whole invocation splits the batch in two, to isolate a change
  # that breaks the function.
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = 10
  maximum_record_age_in_seconds  = 3600

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.fanout_failures.arn
    }
  }

  # Only findings' changes reach the function. The counter, compliance and
  # snapshot items share the findings table, so their writes are in the stream
  # too, under ids that are not a fixed set (a failing row's id names its
  # finding: store/dynamo/controls.rs). Every finding item has a `rev` number and
  # none of the others does, so a record passes when its new image (INSERT,
  # MODIFY) or its old image (REMOVE) has one: two filters, ORed (Lambda event
  # filtering's `exists` operator, on the `dynamodb` key as DynamoDB mappings
  # require). The code drops `#` items anyway.
  filter_criteria {
    filter {
      pattern = jsonencode({ dynamodb = { NewImage = { rev = { N = [{ exists = true }] } } } })
    }
    filter {
      pattern = jsonencode({ dynamodb = { OldImage = { rev = { N = [{ exists = true }] } } } })
    }
  }

  depends_on = [aws_sqs_queue_policy.fanout_failures]
}

# --- Digests: flushed on a schedule ------------------------------------------------
# Throttled channels (Slack, e-mail under routes with digest_after/digest_window or
# quiet hours) hold messages in digest windows in the state table. Once a minute
# this schedule invokes fanout with {"action":"flush-digests"}, which sends every due
# digest and closes its window. Only the schedule flushes (never a stream batch), so
# no two invocations send one window's digest; a window is at most a minute late.
resource "aws_cloudwatch_event_rule" "digests" {
  name                = "${var.name_prefix}-digests"
  description         = "Sends the due alert digests (fanout)."
  schedule_expression = "rate(1 minute)"
}

# No retries: a failed run is followed by the next a minute later, and its held
# messages stay held until then.
resource "aws_cloudwatch_event_target" "digests" {
  rule      = aws_cloudwatch_event_rule.digests.name
  target_id = "fanout"
  arn       = module.fanout.function_arn
  input     = jsonencode({ action = "flush-digests" })

  retry_policy {
    maximum_event_age_in_seconds = 60
    maximum_retry_attempts       = 0
  }
}

resource "aws_lambda_permission" "digests" {
  statement_id  = "AllowDigestSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.fanout.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.digests.arn
}
