variable "name_prefix" {
  description = "Prefix of every resource name, e.g. cspm-prod."
  type        = string
}

variable "aws_region" {
  description = "Region of the monitored resources (dashboard widgets)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key for the topics and SecureString parameters."
  type        = string
}

variable "ssm_prefix" {
  description = "SSM prefix of the parameters the code reads, e.g. /cspm/prod/."
  type        = string

  validation {
    condition     = startswith(var.ssm_prefix, "/") && endswith(var.ssm_prefix, "/")
    error_message = "ssm_prefix must start and end with a slash."
  }
}

variable "alert_emails_standard" {
  description = "E-mail subscribers of the standard topic."
  type        = list(string)
}

variable "alert_emails_critical" {
  description = "E-mail subscribers of the critical topic."
  type        = list(string)
}

variable "function_names" {
  description = "Lambda function names by function key."
  type        = map(string)
}

variable "archiver_function_name" {
  description = "Name of the archiver function (26-hour success alarm)."
  type        = string
}

variable "queue_names" {
  description = "SQS queues shown on the dashboard."
  type        = list(string)
}

variable "table_name" {
  description = "Findings table name."
  type        = string
}

variable "api_id" {
  description = "Id of the HTTP API."
  type        = string
}

variable "web_acl_name" {
  description = "Name of the WAF web ACL."
  type        = string
}

variable "sinks_yaml" {
  description = "The fanout Lambda's sinks YAML; empty = create no parameter (the Lambda then alerts through the two topics)."
  type        = string
  sensitive   = true
}

variable "detection_settings_yaml" {
  description = "The organisation's lists for the detection rules (detection-settings.yaml format); empty = create no parameter (every list empty)."
  type        = string
}

variable "fanout" {
  description = "The fanout Lambda's operational handles: function name, its Errors alarm ARN and the on-failure queue name (alarms and dashboard)."
  type = object({
    function_name      = string
    errors_alarm_arn   = string
    failure_queue_name = string
  })
}

variable "iterator_age_threshold_ms" {
  description = "IteratorAge (ms) of the fanout function above which the change feed counts as behind (3 of 5 one-minute periods)."
  type        = number
  default     = 300000

  validation {
    condition     = var.iterator_age_threshold_ms >= 1000
    error_message = "iterator_age_threshold_ms must be at least 1000."
  }
}

variable "sink_failures_threshold" {
  description = "Failed sink tries per 5 minutes, two periods running, that alarm."
  type        = number
  default     = 10
}
