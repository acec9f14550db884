variable "name_prefix" {
  description = "Prefix of every resource name, e.g. cspm-prod."
  type        = string
}

variable "dashboard_url" {
  description = "https URL of the dashboard: the callback is <url>/auth/callback (the api Lambda behind CloudFront /auth/*), sign-out returns to <url>/."
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

variable "ssm_prefix" {
  description = "SSM parameter prefix the api Lambda reads, e.g. /cspm/prod/; the client secret goes beside it, to <prefix without its last slash>-auth/oidc_client_secret, out of the other Lambdas' reach."
  type        = string

  validation {
    condition     = startswith(var.ssm_prefix, "/") && endswith(var.ssm_prefix, "/")
    error_message = "ssm_prefix must start and end with a slash."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the client secret's SecureString."
  type        = string
}

variable "domain_prefix" {
  description = "Prefix of the managed login domain https://<prefix>.auth.<region>.amazoncognito.com (unique in the region across all AWS accounts)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) && length(regexall("aws|amazon|cognito", var.domain_prefix)) == 0
    error_message = "domain_prefix must be 1-63 lowercase letters, digits or hyphens, start and end with a letter or digit, and not contain aws, amazon or cognito."
  }
}

variable "enable_threat_protection" {
  description = "Put the pool on the Plus feature plan with threat protection enforced (advanced_security_mode ENFORCED); false: Essentials, threat protection off."
  type        = bool
}

variable "access_token_minutes" {
  description = "Lifetime of access tokens, in minutes (5 to 1440)."
  type        = number

  validation {
    condition     = var.access_token_minutes >= 5 && var.access_token_minutes <= 1440 && floor(var.access_token_minutes) == var.access_token_minutes
    error_message = "access_token_minutes must be a whole number from 5 to 1440 (Cognito: 5 minutes to 1 day)."
  }
}

variable "id_token_minutes" {
  description = "Lifetime of ID tokens, in minutes (5 to 1440)."
  type        = number

  validation {
    condition     = var.id_token_minutes >= 5 && var.id_token_minutes <= 1440 && floor(var.id_token_minutes) == var.id_token_minutes
    error_message = "id_token_minutes must be a whole number from 5 to 1440 (Cognito: 5 minutes to 1 day)."
  }
}

variable "refresh_token_hours" {
  description = "Lifetime of refresh tokens, in hours (1 to 87600)."
  type        = number

  validation {
    condition     = var.refresh_token_hours >= 1 && var.refresh_token_hours <= 87600 && floor(var.refresh_token_hours) == var.refresh_token_hours
    error_message = "refresh_token_hours must be a whole number from 1 to 87600 (Cognito: 1 hour to 3650 days)."
  }
}
