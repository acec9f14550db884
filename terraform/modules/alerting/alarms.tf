# Alarms for the parts the per-function alarms (modules/lambda) do not see.

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name_prefix}-api-5xx"
  alarm_description   = "The HTTP API returned 5xx responses (the api Lambda failed or timed out)."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts["critical"].arn]
  ok_actions          = [aws_sns_topic.alerts["critical"].arn]

  dimensions = {
    ApiId = var.api_id
    Stage = "$default"
  }
}

resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  alarm_name          = "${var.name_prefix}-table-throttles"
  alarm_description   = "Reads or writes on the findings table were throttled."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts["critical"].arn]
  ok_actions          = [aws_sns_topic.alerts["critical"].arn]

  metric_query {
    id          = "throttles"
    expression  = "FILL(reads, 0) + FILL(writes, 0)"
    label       = "Throttle events"
    return_data = true
  }

  metric_query {
    id = "reads"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "ReadThrottleEvents"
      stat        = "Sum"
      period      = 300
      dimensions = {
        TableName = var.table_name
      }
    }
  }

  metric_query {
    id = "writes"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "WriteThrottleEvents"
      stat        = "Sum"
      period      = 300
      dimensions = {
        TableName = var.table_name
      }
    }
  }
}

# "The archiver has not succeeded in 26 hours", from Lambda's own metrics so the
# archiver needs no cloudwatch:PutMetricData: per hour, successes = Invocations -
# Errors; the alarm fires when all of the last 26 hourly values are below 1. A day
# without a run, or a day of failed runs, both trip it; missing data counts as 0.
resource "aws_cloudwatch_metric_alarm" "archiver_stale" {
  alarm_name          = "${var.name_prefix}-archiver-no-success-26h"
  alarm_description   = "The archiver has not completed a run successfully in 26 hours: findings are piling up in the table."
  evaluation_periods  = 26
  datapoints_to_alarm = 26
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts["critical"].arn]
  ok_actions          = [aws_sns_topic.alerts["critical"].arn]

  metric_query {
    id          = "successes"
    expression  = "FILL(invocations, 0) - FILL(errors, 0)"
    label       = "Successful archive runs"
    return_data = true
  }

  metric_query {
    id = "invocations"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      stat        = "Sum"
      period      = 3600
      dimensions = {
        FunctionName = var.archiver_function_name
      }
    }
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      stat        = "Sum"
      period      = 3600
      dimensions = {
        FunctionName = var.archiver_function_name
      }
    }
  }
}

# --- The change feed (findings stream -> fanout -> sinks) ----------------------------
# The fanout function's Errors, Throttles and async dead letters are alarmed by
# modules/lambda like every function's.

# The feed is behind: the newest record Lambda handed to fanout was already over
# 5 minutes old, for 3 of the last 5 minutes. Sinks are retrying (a shard waits
# while its failed changes are retried), throttled, or the function cannot keep up.
# No data = no records arriving = not behind.
resource "aws_cloudwatch_metric_alarm" "fanout_iterator_age" {
  alarm_name          = "${var.fanout.function_name}-iterator-age"
  alarm_description   = "The change feed is behind: fanout is handling findings-stream records more than ${var.iterator_age_threshold_ms / 1000} s old (sinks failing, throttles, or too slow). Alerts and webhooks are late; after 1 hour the changes are parked in ${var.fanout.failure_queue_name}."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.iterator_age_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts["critical"].arn]
  ok_actions          = [aws_sns_topic.alerts["critical"].arn]

  dimensions = {
    FunctionName = var.fanout.function_name
  }
}

# Any message here is a batch of changes some sink never received (10 retries or
# 1 hour): they will not be retried by themselves.
resource "aws_cloudwatch_metric_alarm" "fanout_failures" {
  alarm_name          = "${var.fanout.failure_queue_name}-depth"
  alarm_description   = "Changes of the findings table could not be delivered to a sink after 10 retries or 1 hour; their stream positions wait in ${var.fanout.failure_queue_name} (docs/deploy.md: the change feed)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts["critical"].arn]
  ok_actions          = [aws_sns_topic.alerts["critical"].arn]

  dimensions = {
    QueueName = var.fanout.failure_queue_name
  }
}

# Metrics the Lambdas print as EMF lines (namespace cspm, backend/src/metrics/mod.rs):
# each series is also published without dimensions, the total an alarm can watch.
# A sink failing on most tries for 10 minutes: webhooks down, a topic gone, the
# audit log unwritable. Single failed tries are normal (retries absorb them).
resource "aws_cloudwatch_metric_alarm" "sink_failures" {
  alarm_name          = "${var.name_prefix}-sink-failures"
  alarm_description   = "Sinks of the change feed keep failing (cspm SinkFailures, all sinks): see the fanout logs for which sink and why; the changes are retried, then parked in ${var.fanout.failure_queue_name}."
  namespace           = "cspm"
  metric_name         = "SinkFailures"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = var.sink_failures_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts["critical"].arn]
  ok_actions          = [aws_sns_topic.alerts["critical"].arn]
}

# Changes a fanout invocation gave up on (handed back to the stream; after Lambda's
# retries they are parked in the on-failure queue, which has its own alarm).
resource "aws_cloudwatch_metric_alarm" "batches_parked" {
  alarm_name          = "${var.name_prefix}-batches-parked"
  alarm_description   = "A sink did not take a batch within an invocation (cspm BatchesParked): it goes back to the stream and, after 10 retries or 1 hour, to ${var.fanout.failure_queue_name}."
  namespace           = "cspm"
  metric_name         = "BatchesParked"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts["critical"].arn]
  ok_actions          = [aws_sns_topic.alerts["critical"].arn]
}
