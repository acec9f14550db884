output "user_pool_id" {
  description = "Id of the Cognito user pool."
  value       = aws_cognito_user_pool.main.id
}

output "user_pool_arn" {
  description = "ARN of the Cognito user pool."
  value       = aws_cognito_user_pool.main.arn
}

output "issuer_url" {
  description = "OIDC issuer of the user pool (https://cognito-idp.<region>.amazonaws.com/<pool id>): discovery, JWKS, the iss of its tokens."
  value       = "https://${aws_cognito_user_pool.main.endpoint}"
}

output "client_id" {
  description = "Id of the confidential app client the api Lambda signs browsers in with (its secret is in SSM)."
  value       = aws_cognito_user_pool_client.dashboard.id
  # Whatever takes the client id (the api Lambda's environment) is changed only once
  # the secret is in SSM, so a cold start never finds the client without it.
  depends_on = [aws_ssm_parameter.client_secret]
}

output "domain_url" {
  description = "https URL of the managed login domain (https://<prefix>.auth.<region>.amazoncognito.com): /logout and /oauth2/revoke."
  value       = local.domain_url
}

output "client_secret_parameter_name" {
  description = "SSM SecureString holding the app client's secret (beside the SSM prefix, readable by the api role only)."
  value       = aws_ssm_parameter.client_secret.name
}

output "client_secret_parameter_arn" {
  description = "ARN of the SSM SecureString holding the app client's secret."
  value       = aws_ssm_parameter.client_secret.arn
}

output "group_names" {
  description = "The Cognito groups the API maps to roles."
  value       = sort([for g in aws_cognito_user_group.role : g.name])
}
