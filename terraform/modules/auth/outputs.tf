output "user_pool_id" {
  description = "Id of the Cognito user pool."
  value       = aws_cognito_user_pool.main.id
}

output "user_pool_arn" {
  description = "ARN of the Cognito user pool."
  value       = aws_cognito_user_pool.main.arn
}

output "issuer_url" {
  description = "JWT issuer of the user pool."
  value       = "https://${aws_cognito_user_pool.main.endpoint}"
}

output "client_id" {
  description = "Id of the dashboard/CLI app client (public, no secret)."
  value       = aws_cognito_user_pool_client.dashboard.id
}
