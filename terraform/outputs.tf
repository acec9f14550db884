output "dashboard_url" {
  description = "Open this in a browser."
  value       = module.edge.dashboard_url
}

output "api_url" {
  description = "Base URL of the API (same origin as the dashboard)."
  value       = module.edge.api_url
}

output "api_gateway_endpoint" {
  description = "Direct API Gateway endpoint (bypasses CloudFront and WAF; the api Lambda still wants a Cognito token or a session on every route but /health and /auth/*)."
  value       = module.edge.api_gateway_endpoint
}

output "live_websocket_url" {
  description = "Direct wss endpoint of the live WebSocket API's stage (bypasses CloudFront and WAF; still needs a ticket). The dashboard connects to <dashboard_url>/live."
  value       = module.edge.live_websocket_url
}

output "live_management_endpoint" {
  description = "API Gateway Management API endpoint of the live stage (CSPM_LIVE_ENDPOINT of the live and fanout Lambdas)."
  value       = module.edge.live_management_endpoint
}

output "live_connections_table" {
  description = "DynamoDB table of the open live-dashboard connections."
  value       = module.data.connections_table_name
}

output "findings_table" {
  description = "DynamoDB findings table."
  value       = module.data.table_name
}

output "remediations_table" {
  description = "DynamoDB table of the remediation records (what was planned, approved and changed, by whom, and how it ended)."
  value       = module.data.remediation_table_name
}

output "remediations_dlq" {
  description = "Dead-letter queue of the remediations queue: approvals the remediator could never handle (alarmed; read, then redrive or delete)."
  value       = module.compute.remediations_dlq_name
}

output "remediation_writer_trusted_role_arns" {
  description = "The remediator Lambda's execution role: writer_trusted_role_arns of modules/remediation_member_role (the writer role <remediation_member_role_name>, which holds the enabled actions' writes, trusts it and nothing else)."
  value       = module.compute.remediation_writer_trusted_role_arns
}

output "remediation_planner_trusted_role_arns" {
  description = "The api Lambda's execution role: planner_trusted_role_arns of modules/remediation_member_role (the planner role <remediation_member_role_name>-planner, reads only, trusts it and nothing else)."
  value       = module.compute.remediation_planner_trusted_role_arns
}

output "remediation_assume_role" {
  description = "assume_role of the remediation file: the writer member role the remediator assumes in a finding's account ({account} = its id); null when remediation_member_role_name is empty (this account only)."
  value       = module.compute.remediation_assume_role
}

output "remediation_plan_role" {
  description = "plan_role of the remediation file: the planner member role (reads only) the api assumes in a finding's account for plans ({account} = its id); null when remediation_member_role_name is empty (this account only)."
  value       = module.compute.remediation_plan_role
}

output "audit_location" {
  description = "The audit log (Object Lock): check it with `cspm audit verify --from s3://<this>`."
  value       = module.data.audit_location
}

output "archive_bucket" {
  description = "S3 archive bucket (findings/dt=YYYY-MM-DD/*.jsonl.gz)."
  value       = module.data.archive_bucket
}

output "dashboard_bucket" {
  description = "S3 bucket holding the dashboard files."
  value       = module.edge.dashboard_bucket
}

output "logs_bucket" {
  description = "S3 bucket holding S3 and CloudFront access logs."
  value       = module.data.logs_bucket
}

output "cloudfront_distribution_id" {
  description = "CloudFront distribution id (for cache invalidations after a dashboard upload)."
  value       = module.edge.distribution_id
}

output "athena_database" {
  description = "Glue database of the archive table `findings`."
  value       = module.data.athena_database
}

output "athena_workgroup" {
  description = "Athena workgroup for archive queries."
  value       = module.data.athena_workgroup
}

output "sns_standard_topic_arn" {
  description = "Standard alert topic."
  value       = module.alerting.standard_topic_arn
}

output "sns_critical_topic_arn" {
  description = "Critical alert topic (also receives operational alarms)."
  value       = module.alerting.critical_topic_arn
}

output "cognito_user_pool_id" {
  description = "Cognito user pool of API users."
  value       = module.auth.user_pool_id
}

output "cognito_client_id" {
  description = "Cognito app client id (confidential: its secret is the SecureString cognito_client_secret_parameter) the api Lambda signs browsers in with; also for CLI sign-ins (with a SECRET_HASH)."
  value       = module.auth.client_id
}

output "cognito_client_secret_parameter" {
  description = "SSM SecureString holding the app client's secret (/<project>/<environment>-auth/oidc_client_secret, outside ssm_prefix), read by the api Lambda alone at cold start."
  value       = module.auth.client_secret_parameter_name
}

output "api_token_parameter" {
  description = "SSM SecureString (/<project>/<environment>-api/api_token, outside ssm_prefix) holding the static admin bearer token when static_api_token is on; read by the api Lambda alone at cold start. Create it yourself (docs/deploy.md, \"A static API token\")."
  value       = module.compute.api_token_parameter_name
}

output "cognito_issuer" {
  description = "OIDC issuer of the user pool (CSPM_OIDC_ISSUER of the api Lambda)."
  value       = module.auth.issuer_url
}

output "cognito_domain_url" {
  description = "Managed login (hosted UI) domain of the user pool: sign-in pages, /logout, /oauth2/revoke."
  value       = module.auth.domain_url
}

output "cognito_groups" {
  description = "Cognito groups that give roles (add users with aws cognito-idp admin-add-user-to-group)."
  value       = module.auth.group_names
}

output "auth_table" {
  description = "DynamoDB auth table (<prefix>-auth): browser sign-in sessions and named tokens (cspm tokens --table)."
  value       = module.data.auth_table_name
}

output "ssm_prefix" {
  description = "Prefix of the SSM parameters the code reads."
  value       = local.ssm_prefix
}

output "slack_webhook_parameter" {
  description = "SecureString to put the Slack webhook URL in."
  value       = module.alerting.slack_webhook_parameter_name
}

output "sinks_parameter" {
  description = "SSM parameter the fanout Lambda reads its sinks YAML from (created only when sinks_yaml is set)."
  value       = module.alerting.sinks_parameter_name
}

output "fanout_state_table" {
  description = "DynamoDB table of the fan-out state (alert keys already sent)."
  value       = module.data.state_table_name
}

output "fanout_failure_queue" {
  description = "SQS queue holding the stream positions of changes the fanout Lambda could not deliver in 10 retries or 1 hour."
  value       = module.compute.fanout_failure_queue_name
}

output "lambda_functions" {
  description = "Lambda function names by function key."
  value       = { for key, fn in module.compute.functions : key => fn.function_name }
}

output "cloudwatch_dashboard" {
  description = "Name of the CloudWatch dashboard."
  value       = module.alerting.dashboard_name
}

output "dashboard_config_json" {
  description = "The config.json uploaded next to the dashboard (for a manual upload)."
  value       = jsonencode(local.dashboard_config)
}
