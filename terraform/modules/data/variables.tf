variable "name_prefix" {
  description = "Prefix of every resource name, e.g. cspm-prod."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the table, the archive, Athena results and backups."
  type        = string
}

variable "deletion_protection" {
  description = "Protect the findings, fan-out state, live connections, sign-in sessions and remediations tables against deletion."
  type        = bool
}

variable "archive_expiration_days" {
  description = "Days after which archived findings expire (0 = never)."
  type        = number
}

variable "archive_projection_start" {
  description = "First archive day Athena's partition projection considers (YYYY-MM-DD)."
  type        = string
  default     = "2024-01-01"

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", var.archive_projection_start))
    error_message = "archive_projection_start must be a YYYY-MM-DD date."
  }
}

variable "access_log_retention_days" {
  description = "Days S3 and CloudFront access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be at least 1."
  }
}

variable "enable_backup" {
  description = "Create the AWS Backup vault and daily plan for the table."
  type        = bool
}

variable "backup_retention_days" {
  description = "Days each recovery point is kept."
  type        = number
}

variable "audit_retention_days" {
  description = "Days every audit object version is locked (Object Lock, GOVERNANCE mode)."
  type        = number
  default     = 400

  validation {
    condition     = var.audit_retention_days >= 1
    error_message = "audit_retention_days must be at least 1."
  }
}
