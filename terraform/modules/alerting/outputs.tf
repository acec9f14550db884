output "standard_topic_arn" {
  description = "ARN of the standard alert topic."
  value       = aws_sns_topic.alerts["standard"].arn
}

output "critical_topic_arn" {
  description = "ARN of the critical alert topic (also operational alarms)."
  value       = aws_sns_topic.alerts["critical"].arn
}

output "sync_state_parameter_arn" {
  description = "ARN of the Security Hub sync progress parameter (sync_state)."
  value       = aws_ssm_parameter.sync_state.arn
}

output "slack_webhook_parameter_name" {
  description = "Name of the SecureString holding the Slack webhook URL."
  value       = aws_ssm_parameter.slack_webhook_url.name
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.main.dashboard_name
}

output "sinks_parameter_name" {
  description = "Name of the SSM parameter holding the sinks YAML (CSPM_SINKS_PARAMETER); it exists only when sinks_yaml is set."
  value       = local.sinks_parameter_name
}
