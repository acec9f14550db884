# Two alert topics. The fanout Lambda's SNS sink publishes findings at or above its
# alert severity: CRITICAL ones to `critical`, the rest to `standard`. Operational
# alarms (this deployment is broken or behind) go to `critical` too: they mean
# findings may be missed.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  topics = {
    standard = var.alert_emails_standard
    critical = var.alert_emails_critical
  }

  subscriptions = merge([
    for topic, emails in local.topics : { for email in emails : "${topic}/${email}" => { topic = topic, email = email } }
  ]...)
}

resource "aws_sns_topic" "alerts" {
  for_each          = local.topics
  name              = "${var.name_prefix}-alerts-${each.key}"
  display_name      = "cspm ${each.key}"
  kms_master_key_id = var.kms_key_arn
}

data "aws_iam_policy_document" "alerts" {
  for_each = local.topics

  statement {
    sid       = "AccountPublishesAndManages"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:ListSubscriptionsByTopic"]
    resources = [aws_sns_topic.alerts[each.key].arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[each.key].arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[each.key].arn]

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

resource "aws_sns_topic_policy" "alerts" {
  for_each = local.topics
  arn      = aws_sns_topic.alerts[each.key].arn
  policy   = data.aws_iam_policy_document.alerts[each.key].json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = local.subscriptions
  topic_arn = aws_sns_topic.alerts[each.value.topic].arn
  protocol  = "email"
  endpoint  = each.value.email
}
