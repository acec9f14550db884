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

variable "table_stream_arn" {
  description = "ARN of the findings table's stream (NEW_AND_OLD_IMAGES), the fanout Lambda's event source."
  type        = string
}

variable "state_table_name" {
  description = "Name of the fan-out state table (CSPM_STATE_TABLE)."
  type        = string
}

variable "state_table_arn" {
  description = "ARN of the fan-out state table."
  type        = string
}

variable "connections_table_name" {
  description = "Name of the live-dashboard connections table (CSPM_CONNECTIONS_TABLE)."
  type        = string
}

variable "connections_table_arn" {
  description = "ARN of the live-dashboard connections table."
  type        = string
}

variable "auth_table_name" {
  description = "Name of the auth table: browser sessions and named tokens (CSPM_AUTH_TABLE of the api Lambda)."
  type        = string
}

variable "auth_table_arn" {
  description = "ARN of the browser sign-in sessions table."
  type        = string
}

variable "oidc_issuer" {
  description = "CSPM_OIDC_ISSUER: issuer of the Cognito user pool (https://cognito-idp.<region>.amazonaws.com/<pool id>)."
  type        = string

  validation {
    condition     = startswith(var.oidc_issuer, "https://")
    error_message = "oidc_issuer must be an https URL."
  }
}

variable "oidc_client_id" {
  description = "CSPM_OIDC_CLIENT_ID: the confidential app client the api Lambda signs browsers in with (and that bearer tokens must name)."
  type        = string
}

variable "oidc_client_secret_parameter_name" {
  description = "CSPM_OIDC_CLIENT_SECRET_PARAMETER: the SSM SecureString holding the app client's secret (outside the SSM prefix the other Lambdas read)."
  type        = string
}

variable "oidc_client_secret_parameter_arn" {
  description = "ARN of that parameter: the api role alone may read it."
  type        = string
}

variable "oidc_cognito_domain" {
  description = "CSPM_OIDC_COGNITO_DOMAIN: the user pool's managed login domain (https://<prefix>.auth.<region>.amazoncognito.com), for /logout and /oauth2/revoke."
  type        = string

  validation {
    condition     = startswith(var.oidc_cognito_domain, "https://")
    error_message = "oidc_cognito_domain must be an https URL."
  }
}

variable "live_management_endpoint" {
  description = "CSPM_LIVE_ENDPOINT: https URL of the WebSocket API's stage for the API Gateway Management API (https://<api id>.execute-api.<region>.amazonaws.com/live)."
  type        = string

  validation {
    condition     = startswith(var.live_management_endpoint, "https://")
    error_message = "live_management_endpoint must be an https URL (the Management API endpoint, not the wss one)."
  }
}

variable "live_stage_execution_arn" {
  description = "Execution ARN of the WebSocket API's stage (arn:aws:execute-api:<region>:<account>:<api id>/live); ManageConnections is granted under it."
  type        = string
}

variable "alert_email_identities" {
  description = "SES identities (domains or addresses) the fanout Lambda may send alert e-mail from; empty = none."
  type        = list(string)
  default     = []
}

variable "sinks_parameter_name" {
  description = "CSPM_SINKS_PARAMETER: name of the SSM parameter holding the sinks YAML (it may not exist: the fanout Lambda then alerts through the two SNS topics)."
  type        = string

  validation {
    condition     = startswith(var.sinks_parameter_name, "/")
    error_message = "sinks_parameter_name must be a full SSM parameter name starting with a slash."
  }
}

variable "archive_bucket" {
  description = "Archive bucket name."
  type        = string
}

variable "audit_location" {
  description = "CSPM_AUDIT_BUCKET: audit bucket and prefix (\"bucket/audit\") the fanout Lambda chains audit lines under."
  type        = string
}

variable "audit_bucket_arn" {
  description = "Audit bucket ARN (Object Lock)."
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

variable "exports_key_prefix" {
  description = "Key prefix of export jobs' files and status objects in the archive bucket (POST /exports), ending with a slash."
  type        = string

  validation {
    condition     = endswith(var.exports_key_prefix, "exports/")
    error_message = "exports_key_prefix must end with exports/ (the code writes exports/<id>.<ext> under the archive prefix)."
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
  description = "Topic for standard alerts (fanout's default SNS sink)."
  type        = string
}

variable "sns_critical_topic_arn" {
  description = "Topic for critical alerts (fanout's default SNS sink)."
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
  description = "Public https URL of the dashboard (links in alerts, allowed CORS origin; the api Lambda's sign-in callback is <url>/auth/callback)."
  type        = string
}

variable "alert_min_severity" {
  description = "Lowest severity fanout's default SNS sink alerts on (when no sinks YAML is set)."
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

variable "fanout_reserved_concurrency" {
  description = "Reserved concurrency of the fanout function (at least the stream's open shard count)."
  type        = number
}

variable "static_api_token" {
  description = "Whether the api Lambda reads a static admin bearer token from the SecureString <ssm_prefix without its last slash>-api/api_token (CSPM_API_TOKEN_PARAMETER)."
  type        = bool
}

variable "api_reserved_concurrency" {
  description = "Reserved concurrency of the api function."
  type        = number
}

variable "live_reserved_concurrency" {
  description = "Reserved concurrency of the live function (WebSocket connects, disconnects, resumes)."
  type        = number
}

variable "live_authorizer_reserved_concurrency" {
  description = "Reserved concurrency of the live_authorizer function."
  type        = number
}

variable "remediation_table_name" {
  description = "CSPM_REMEDIATION_TABLE: name of the remediations table (records and per-account attempt ledgers)."
  type        = string
}

variable "remediation_table_arn" {
  description = "ARN of the remediations table."
  type        = string
}

variable "remediation_enabled" {
  description = "Remediation action ids (keys of backend/remediation_actions.json) that may change AWS; their IAM actions (reads and writes) are granted to the remediator. The api gets the reads of every action, enabled or not."
  type        = list(string)
}

variable "remediation_auto" {
  description = "Rule or control ids remediated without a person's approval: the fanout Lambda's remediation sink approves and queues their findings (still subject to every guard)."
  type        = list(string)
}

variable "remediation_allowed_ports" {
  description = "Ports a security group may leave open to the world."
  type        = list(number)
}

variable "remediation_protected_principals" {
  description = "ARN patterns of principals no remediation may change, on top of the remediator's own role, this deployment's roles (<name_prefix>-*) and arn:aws:iam::*:role/break-glass-*."
  type        = list(string)
}

variable "remediation_max_per_account_per_hour" {
  description = "Remediations applied per account in any one hour, at most."
  type        = number
}

variable "remediation_accounts" {
  description = "accounts of the remediation file: account ids or * patterns remediation may change."
  type        = list(string)
}

variable "remediation_regions" {
  description = "regions of the remediation file: region names or * patterns remediation may change."
  type        = list(string)
}

variable "remediation_protected_tag" {
  description = "protected_tag of the remediation file: a resource tagged key = value is never remediated."
  type = object({
    key   = string
    value = string
  })
}

variable "remediation_member_role_name" {
  description = "Name (optionally path/name) of the writer member role the remediator assumes in each finding's account (assume_role of the remediation file); the api assumes <this>-planner (plan_role). Empty = this account only, with the Lambdas' own roles."
  type        = string
}
