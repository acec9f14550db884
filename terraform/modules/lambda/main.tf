# One Lambda function with everything it needs to be operable: its own role, log
# group, X-Ray tracing, an encrypted dead-letter queue for failed asynchronous
# invocations, and alarms on errors, throttles and dead letters.
#
# Its role gets two inline policies and nothing else:
#   - runtime: what every Lambda needs to run (write its logs and traces, dead-letter
#     a failed event), scoped to this function's own log group and queue;
#   - code:    var.policy_json, what the function's code calls. The caller builds it
#     from backend/lambdas.json; scripts/check_terraform.py enforces the match.

locals {
  function_name = "${var.name_prefix}-${var.function_key}"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.function_name}-async-dlq"
  message_retention_seconds = 1209600
  # SSE-SQS: the Lambda service writes dead letters with the function's role; a
  # customer key would need kms:GenerateDataKey on every role, which the code never
  # uses otherwise.
  sqs_managed_sse_enabled = true
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.function_name
  description          = "Execution role of the ${var.function_key} Lambda (least privilege, see backend/lambdas.json)."
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "runtime" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid = "WriteTraces"
    # X-Ray has no resource-level permissions for these two actions.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "DeadLetterFailedEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }
}

resource "aws_iam_role_policy" "runtime" {
  name   = "runtime"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.runtime.json
}

resource "aws_iam_role_policy" "code" {
  name   = "code"
  role   = aws_iam_role.this.id
  policy = var.policy_json
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117:The functions call AWS public APIs (DynamoDB, S3, SNS, SSM, Security Hub) and, for fanout, public https webhooks (private and link-local addresses are refused by the code); a VPC would add NAT or endpoint cost without protecting any private network path.
  # checkov:skip=CKV_AWS_272:Zips are built and deployed by the same pipeline from a local file; AWS Signer code signing needs an S3 signing job and is planned, not yet in place.
  function_name                  = local.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  filename                       = var.zip_path
  source_code_hash               = filebase64sha256(var.zip_path)
  handler                        = "bootstrap"
  runtime                        = "provided.al2023"
  architectures                  = ["arm64"]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  depends_on = [
    aws_iam_role_policy.runtime,
    aws_iam_role_policy.code,
  ]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_retry_attempts
  maximum_event_age_in_seconds = 3600
}
