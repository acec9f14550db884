variable "name_prefix" {
  description = "Prefix of every resource name, e.g. cspm-prod."
  type        = string
}

variable "function_key" {
  description = "Key of the function in backend/lambdas.json (scanner, api, archiver...); the function is named <name_prefix>-<function_key>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{1,30}$", var.function_key))
    error_message = "function_key must be lowercase letters, digits, - or _."
  }
}

variable "description" {
  description = "What the function does."
  type        = string
}

variable "zip_path" {
  description = "Path of the bootstrap.zip built by cargo lambda (arm64)."
  type        = string

  validation {
    condition     = endswith(var.zip_path, ".zip")
    error_message = "zip_path must point to a .zip file."
  }
}

variable "environment" {
  description = "Environment variables, exactly those the code reads (backend/lambdas.json)."
  type        = map(string)
}

variable "policy_json" {
  description = "IAM policy with exactly the actions the code calls (backend/lambdas.json), scoped to its resources."
  type        = string
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240."
  }
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: caps how hard this function can hit its downstreams."
  type        = number

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1."
  }
}

variable "async_retry_attempts" {
  description = "Retries of a failed asynchronous invocation before it is dead-lettered."
  type        = number
  default     = 2

  validation {
    condition     = var.async_retry_attempts >= 0 && var.async_retry_attempts <= 2
    error_message = "async_retry_attempts must be 0, 1 or 2."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key for the environment variables and the log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
}

variable "alarm_topic_arn" {
  description = "SNS topic notified when an alarm of this function changes state."
  type        = string
}
