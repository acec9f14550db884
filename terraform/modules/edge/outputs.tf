output "dashboard_url" {
  description = "https URL of the dashboard."
  value       = "https://${local.dashboard_domain}"
}

output "api_url" {
  description = "Base URL of the API through CloudFront."
  value       = "https://${local.dashboard_domain}/api"
}

output "api_gateway_endpoint" {
  description = "Direct API Gateway endpoint (bypasses CloudFront and WAF; the api Lambda still wants a token or a session on every route but /health and /auth/*; prefer api_url)."
  value       = aws_apigatewayv2_api.main.api_endpoint
}

output "api_id" {
  description = "Id of the HTTP API."
  value       = aws_apigatewayv2_api.main.id
}

output "live_api_id" {
  description = "Id of the live WebSocket API."
  value       = aws_apigatewayv2_api.live.id
}

output "live_websocket_url" {
  description = "Direct wss URL of the live WebSocket API's stage (bypasses CloudFront and WAF; still needs a ticket). The dashboard uses /live on its own origin."
  value       = aws_apigatewayv2_stage.live.invoke_url
}

output "live_management_endpoint" {
  description = "https endpoint of the API Gateway Management API for the live stage (CSPM_LIVE_ENDPOINT: posting to and closing connections)."
  value       = replace(aws_apigatewayv2_stage.live.invoke_url, "wss://", "https://")
}

output "live_stage_execution_arn" {
  description = "Execution ARN of the live stage (arn:aws:execute-api:<region>:<account>:<api id>/live), the prefix of the @connections ARNs."
  value       = aws_apigatewayv2_stage.live.execution_arn
}

output "dashboard_bucket" {
  description = "Name of the dashboard bucket."
  value       = aws_s3_bucket.dashboard.id
}

output "distribution_id" {
  description = "CloudFront distribution id (for invalidations)."
  value       = aws_cloudfront_distribution.main.id
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL."
  value       = aws_wafv2_web_acl.main.arn
}

output "web_acl_name" {
  description = "Name of the WAF web ACL."
  value       = aws_wafv2_web_acl.main.name
}
