variable "name_prefix" {
  description = "Prefix of every resource name, e.g. cspm-prod."
  type        = string
}

variable "dashboard_url" {
  description = "https URL of the dashboard (OAuth callback and logout URL)."
  type        = string

  validation {
    condition     = startswith(var.dashboard_url, "https://")
    error_message = "dashboard_url must start with https://."
  }
}

variable "deletion_protection" {
  description = "Protect the user pool against deletion."
  type        = bool
}
