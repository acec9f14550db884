# Real-time Security Hub events and the two schedules.
#
#   Security Hub "Findings - Imported" --rule (severity filter)--> scanner
#        | delivery failed after retries
#        v
#   events DLQ (encrypted) --SQS event source mapping, ReportBatchItemFailures--> scanner
#        | a message failed max_receive_count times
#        v
#   parked queue (alarmed; inspect and redrive by hand)
#
#   schedule (sync_schedule)    --> scanner  (Scheduled Event: full Security Hub sync)
#   schedule (archive_schedule) --> archiver (Scheduled Event: daily archive run)

data "aws_caller_identity" "current" {}

resource "aws_sqs_queue" "parked" {
  name                      = "${var.name_prefix}-events-parked"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "events_dlq" {
  name                      = "${var.name_prefix}-events-dlq"
  message_retention_seconds = 1209600
  # Six times the scanner timeout, as AWS recommends for SQS event sources.
  visibility_timeout_seconds = var.scanner_timeout * 6
  # SSE-SQS so EventBridge can deliver without a key-policy grant.
  sqs_managed_sse_enabled = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.parked.arn
    maxReceiveCount     = var.max_receive_count
  })
}

data "aws_iam_policy_document" "events_dlq" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events_dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.securityhub.arn, aws_cloudwatch_event_rule.securityhub_v2.arn, aws_cloudwatch_event_rule.detections.arn, aws_cloudwatch_event_rule.sync.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.events_dlq.arn]

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

resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id
  policy    = data.aws_iam_policy_document.events_dlq.json
}

# --- Security Hub findings in real time ----------------------------------------------

resource "aws_cloudwatch_event_rule" "securityhub" {
  name        = "${var.name_prefix}-securityhub-imported"
  description = "Security Hub findings imported with a severity in ${join(", ", var.severity_filter)}."

  event_pattern = jsonencode({
    source      = ["aws.securityhub"]
    detail-type = ["Security Hub Findings - Imported"]
    detail = {
      findings = {
        Severity = {
          Label = var.severity_filter
        }
      }
    }
  })
}

# The new Security Hub sends OCSF findings as `Findings Imported V2`, one per event.
# The same severity filter, as OCSF's severity_id (the caption is optional, and
# CRITICAL is both Critical 5 and Fatal 6, which the reader maps to CRITICAL too).
# Only the classes `sources/ocsf.rs` reads (Compliance 2003, Detection 2004) are
# delivered, so Vulnerability and Data Security findings are not sent to be rejected.
locals {
  ocsf_severity_ids = {
    INFORMATIONAL = [1]
    LOW           = [2]
    MEDIUM        = [3]
    HIGH          = [4]
    CRITICAL      = [5, 6]
  }
}

resource "aws_cloudwatch_event_rule" "securityhub_v2" {
  name        = "${var.name_prefix}-securityhub-v2-imported"
  description = "Security Hub (OCSF) findings imported with a severity in ${join(", ", var.severity_filter)}."

  event_pattern = jsonencode({
    source      = ["aws.securityhub"]
    detail-type = ["Findings Imported V2"]
    detail = {
      findings = {
        class_uid   = [2003, 2004]
        severity_id = flatten([for s in var.severity_filter : local.ocsf_severity_ids[upper(s)]])
      }
    }
  })
}

# --- CloudTrail API calls, alarm state changes and GuardDuty findings -----------------
# The scanner runs the detection rules on CloudTrail events and normalizes alarms
# and GuardDuty findings (dispatch by detail-type in the library's Normalizer).

resource "aws_cloudwatch_event_rule" "detections" {
  name        = "${var.name_prefix}-detections"
  description = "CloudTrail API calls and console sign-ins, CloudWatch alarm state changes and GuardDuty findings for the scanner."

  event_pattern = jsonencode({
    detail-type = [
      "AWS API Call via CloudTrail",
      "AWS Console Sign In via CloudTrail",
      "CloudWatch Alarm State Change",
      "GuardDuty Finding",
    ]
  })
}

resource "aws_lambda_event_source_mapping" "redrive" {
  event_source_arn                   = aws_sqs_queue.events_dlq.arn
  function_name                      = var.scanner_function_arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 30
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = 2
  }
}

