# One CloudWatch dashboard: the functions, the queues, the change feed, the API, the
# table, the WAF.

locals {
  fn_names = values(var.function_names)

  lambda_widgets = [
    for title, metric in { "Lambda invocations" = "Invocations", "Lambda errors" = "Errors", "Lambda throttles" = "Throttles", "Lambda duration (p95)" = "Duration" } : {
      type                                      = "metric"
      width                                     = 12
      height                                    = 6
      properties = {
        title   = title
        region  = var.aws_region
        view    = "timeSeries"
        stat    = metric == "Duration" ? "p95" : "Sum"
        period  = 300
        metrics = [for fn in local.fn_names : ["AWS/Lambda", metric, "FunctionName", fn]]
      }
    }
  ]

  # The EMF metrics (namespace cspm); names as in backend/src/metrics/mod.rs.
  cspm_widgets = [
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "Findings stored, changes dispatched, alerts sent, audit lines"
        region = var.aws_region
        stat   = "Sum"
        period = 300
        metrics = [
          ["cspm", "FindingsStored", { label = "findings stored" }],
          ["cspm", "ChangesDispatched", { label = "changes dispatched" }],
          ["cspm", "AlertsSent", { label = "alerts sent" }],
          ["cspm", "AuditLinesWritten", { label = "audit lines" }],
        ]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "Sinks: failures, parked batches, fan-out lag (max)"
        region = var.aws_region
        period = 300
        metrics = [
          ["cspm", "SinkFailures", { stat = "Sum", label = "sink failures" }],
          ["cspm", "BatchesParked", { stat = "Sum", label = "batches parked" }],
          ["cspm", "FanoutLag", { stat = "Maximum", yAxis = "right", label = "fan-out lag (ms)" }],
        ]
      }
    },
    {
      type   = "alarm"
      width  = 12
      height = 6
      properties = {
        title  = "Sink and archive alarms"
        alarms = [aws_cloudwatch_metric_alarm.sink_failures.arn, aws_cloudwatch_metric_alarm.batches_parked.arn, aws_cloudwatch_metric_alarm.archiver_stale.arn]
      }
    },
  ]

  other_widgets = [
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "Change feed: fanout iterator age (max) and parked batches"
        region = var.aws_region
        view   = "timeSeries"
        period = 60
        metrics = [
          ["AWS/Lambda", "IteratorAge", "FunctionName", var.fanout.function_name, { stat = "Maximum", label = "iterator age (ms)" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.fanout.failure_queue_name, { stat = "Maximum", period = 300, yAxis = "right", label = "on-failure queue" }],
        ]
        annotations = {
          horizontal = [{ label = "iterator age alarm", value = var.iterator_age_threshold_ms }]
        }
      }
    },
    {
      type   = "alarm"
      width  = 12
      height = 6
      properties = {
        title  = "Change feed alarms"
        alarms = [aws_cloudwatch_metric_alarm.fanout_iterator_age.arn, var.fanout.errors_alarm_arn, aws_cloudwatch_metric_alarm.fanout_failures.arn]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title   = "Queues: messages waiting"
        region  = var.aws_region
        stat    = "Maximum"
        period  = 300
        metrics = [for q in var.queue_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "API requests and errors"
        region = var.aws_region
        stat   = "Sum"
        period = 300
        metrics = [
          ["AWS/ApiGateway", "Count", "ApiId", var.api_id, "Stage", "$default"],
          ["AWS/ApiGateway", "4xx", "ApiId", var.api_id, "Stage", "$default"],
          ["AWS/ApiGateway", "5xx", "ApiId", var.api_id, "Stage", "$default"],
        ]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "Findings table: capacity and throttles"
        region = var.aws_region
        stat   = "Sum"
        period = 300
        metrics = [
          ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", var.table_name],
          ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", var.table_name],
          ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", var.table_name],
          ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", var.table_name],
        ]
      }
    },
    {
      type   = "metric"
      width  = 12
      height = 6
      properties = {
        title  = "WAF: allowed and blocked requests"
        region = "us-east-1"
        stat   = "Sum"
        period = 300
        metrics = [
          ["AWS/WAFV2", "AllowedRequests", "WebACL", var.web_acl_name, "Rule", "ALL"],
          ["AWS/WAFV2", "BlockedRequests", "WebACL", var.web_acl_name, "Rule", "ALL"],
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = concat(local.lambda_widgets, local.cspm_widgets, local.other_widgets) })
}
