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
