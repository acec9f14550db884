variable "name_prefix" {
  description = "Prefix of every resource name, e.g. cspm-prod."
  type        = string
}

variable "lambda_dist_dir" {
  description = "Folder holding <binary>/bootstrap.zip for every Lambda."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key (table, archive, topics, parameters, Lambda environment)."
  type        = string
}

variable "table_name" {
  description = "Findings table name."
  type        = string
}

variable "table_arn" {
  description = "Findings table ARN."
  type        = string
}

variable "archive_bucket" {
  description = "Archive bucket name."
  type        = string
}

variable "archive_bucket_arn" {
  description = "Archive bucket ARN."
  type        = string
}

variable "archive_prefix" {
  description = "CSPM_ARCHIVE_PREFIX: where in the bucket the archiver's findings/ and manifests/ folders live (\"\" = bucket root)."
  type        = string

  validation {
    condition     = !startswith(var.archive_prefix, "/") && !endswith(var.archive_prefix, "/")
    error_message = "archive_prefix must not start or end with a slash."
  }
}

variable "archive_key_prefixes" {
  description = "Key prefixes the archiver writes and reads (parts and manifests), each ending with a slash."
  type        = list(string)

  validation {
    condition     = length(var.archive_key_prefixes) > 0 && alltrue([for p in var.archive_key_prefixes : endswith(p, "/")])
    error_message = "archive_key_prefixes must be a non-empty list of prefixes ending with a slash."
  }
}

variable "sns_standard_topic_arn" {
  description = "Topic for standard alerts."
  type        = string
}

variable "sns_critical_topic_arn" {
  description = "Topic for critical alerts."
  type        = string
}

variable "alarm_topic_arn" {
  description = "Topic the functions' CloudWatch alarms notify."
  type        = string
}

variable "ssm_prefix" {
  description = "SSM parameter prefix the code reads, e.g. /cspm/prod/."
  type        = string

  validation {
    condition     = startswith(var.ssm_prefix, "/") && endswith(var.ssm_prefix, "/")
    error_message = "ssm_prefix must start and end with a slash."
  }
}

variable "sync_state_parameter_arn" {
  description = "ARN of the SSM parameter the scanner saves its Security Hub sync position in."
  type        = string
}

variable "events_dlq_arn" {
  description = "ARN of the EventBridge dead-letter queue the scanner redrives."
  type        = string
}

variable "dashboard_url" {
  description = "Public https URL of the dashboard (links in alerts, allowed CORS origin)."
  type        = string
}

variable "alert_min_severity" {
  description = "Lowest severity the scanner alerts on."
  type        = string
}

variable "account_id_override" {
  description = "Account id the scanner writes on every finding instead of the event's own (multi-account display and testing); empty = off."
  type        = string
  default     = ""
}

variable "retention_days" {
  description = "Days a finding stays in the table before the archiver moves it."
  type        = number
}

variable "log_level" {
  description = "RUST_LOG filter."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the Lambda log groups."
  type        = number
}

variable "scanner_reserved_concurrency" {
  description = "Reserved concurrency of the scanner."
  type        = number
}

variable "api_reserved_concurrency" {
  description = "Reserved concurrency of the api function."
  type        = number
}
