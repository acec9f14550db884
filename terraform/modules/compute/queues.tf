# What the job queues share: the exports queue (exporter.tf) and the remediations
# queue (remediator.tf), each with its dead-letter queue, get the same queue policy,
# and every message in a dead-letter queue raises an alarm: it is a job the worker
# could not even record a failure for, and nothing retries it by itself.

locals {
  job_queue_arns = {
    exports          = aws_sqs_queue.exports.arn
    exports_dlq      = aws_sqs_queue.exports_dlq.arn
    remediations     = aws_sqs_queue.remediations.arn
    remediations_dlq = aws_sqs_queue.remediations_dlq.arn
  }

  dead_letter_queues = {
    exports      = aws_sqs_queue.exports_dlq.name
    remediations = aws_sqs_queue.remediations_dlq.name
  }
}

data "aws_iam_policy_document" "job_queues" {
  for_each = local.job_queue_arns

  # Principals of this account, through their IAM policies (the api sends, the
  # worker's poller receives, operators redrive); nobody else.
  statement {
    sid       = "ThisAccountThroughIam"
    actions   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [each.value]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "DenyOtherAccounts"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [each.value]

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
    resources = [each.value]

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

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = local.dead_letter_queues

  alarm_name          = "${each.value}-depth"
  alarm_description   = "Messages wait in ${each.value}: ${each.key} jobs the worker could never handle (not even record as failed). Read them, fix the cause, then redrive or delete them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  dimensions = {
    QueueName = each.value
  }
}
