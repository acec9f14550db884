output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "Invoke ARN (for API Gateway integrations)."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_name" {
  description = "Name of the execution role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the execution role (e.g. to protect it from changes the function itself could make)."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "dlq_arn" {
  description = "ARN of the asynchronous-invocation dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "Name of the asynchronous-invocation dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "timeout" {
  description = "Timeout of the function in seconds."
  # The configured value, not the function's attribute: the scanner's timeout sizes
  # the events redrive queue, whose ARN is in the scanner's policy, which the
  # function waits for (depends_on); the attribute would close that into a cycle.
  value = var.timeout
}

output "errors_alarm_arn" {
  description = "ARN of the function's Errors alarm."
  value       = aws_cloudwatch_metric_alarm.errors.arn
}