# --- Schedules -------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "sync" {
  name                = "${var.name_prefix}-securityhub-sync"
  description         = "Full Security Hub sync by the scanner."
  schedule_expression = var.sync_schedule
}

resource "aws_cloudwatch_event_target" "sync" {
  rule      = aws_cloudwatch_event_rule.sync.name
  target_id = "scanner"
  arn       = var.scanner_function_arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 4
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }
}

resource "aws_lambda_permission" "sync" {
  statement_id  = "AllowSyncSchedule"
  action        = "lambda:InvokeFunction"
  function_name = var.scanner_function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.sync.arn
}

resource "aws_cloudwatch_event_rule" "archive" {
  name                = "${var.name_prefix}-archive-daily"
  description         = "Daily archive run."
  schedule_expression = var.archive_schedule
}

# No EventBridge DLQ here: the only consumer of the events DLQ is the scanner. A
# failed archive run lands in the archiver's own asynchronous DLQ, and the
# "archiver has not succeeded in 26 hours" alarm catches a run that never happened.
resource "aws_cloudwatch_event_target" "archive" {
  rule      = aws_cloudwatch_event_rule.archive.name
  target_id = "archiver"
  arn       = var.archiver_function_arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 4
  }
}

resource "aws_lambda_permission" "archive" {
  statement_id  = "AllowArchiveSchedule"
  action        = "lambda:InvokeFunction"
  function_name = var.archiver_function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.archive.arn
}

# --- Alarms ----------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "queue_depth" {
  for_each = {
    events_dlq = aws_sqs_queue.events_dlq.name
    parked     = aws_sqs_queue.parked.name
  }

  alarm_name          = "${each.value}-depth"
  alarm_description   = "Messages wait in ${each.value}: Security Hub events could not be delivered or processed."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = each.key == "parked" ? 1 : 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  dimensions = {
    QueueName = each.value
  }
}

resource "aws_cloudwatch_metric_alarm" "failed_invocations" {
  alarm_name          = "${var.name_prefix}-securityhub-rule-failed-invocations"
  alarm_description   = "EventBridge could not invoke the scanner for Security Hub events (they go to the events DLQ)."
  namespace           = "AWS/Events"
  metric_name         = "FailedInvocations"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]

  dimensions = {
    RuleName = aws_cloudwatch_event_rule.securityhub.name
  }
}

resource "aws_cloudwatch_metric_alarm" "failed_invocations_v2" {
  alarm_name          = "${var.name_prefix}-securityhub-v2-rule-failed-invocations"
  alarm_description   = "EventBridge could not invoke the scanner for Security Hub (OCSF) events (they go to the events DLQ)."
  namespace           = "AWS/Events"
  metric_name         = "FailedInvocations"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]

  dimensions = {
    RuleName = aws_cloudwatch_event_rule.securityhub_v2.name
  }
}

# --- Every rule delivers to the scanner the same way ------------------------------------

locals {
  scanner_rules = {
    securityhub    = { name = aws_cloudwatch_event_rule.securityhub.name, arn = aws_cloudwatch_event_rule.securityhub.arn, sid = "AllowSecurityHubRule" }
    securityhub_v2 = { name = aws_cloudwatch_event_rule.securityhub_v2.name, arn = aws_cloudwatch_event_rule.securityhub_v2.arn, sid = "AllowSecurityHubV2Rule" }
    detections     = { name = aws_cloudwatch_event_rule.detections.name, arn = aws_cloudwatch_event_rule.detections.arn, sid = "AllowDetectionsRule" }
  }
}

resource "aws_cloudwatch_event_target" "scanner" {
  for_each  = local.scanner_rules
  rule      = each.value.name
  target_id = "scanner"
  arn       = var.scanner_function_arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 8
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }
}

resource "aws_lambda_permission" "scanner" {
  for_each      = local.scanner_rules
  statement_id  = each.value.sid
  action        = "lambda:InvokeFunction"
  function_name = var.scanner_function_name
  principal     = "events.amazonaws.com"
  source_arn    = each.value.arn
}
