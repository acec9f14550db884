variable "name_prefix" {
  description = "Prefix of every resource name, e.g. cspm-prod."
  type        = string
}

variable "severity_filter" {
  description = "Security Hub severity labels the real-time rule forwards."
  type        = list(string)
}

variable "sync_schedule" {
  description = "Schedule expression of the full Security Hub sync."
  type        = string
}

variable "archive_schedule" {
  description = "Schedule expression of the archive run."
  type        = string
}

variable "scanner_function_arn" {
  description = "ARN of the scanner function."
  type        = string
}

variable "scanner_function_name" {
  description = "Name of the scanner function."
  type        = string
}

variable "scanner_timeout" {
  description = "Timeout of the scanner in seconds (sets the DLQ visibility timeout)."
  type        = number
}

variable "archiver_function_arn" {
  description = "ARN of the archiver function."
  type        = string
}

variable "archiver_function_name" {
  description = "Name of the archiver function."
  type        = string
}

variable "max_receive_count" {
  description = "Times the scanner may fail one redriven message before it is parked."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "alarm_topic_arn" {
  description = "Topic the alarms notify."
  type        = string
}
