output "functions" {
  description = "Per function key: name, ARN, invoke ARN, log group and dead-letter queue."
  value = {
    for key, fn in { scanner = module.scanner, api = module.api, archiver = module.archiver } : key => {
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
