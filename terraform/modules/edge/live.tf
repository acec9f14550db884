# The live dashboard's WebSocket API. The browser connects to wss://<dashboard>/live
# (config.json: live_url = "/live"); CloudFront forwards that path to this API's
# stage, named "live" so the path is the same on both sides (cloudfront.tf), and the
# dashboard stays same-origin (connect-src 'self').
#
#   $connect     REQUEST authorizer live_authorizer (the single-use ?ticket=), then live
#   $default     live (the client's resume and pong frames; route selection on "type")
#   $disconnect  live
#
# The functions are in modules/compute/live.tf. They get this stage's Management API
# endpoint and execution ARN from here; the API, stage and their ARNs depend on no
# function, only the integrations, authorizer and permissions do, so there is no cycle.
# API Gateway closes a connection after 2 hours and after 10 minutes without a frame;
# the dashboard reconnects and resumes (docs/deploy.md).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  # The stage name is the CloudFront path (/live) and part of the Management API URL.
  live_stage = "live"
}

resource "aws_apigatewayv2_api" "live" {
  name                       = "${var.name_prefix}-live"
  description                = "cspm-monitor live dashboard (behind CloudFront /live)"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.type"
}

resource "aws_apigatewayv2_authorizer" "live" {
  api_id          = aws_apigatewayv2_api.live.id
  name            = "ticket"
  authorizer_type = "REQUEST"
  authorizer_uri  = var.live_authorizer_invoke_arn
  # A $connect without ?ticket= is refused with 401 before the function runs. No
  # result caching: a ticket is good for one connection.
  identity_sources = ["route.request.querystring.ticket"]
}

resource "aws_apigatewayv2_integration" "live" {
  api_id             = aws_apigatewayv2_api.live.id
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  integration_uri    = var.live_invoke_arn
}

resource "aws_apigatewayv2_route" "live_connect" {
  api_id             = aws_apigatewayv2_api.live.id
  route_key          = "$connect"
  target             = "integrations/${aws_apigatewayv2_integration.live.id}"
  authorization_type = "CUSTOM"
  authorizer_id      = aws_apigatewayv2_authorizer.live.id
}

resource "aws_apigatewayv2_route" "live_disconnect" {
  # checkov:skip=CKV_AWS_309:WebSocket APIs authorize on $connect only (API Gateway accepts an authorizer on no other route); $disconnect belongs to a connection $connect already authorized.
  api_id             = aws_apigatewayv2_api.live.id
  route_key          = "$disconnect"
  target             = "integrations/${aws_apigatewayv2_integration.live.id}"
  authorization_type = "NONE"
}

resource "aws_apigatewayv2_route" "live_default" {
  # checkov:skip=CKV_AWS_309:WebSocket APIs authorize on $connect only (API Gateway accepts an authorizer on no other route); $default frames arrive on a connection $connect already authorized.
  api_id             = aws_apigatewayv2_api.live.id
  route_key          = "$default"
  target             = "integrations/${aws_apigatewayv2_integration.live.id}"
  authorization_type = "NONE"
}

# --- Stage, logs ------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "live_access" {
  name              = "/aws/apigateway/${var.name_prefix}-live"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# Execution logs (ERROR level): API Gateway writes them to this fixed name; created
# here so they are encrypted and expire.
resource "aws_cloudwatch_log_group" "live_execution" {
  name              = "API-Gateway-Execution-Logs_${aws_apigatewayv2_api.live.id}/${local.live_stage}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_apigatewayv2_stage" "live" {
  # checkov:skip=CKV2_AWS_51:A stage's client certificate is what API Gateway presents to an HTTP backend; the only integration here is a Lambda, invoked through IAM (aws_lambda_permission), so there is nothing for it to authenticate to. Clients authenticate with a single-use ticket on $connect.
  api_id      = aws_apigatewayv2_api.live.id
  name        = local.live_stage
  auto_deploy = true

  # Connects, resumes and pongs; the frames the server pushes (Management API) are
  # not counted here.
  default_route_settings {
    throttling_rate_limit    = var.live_throttle_rate
    throttling_burst_limit   = var.live_throttle_burst
    detailed_metrics_enabled = true
    logging_level            = "ERROR"
    # Never log frames: a ticket or a finding would end up in the logs.
    data_trace_enabled = false
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.live_access.arn
    format = jsonencode({
      requestId         = "$context.requestId"
      connectionId      = "$context.connectionId"
      eventType         = "$context.eventType"
      routeKey          = "$context.routeKey"
      ip                = "$context.identity.sourceIp"
      userAgent         = "$context.identity.userAgent"
      requestTime       = "$context.requestTime"
      status            = "$context.status"
      error             = "$context.error.message"
      integrationStatus = "$context.integration.status"
      integrationError  = "$context.integration.error"
      authorizerError   = "$context.authorizer.error"
      user              = "$context.authorizer.principalId"
    })
  }

  # WebSocket stages log through the account's API Gateway CloudWatch role.
  depends_on = [aws_api_gateway_account.logs, aws_cloudwatch_log_group.live_execution]
}

# --- The account's API Gateway logging role ----------------------------------------------
# WebSocket (and REST) stages write their logs with a role set once per account and
# region; without it the stage is refused ("CloudWatch Logs role ARN must be set in
# account settings"). This role may write only this deployment's live log groups: if
# other REST or WebSocket APIs in the account and region log, keep the account's own
# role (var.manage_api_gateway_account = false) and make sure it can write these.

data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigateway_logs" {
  count                = var.manage_api_gateway_account ? 1 : 0
  name                 = "${var.name_prefix}-apigateway-logs"
  description          = "API Gateway writes the live WebSocket API's access and execution logs."
  assume_role_policy   = data.aws_iam_policy_document.apigateway_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "apigateway_logs" {
  # Group ARNs appear with and without the ":*" suffix depending on the action; both.
  statement {
    sid       = "WriteLiveLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = flatten([for g in [aws_cloudwatch_log_group.live_access, aws_cloudwatch_log_group.live_execution] : [g.arn, "${g.arn}:*"]])
  }

  # API Gateway looks the groups up before writing; DescribeLogGroups has no
  # narrower resource than the account's log groups. CreateLogGroup only for the
  # execution group (it exists already; API Gateway asks anyway).
  statement {
    sid       = "FindLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
  }

  statement {
    sid       = "CreateExecutionLogGroup"
    actions   = ["logs:CreateLogGroup"]
    resources = [aws_cloudwatch_log_group.live_execution.arn, "${aws_cloudwatch_log_group.live_execution.arn}:*"]
  }
}

resource "aws_iam_role_policy" "apigateway_logs" {
  count  = var.manage_api_gateway_account ? 1 : 0
  name   = "live-logs"
  role   = aws_iam_role.apigateway_logs[0].id
  policy = data.aws_iam_policy_document.apigateway_logs.json
}

resource "aws_api_gateway_account" "logs" {
  count               = var.manage_api_gateway_account ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.apigateway_logs[0].arn

  depends_on = [aws_iam_role_policy.apigateway_logs]
}

# --- Who may invoke the functions ---------------------------------------------------------

resource "aws_lambda_permission" "live" {
  statement_id  = "AllowLiveWebSocketRoutes"
  action        = "lambda:InvokeFunction"
  function_name = var.live_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_stage.live.execution_arn}/*"
}

resource "aws_lambda_permission" "live_authorizer" {
  statement_id  = "AllowLiveConnectAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.live_authorizer_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.live.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.live.id}"
}
