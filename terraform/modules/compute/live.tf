# The live dashboard on AWS: the two functions behind the WebSocket API (the API,
# its routes and stage are in modules/edge/live.tf). fanout's live sink, which pushes
# every change to the open connections, is in fanout.tf.
#
#   browser --POST /api/live/ticket (JWT)--> api: puts ticket#<sha256> in the state table (60 s)
#   browser --wss /live?ticket=...--> CloudFront --> WebSocket API, stage "live"
#       $connect     live_authorizer: deletes the ticket (single use), checks Origin
#                    live: puts the connection (TTL 2 h 10 min)
#       $default     live: resume (queries SeverityChangeIndex, posts the missed rows), pong
#       $disconnect  live: deletes the connection
#   fanout (findings stream) --POST @connections--> every stored connection

locals {
  # execute-api:ManageConnections on this deployment's stage only: POST (send a
  # frame) and DELETE (close a connection); GET (connection info) is never used.
  live_connection_arns = [for method in ["POST", "DELETE"] : "${var.live_stage_execution_arn}/${method}/@connections/*"]
}

# --- live: $connect, $disconnect and $default ----------------------------------------

data "aws_iam_policy_document" "live" {
  # Scan: the keep-alive pings every stored connection once a minute.
  statement {
    sid       = "TrackConnections"
    actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"]
    resources = [var.connections_table_arn]
  }

  # resume: the changes after the client's position, from SeverityChangeIndex.
  statement {
    sid       = "ResumeFromFindings"
    actions   = ["dynamodb:Query"]
    resources = local.table_resources
  }

  statement {
    sid       = "AnswerOnConnection"
    actions   = ["execute-api:ManageConnections"]
    resources = local.live_connection_arns
  }

  # Read the findings index, encrypt the connection items.
  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

module "live" {
  source = "../lambda"

  name_prefix  = var.name_prefix
  function_key = "live"
  description  = "Live dashboard WebSocket routes: stores and forgets connections, answers resume from the findings table."
  zip_path     = "${var.lambda_dist_dir}/live/bootstrap.zip"
  memory_size  = 256
  # A resume posts up to a few hundred rows one frame at a time.
  timeout              = 30
  reserved_concurrency = var.live_reserved_concurrency
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = var.alarm_topic_arn
  policy_json          = data.aws_iam_policy_document.live.json

  environment = {
    CSPM_TABLE_NAME        = var.table_name
    CSPM_CONNECTIONS_TABLE = var.connections_table_name
    CSPM_LIVE_ENDPOINT     = var.live_management_endpoint
    RUST_LOG               = var.log_level
  }
}

# Keep-alive: API Gateway closes a WebSocket connection idle for 10 minutes, and a
# browser may not notice a dead one for long. Once a minute the live function pings
# every connection (the page answers pong and its watchdog sees traffic); a
# connection that answers 410 Gone is deleted.
resource "aws_cloudwatch_event_rule" "live_keepalive" {
  name                = "${var.name_prefix}-live-keepalive"
  description         = "Pings every live dashboard connection."
  schedule_expression = "rate(1 minute)"
}

# No retries or DLQ: a missed ping is replaced by the next one a minute later.
resource "aws_cloudwatch_event_target" "live_keepalive" {
  rule      = aws_cloudwatch_event_rule.live_keepalive.name
  target_id = "live"
  arn       = module.live.function_arn

  retry_policy {
    maximum_event_age_in_seconds = 60
    maximum_retry_attempts       = 0
  }
}

resource "aws_lambda_permission" "live_keepalive" {
  statement_id  = "AllowKeepAliveSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.live.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.live_keepalive.arn
}

# --- live_authorizer: the REQUEST authorizer of $connect -----------------------------

data "aws_iam_policy_document" "live_authorizer" {
  # The ticket is consumed by a conditional delete (ReturnValues ALL_OLD): a ticket
  # opens one connection, and the function needs no read permission.
  statement {
    sid       = "ConsumeTickets"
    actions   = ["dynamodb:DeleteItem"]
    resources = [var.state_table_arn]
  }

  statement {
    sid       = "DecryptStateTable"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

module "live_authorizer" {
  source = "../lambda"

  name_prefix          = var.name_prefix
  function_key         = "live_authorizer"
  description          = "Authorizes a live dashboard WebSocket connection: consumes its single-use ticket, checks the Origin."
  zip_path             = "${var.lambda_dist_dir}/live_authorizer/bootstrap.zip"
  memory_size          = 128
  timeout              = 10
  reserved_concurrency = var.live_authorizer_reserved_concurrency
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = var.alarm_topic_arn
  policy_json          = data.aws_iam_policy_document.live_authorizer.json

  environment = {
    CSPM_STATE_TABLE   = var.state_table_name
    CSPM_DASHBOARD_URL = var.dashboard_url
    # The Origin header of the upgrade request must be one of these (the dashboard
    # itself; the WebSocket API is also reachable directly, bypassing CloudFront).
    CSPM_CORS_ORIGINS = var.dashboard_url
    RUST_LOG          = var.log_level
  }
}
