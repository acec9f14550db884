output "dashboard_url" {
  description = "https URL of the dashboard."
  value       = "https://${local.dashboard_domain}"
}

output "api_url" {
  description = "Base URL of the API through CloudFront."
  value       = "https://${local.dashboard_domain}/api"
}

output "api_gateway_endpoint" {
  description = "Direct API Gateway endpoint (still needs a JWT; prefer api_url)."
  value       = aws_apigatewayv2_api.main.api_endpoint
}

output "api_id" {
  description = "Id of the HTTP API."
  value       = aws_apigatewayv2_api.main.id
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
