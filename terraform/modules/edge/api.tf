# HTTP API (payload v2) proxying everything to the api Lambda, with no API Gateway
# authorizer: the Lambda authenticates every request itself (Cognito bearer tokens
# against the pool's JWKS, or the browser session cookie) and answers 401/403; GET
# /health and the sign-in routes are public by design. A JWT authorizer could not read
# the session cookie and would refuse /auth/login and /auth/callback, which a browser
# reaches before it has any token. Reached through CloudFront /api/* (the viewer
# request function strips the /api prefix) and /auth/* (unchanged), so the browser
# stays same-origin.

resource "aws_apigatewayv2_api" "main" {
  name          = "${var.name_prefix}-api"
  description   = "cspm-monitor API (behind CloudFront /api/* and /auth/*)"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "api" {
  api_id                 = aws_apigatewayv2_api.main.id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.api_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 15000
}

resource "aws_apigatewayv2_route" "proxy" {
  # checkov:skip=CKV_AWS_309:The api Lambda authenticates every request itself (Cognito access tokens verified against the pool's JWKS, or a server-side session cookie) and refuses with 401/403; an API Gateway JWT authorizer cannot read the session cookie and would block the public sign-in routes (/auth/login, /auth/callback) and GET /health.
  api_id             = aws_apigatewayv2_api.main.id
  route_key          = "ANY /{proxy+}"
  target             = "integrations/${aws_apigatewayv2_integration.api.id}"
  authorization_type = "NONE"
}

# The same route as before, without its JWT authorizer; GET /health, which had a route
# of its own, is now just one of the paths of ANY /{proxy+}.
moved {
  from = aws_apigatewayv2_route.authorized
  to   = aws_apigatewayv2_route.proxy
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name_prefix}-api"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.main.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit    = var.api_throttle_rate
    throttling_burst_limit   = var.api_throttle_burst
    detailed_metrics_enabled = true
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      path               = "$context.path"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationStatus  = "$context.integrationStatus"
      integrationLatency = "$context.integrationLatency"
      error              = "$context.error.message"
    })
  }
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.api_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.main.execution_arn}/*/*"
}
