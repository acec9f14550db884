output "functions" {
  description = "Per function key: name, ARN, invoke ARN, log group and dead-letter queue."
  value = {
    for key, fn in { scanner = module.scanner, api = module.api, archiver = module.archiver, exporter = module.exporter, remediator = module.remediator, fanout = module.fanout, live = module.live, live_authorizer = module.live_authorizer } : key => {
      function_name          = fn.function_name
      function_arn           = fn.function_arn
      invoke_arn             = fn.invoke_arn
      log_group_name         = fn.log_group_name
      dlq_name               = fn.dlq_name
    }
  }
}

output "scanner_function_arn" {
  description = "ARN of the scanner function."
  value       = module.scanner.function_arn
}

output "scanner_function_name" {
  description = "Name of the scanner function."
  value       = module.scanner.function_name
}

output "api_function_name" {
  description = "Name of the api function."
  value       = module.api.function_name
}

output "api_invoke_arn" {
  description = "Invoke ARN of the api function."
  value       = module.api.invoke_arn
}

output "live_function_name" {
  description = "Name of the live function (the WebSocket API's routes)."
  value       = module.live.function_name
}

output "live_invoke_arn" {
  description = "Invoke ARN of the live function."
  value       = module.live.invoke_arn
}

output "live_authorizer_function_name" {
  description = "Name of the live_authorizer function ($connect's REQUEST authorizer)."
  value       = module.live_authorizer.function_name
}

output "live_authorizer_invoke_arn" {
  description = "Invoke ARN of the live_authorizer function."
  value       = module.live_authorizer.invoke_arn
}

output "archiver_function_arn" {
  description = "ARN of the archiver function."
  value       = module.archiver.function_arn
}

output "archiver_function_name" {
  description = "Name of the archiver function."
  value       = module.archiver.function_name
}

output "scanner_timeout" {
  description = "Timeout of the scanner in seconds (the redrive queue's visibility timeout derives from it)."
  value       = module.scanner.timeout
}

output "fanout_function_name" {
  description = "Name of the fanout function (the change feed's consumer)."
  value       = module.fanout.function_name
}

output "fanout_errors_alarm_arn" {
  description = "ARN of the fanout function's Errors alarm (for the dashboard's alarm widget)."
  value       = module.fanout.errors_alarm_arn
}

output "fanout_failure_queue_name" {
  description = "Name of the queue holding the stream positions of changes no retry could deliver."
  value       = aws_sqs_queue.fanout_failures.name
}

output "fanout_failure_queue_arn" {
  description = "ARN of the fanout on-failure queue."
  value       = aws_sqs_queue.fanout_failures.arn
}

output "fanout_event_source_mapping_uuid" {
  description = "UUID of the stream -> fanout event source mapping (aws lambda get-event-source-mapping --uuid ...)."
  value       = aws_lambda_event_source_mapping.fanout.uuid
}

output "remediations_dlq_name" {
  description = "Name of the remediations' dead-letter queue (messages the remediator could never handle)."
  value       = aws_sqs_queue.remediations_dlq.name
}

output "remediation_queue_url" {
  description = "URL of the remediations queue (CSPM_REMEDIATION_QUEUE_URL of the api, remediator and fanout Lambdas)."
  value       = aws_sqs_queue.remediations.url
}

output "exports_dlq_name" {
  description = "Name of the export jobs' dead-letter queue (jobs whose status could not be written)."
  value       = aws_sqs_queue.exports_dlq.name
}

output "remediation_writer_trusted_role_arns" {
  description = "Execution role of the remediator, the only role the writer member role trusts (writer_trusted_role_arns of modules/remediation_member_role)."
  value       = [module.remediator.role_arn]
}

output "remediation_planner_trusted_role_arns" {
  description = "Execution role of the api, the only role the planner member role trusts (planner_trusted_role_arns of modules/remediation_member_role)."
  value       = [module.api.role_arn]
}

output "remediation_assume_role" {
  description = "assume_role of the remediation file (the writer member role's ARN with {account} for the account id), or null when remediation is same-account only."
  value       = lookup(local.remediation_member_roles, "assume_role", null)
}

output "remediation_plan_role" {
  description = "plan_role of the remediation file (the planner member role's ARN with {account} for the account id), or null when remediation is same-account only."
  value       = lookup(local.remediation_member_roles, "plan_role", null)
}

output "api_token_parameter_name" {
  description = "SSM SecureString the api Lambda reads its static admin token from when static_api_token is on (outside ssm_prefix)."
  value       = local.api_token_parameter_name
}
