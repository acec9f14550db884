variable "project" {
  description = "Short project name; prefixes every resource name."
  type        = string
  default     = "cspm"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.project))
    error_message = "project must be 2-16 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  description = "Deployment environment (dev, staging, prod...); part of names and of the SSM prefix /<project>/<environment>/."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "environment must be 2-12 lowercase letters or digits, starting with a letter."
  }
}

variable "aws_region" {
  description = "AWS region for everything except the CloudFront WAF (always us-east-1)."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like eu-west-1."
  }
}

variable "tags" {
  description = "Extra tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "lambda_dist_dir" {
  description = "Folder holding <binary>/bootstrap.zip for every Lambda, as written by `cargo lambda build --release --arm64 --output-format zip --lambda-dir dist/lambda-arm64` (relative to the terraform/ folder)."
  type        = string
  default     = "../dist/lambda-arm64"
}

variable "dashboard_dist_dir" {
  description = "Folder holding the built dashboard (index.html, .js, .wasm, ...), relative to the terraform/ folder."
  type        = string
  default     = "../frontend/dist"
}

variable "upload_dashboard" {
  description = "Upload the dashboard files and a generated config.json to the dashboard bucket on apply."
  type        = bool
  default     = true
}

variable "table_deletion_protection" {
  description = "Protect the DynamoDB findings, fan-out state, live connections, sign-in sessions and remediations tables against deletion."
  type        = bool
  default     = true
}

variable "user_pool_deletion_protection" {
  description = "Protect the Cognito user pool (the dashboard's and the API's users) against deletion."
  type        = bool
  default     = true
}

variable "cognito_domain_prefix" {
  description = "Prefix of the Cognito managed login domain https://<prefix>.auth.<region>.amazoncognito.com, where the api Lambda sends browsers to sign in. Must be unique in the region across all AWS accounts; empty (default) = the name prefix <project>-<environment>. Lowercase letters, digits and hyphens; not containing aws, amazon or cognito."
  type        = string
  default     = ""

  validation {
    condition     = var.cognito_domain_prefix == "" || (can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.cognito_domain_prefix)) && length(regexall("aws|amazon|cognito", var.cognito_domain_prefix)) == 0)
    error_message = "cognito_domain_prefix must be empty or 1-63 lowercase letters, digits or hyphens, starting and ending with a letter or digit, and must not contain aws, amazon or cognito."
  }
}

variable "cognito_threat_protection" {
  description = "Cognito threat protection (adaptive authentication, compromised-credentials checks) in ENFORCED mode. Needs the paid Plus feature plan, which this switches the user pool to; false (default) = Essentials plan, threat protection off."
  type        = bool
  default     = false
}

variable "access_token_minutes" {
  description = "Lifetime of Cognito access tokens (bearer tokens for the API), in minutes: 5 to 1440."
  type        = number
  default     = 60

  validation {
    condition     = var.access_token_minutes >= 5 && var.access_token_minutes <= 1440 && floor(var.access_token_minutes) == var.access_token_minutes
    error_message = "access_token_minutes must be a whole number from 5 to 1440 (Cognito: 5 minutes to 1 day)."
  }
}

variable "id_token_minutes" {
  description = "Lifetime of Cognito ID tokens, in minutes: 5 to 1440. A browser session is renewed with the refresh token when these run out."
  type        = number
  default     = 60

  validation {
    condition     = var.id_token_minutes >= 5 && var.id_token_minutes <= 1440 && floor(var.id_token_minutes) == var.id_token_minutes
    error_message = "id_token_minutes must be a whole number from 5 to 1440 (Cognito: 5 minutes to 1 day)."
  }
}

variable "refresh_token_hours" {
  description = "Lifetime of Cognito refresh tokens, in hours: 1 to 87600 (3650 days). Keep it longer than the access and ID tokens; a browser session ends when it cannot renew (and after 12 hours at most, the api Lambda's session limit)."
  type        = number
  default     = 12

  validation {
    condition     = var.refresh_token_hours >= 1 && var.refresh_token_hours <= 87600 && floor(var.refresh_token_hours) == var.refresh_token_hours
    error_message = "refresh_token_hours must be a whole number from 1 to 87600 (Cognito: 1 hour to 3650 days)."
  }
}

variable "archive_expiration_days" {
  description = "Days after which archived findings are deleted from S3 (0 keeps them forever). Must exceed 365 so objects reach Deep Archive first."
  type        = number
  default     = 2555

  validation {
    condition     = var.archive_expiration_days == 0 || var.archive_expiration_days > 365
    error_message = "archive_expiration_days must be 0 (never) or more than 365."
  }
}

variable "audit_retention_days" {
  description = "Days every audit log object version is locked (S3 Object Lock, GOVERNANCE mode)."
  type        = number
  default     = 400

  validation {
    condition     = var.audit_retention_days >= 1
    error_message = "audit_retention_days must be at least 1."
  }
}

variable "retention_days" {
  description = "Days a finding stays in the hot store (DynamoDB) before the daily archiver moves it to S3."
  type        = number
  default     = 90

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650
    error_message = "retention_days must be between 1 and 3650."
  }
}

variable "enable_backup" {
  description = "Create an AWS Backup vault and a daily plan for the findings table."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days AWS Backup keeps each recovery point (when enable_backup)."
  type        = number
  default     = 35

  validation {
    condition     = var.backup_retention_days >= 1
    error_message = "backup_retention_days must be at least 1."
  }
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for Lambda, API and WAF logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ..., 365, ..., 3653)."
  }
}

variable "lambda_log_level" {
  description = "RUST_LOG filter for every Lambda."
  type        = string
  default     = "info"

  validation {
    condition     = can(regex("^[a-z_:=,0-9]+$", var.lambda_log_level))
    error_message = "lambda_log_level must be a RUST_LOG filter such as info or backend=debug,info."
  }
}

variable "scanner_reserved_concurrency" {
  description = "Reserved concurrency of the scanner; caps DynamoDB write load during a Security Hub burst."
  type        = number
  default     = 10

  validation {
    condition     = var.scanner_reserved_concurrency >= 1
    error_message = "scanner_reserved_concurrency must be at least 1."
  }
}

variable "static_api_token" {
  description = "Whether the API accepts a static admin bearer token, read by the api Lambda alone from the SecureString named by the api_token_parameter output (create it yourself: docs/deploy.md). Off by default: named tokens (cspm tokens create) carry a role, an expiry and can be revoked."
  type        = bool
  default     = false
}

variable "api_reserved_concurrency" {
  description = "Reserved concurrency of the api Lambda; protects the table from a flood that gets past the rate limits."
  type        = number
  default     = 20

  validation {
    condition     = var.api_reserved_concurrency >= 1
    error_message = "api_reserved_concurrency must be at least 1."
  }
}

variable "fanout_reserved_concurrency" {
  description = "Reserved concurrency of the fanout Lambda (one invocation per findings-stream shard at a time): keeps the change feed from being starved by other functions and caps the senders the sinks' endpoints see. Keep it at or above the stream's open shard count (about the table's partitions), or shards wait and the iterator-age alarm fires."
  type        = number
  default     = 10

  validation {
    condition     = var.fanout_reserved_concurrency >= 1
    error_message = "fanout_reserved_concurrency must be at least 1."
  }
}

variable "live_reserved_concurrency" {
  description = "Reserved concurrency of the live Lambda (the WebSocket API's $connect, $disconnect and resume frames); caps what a reconnect storm can do to the findings table."
  type        = number
  default     = 10

  validation {
    condition     = var.live_reserved_concurrency >= 1
    error_message = "live_reserved_concurrency must be at least 1."
  }
}

variable "live_authorizer_reserved_concurrency" {
  description = "Reserved concurrency of the live_authorizer Lambda (one short call per WebSocket connect)."
  type        = number
  default     = 5

  validation {
    condition     = var.live_authorizer_reserved_concurrency >= 1
    error_message = "live_authorizer_reserved_concurrency must be at least 1."
  }
}

variable "securityhub_severity_filter" {
  description = "Security Hub severity labels forwarded in real time by the EventBridge rule."
  type        = list(string)
  default     = ["CRITICAL", "HIGH", "MEDIUM"]

  validation {
    condition     = length(var.securityhub_severity_filter) > 0 && alltrue([for s in var.securityhub_severity_filter : contains(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"], s)])
    error_message = "securityhub_severity_filter must list INFORMATIONAL, LOW, MEDIUM, HIGH and/or CRITICAL."
  }
}

variable "alert_min_severity" {
  description = "Lowest severity the default SNS sink alerts on: the fanout Lambda's one sink when sinks_yaml is empty (with a sinks YAML, each sink has its own min_severity)."
  type        = string
  default     = "HIGH"

  validation {
    condition     = contains(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"], var.alert_min_severity)
    error_message = "alert_min_severity must be INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL."
  }
}

variable "account_id_override" {
  description = "Account id the scanner writes on every finding instead of the event's own (multi-account display and testing); empty = off."
  type        = string
  default     = ""

  validation {
    condition     = var.account_id_override == "" || can(regex("^[0-9]{12}$", var.account_id_override))
    error_message = "account_id_override must be empty or a 12-digit account id."
  }
}

variable "sync_schedule" {
  description = "EventBridge schedule expression for the full Security Hub sync (scanner)."
  type        = string
  default     = "rate(6 hours)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.sync_schedule))
    error_message = "sync_schedule must be a rate(...) or cron(...) expression."
  }
}

variable "archive_schedule" {
  description = "EventBridge schedule expression for the archiver (daily)."
  type        = string
  default     = "cron(15 2 * * ? *)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.archive_schedule))
    error_message = "archive_schedule must be a rate(...) or cron(...) expression."
  }
}

variable "sinks_yaml" {
  description = <<-EOT
    The sinks file (YAML) the fanout Lambda hands every finding change to, stored as
    the SecureString <ssm_prefix>sinks (Standard tier: at most 4096 characters).
    Empty (default) = no parameter: one SNS sink built from the two alert topics and
    alert_min_severity. Secrets are referenced, never inline: `secret_ssm: <path>`
    names a SecureString under the SSM prefix, encrypted with this deployment's key.
    See docs/deploy.md ("Alert sinks").
  EOT
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = length(var.sinks_yaml) <= 4096
    error_message = "sinks_yaml must be at most 4096 characters (a Standard SSM parameter)."
  }

  validation {
    condition     = trimspace(var.sinks_yaml) == "" || can(yamldecode(var.sinks_yaml).sinks)
    error_message = "sinks_yaml must be empty or a YAML document with a top-level sinks: list."
  }
}

variable "alert_email_identities" {
  description = <<-EOT
    SES identities (verified domains or addresses, e.g. ["example.com"]) the fanout
    Lambda may send alert e-mail from: the `from` of each `kind: ses` sink in
    sinks_yaml must belong to one. Empty (default) = the role may send no e-mail.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for i in var.alert_email_identities : can(regex("^[^*/\\s]+$", i))])
    error_message = "alert_email_identities are SES identity names: a domain or an address, without wildcards or slashes."
  }
}

variable "detection_settings_yaml" {
  description = <<-EOT
    The organisation's lists the detection rules read (honeytoken_resources,
    automation_principals, usual_instance_types, trusted_accounts), in the format of
    backend/rules/detection-settings.yaml, stored as the String parameter
    <ssm_prefix>detection_settings (Standard tier: at most 4096 characters) that the
    scanner and api Lambdas read at cold start. Empty (default) = no parameter: every
    list empty, so the rules that need one stay inert. An unknown key makes the cold
    starts of scanner, api and fanout fail (each reads every parameter under the
    prefix). See docs/detections.md and docs/deploy.md ("Detection settings").
  EOT
  type        = string
  default     = ""

  validation {
    condition     = length(var.detection_settings_yaml) <= 4096
    error_message = "detection_settings_yaml must be at most 4096 characters (a Standard SSM parameter)."
  }

  validation {
    condition     = trimspace(var.detection_settings_yaml) == "" || can(keys(yamldecode(var.detection_settings_yaml)))
    error_message = "detection_settings_yaml must be empty or a YAML map of lists (honeytoken_resources: [...] and so on)."
  }
}

variable "remediation_enabled" {
  description = <<-EOT
    Remediation actions that may change AWS: ids from backend/remediation_actions.json
    (ec2-revoke-world-ingress, s3-block-public-access, iam-deactivate-access-key, ...).
    Each one listed grants the remediator Lambda that action's read and write IAM
    actions on any resource of the account. Empty (default) = every remediation is
    plan-only and no Lambda may change a resource. (The api Lambda, which shows
    plans, always gets the read actions of every action, enabled or not; never a
    write.)
    See docs/deploy.md ("Remediation on AWS").
  EOT
  type        = list(string)
  default     = []

  # A path relative to terraform/ (like lambda_dist_dir): a validation may not use
  # path.module before Terraform 1.9.
  validation {
    condition     = alltrue([for a in var.remediation_enabled : contains(keys(jsondecode(file("../backend/remediation_actions.json")).actions), a)])
    error_message = "remediation_enabled must list action ids that are keys of \"actions\" in backend/remediation_actions.json (e.g. ec2-revoke-world-ingress)."
  }

  validation {
    condition     = length(distinct(var.remediation_enabled)) == length(var.remediation_enabled)
    error_message = "remediation_enabled must not list an action twice."
  }
}

variable "remediation_auto" {
  description = "Rule ids or Security Hub control ids whose findings are approved for remediation without a person, by the fanout Lambda's remediation sink as they change (still subject to every guard; an action not in remediation_enabled is never applied). Empty (default) = every remediation waits for a person's approval."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.remediation_auto : can(regex("^\\S+$", r))])
    error_message = "remediation_auto must hold rule or control ids (non-empty, no spaces)."
  }
}

variable "remediation_allowed_ports" {
  description = "Ports a security group may leave open to the world (ec2-revoke-world-ingress)."
  type        = list(number)
  default     = [80, 443]

  validation {
    condition     = alltrue([for p in var.remediation_allowed_ports : p >= 0 && p <= 65535 && floor(p) == p])
    error_message = "remediation_allowed_ports must hold port numbers from 0 to 65535."
  }
}

variable "remediation_protected_principals" {
  description = "More ARN patterns (* matches any run of characters) of IAM principals no remediation may change. The remediator's own role, this deployment's roles (arn:<partition>:iam::*:role/<project>-<environment>-*), arn:<partition>:iam::*:role/break-glass-* and (when remediation_member_role_name is set) the member roles are always protected."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.remediation_protected_principals : startswith(p, "arn:")])
    error_message = "remediation_protected_principals must hold ARN patterns (arn:aws:iam::*:role/...)."
  }
}

variable "remediation_max_per_account_per_hour" {
  description = "Remediations applied per account in any one hour, at most (a guard the remediator checks before each one)."
  type        = number
  default     = 20

  validation {
    condition     = var.remediation_max_per_account_per_hour >= 1 && floor(var.remediation_max_per_account_per_hour) == var.remediation_max_per_account_per_hour
    error_message = "remediation_max_per_account_per_hour must be a whole number of at least 1."
  }
}

variable "remediation_accounts" {
  description = "Accounts remediation may change (accounts of the remediation file): 12-digit ids or patterns (* matches any run of characters). Default: every account (without remediation_member_role_name that is this one)."
  type        = list(string)
  default     = ["*"]

  validation {
    condition     = length(var.remediation_accounts) > 0 && alltrue([for a in var.remediation_accounts : can(regex("^[0-9*]{1,12}$", a))])
    error_message = "remediation_accounts must hold account ids or patterns of digits and * (e.g. \"111122223333\", \"*\"), at least one."
  }
}

variable "remediation_regions" {
  description = "Regions remediation may change (regions of the remediation file): names or patterns (* matches any run of characters), e.g. [\"eu-*\"]. Default: every region."
  type        = list(string)
  default     = ["*"]

  validation {
    condition     = length(var.remediation_regions) > 0 && alltrue([for r in var.remediation_regions : can(regex("^[a-z0-9*-]+$", r))])
    error_message = "remediation_regions must hold region names or patterns (lowercase letters, digits, - and *), at least one."
  }
}

variable "remediation_protected_tag" {
  description = "The tag that protects a resource from remediation (protected_tag of the remediation file): a resource tagged key = value is refused as protected-tag."
  type = object({
    key   = string
    value = string
  })
  default = {
    key   = "cspm:remediate"
    value = "false"
  }

  validation {
    condition     = length(trimspace(var.remediation_protected_tag.key)) > 0 && length(var.remediation_protected_tag.key) <= 128 && length(var.remediation_protected_tag.value) <= 256
    error_message = "remediation_protected_tag needs a key of 1 to 128 characters and a value of at most 256 (AWS tag limits)."
  }
}

variable "remediation_member_role_name" {
  description = <<-EOT
    Cross-account remediation: the name (optionally path/name) of the writer role
    that modules/remediation_member_role creates in every account to remediate, beside
    its planner role <name>-planner (ops/cspm-remediator -> ops/cspm-remediator-planner).
    When set, the remediation file gets
    assume_role = arn:<partition>:iam::{account}:role/<name> (the remediator's changes
    and read-backs) and plan_role = arn:<partition>:iam::{account}:role/<name>-planner
    (the api's plan reads), both in the finding's account, this account included (so
    the roles must exist here too); the remediator may sts:AssumeRole <name> in any
    account and the api <name>-planner, nothing else.
    Empty (default) = this account only, with the Lambdas' own roles, no role assumed.
    See docs/deploy.md ("Remediation on AWS").
  EOT
  type        = string
  default     = ""

  # IAM role names are 1-64 of [A-Za-z0-9_+=,.@-], under an optional path of such
  # segments; the code accepts the same characters in assume_role. The name itself
  # stops at 56 so that <name>-planner fits in 64.
  validation {
    condition     = var.remediation_member_role_name == "" || can(regex("^([\\w+=,.@-]+/)*[\\w+=,.@-]{1,56}$", var.remediation_member_role_name))
    error_message = "remediation_member_role_name must be empty or an IAM role name of 1-56 letters, digits and _+=,.@- (the planner role adds \"-planner\", and a role name may have 64), optionally after a path (ops/cspm-remediator), without a leading slash."
  }
}

variable "alert_emails_standard" {
  description = "E-mail addresses subscribed to the standard alert topic (each must confirm)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alert_emails_standard : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails_standard must hold e-mail addresses."
  }
}

variable "alert_emails_critical" {
  description = "E-mail addresses subscribed to the critical alert topic (each must confirm); operational alarms also go here."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alert_emails_critical : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails_critical must hold e-mail addresses."
  }
}

variable "waf_rate_limit" {
  description = "Requests per 5 minutes one IP may send through CloudFront before WAF blocks it."
  type        = number
  default     = 2000

  validation {
    condition     = var.waf_rate_limit >= 100 && var.waf_rate_limit <= 2000000000
    error_message = "waf_rate_limit must be between 100 and 2000000000 (WAF limits)."
  }
}

variable "api_throttle_rate" {
  description = "API Gateway steady-state request rate (requests per second) for the whole stage."
  type        = number
  default     = 50

  validation {
    condition     = var.api_throttle_rate > 0
    error_message = "api_throttle_rate must be positive."
  }
}

variable "api_throttle_burst" {
  description = "API Gateway burst limit for the whole stage."
  type        = number
  default     = 100

  validation {
    condition     = var.api_throttle_burst > 0
    error_message = "api_throttle_burst must be positive."
  }
}

variable "live_throttle_rate" {
  description = "Live WebSocket API: steady-state rate (per second, whole stage) of connects and client frames (resume, pong); frames the server pushes are not counted."
  type        = number
  default     = 20

  validation {
    condition     = var.live_throttle_rate > 0
    error_message = "live_throttle_rate must be positive."
  }
}

variable "live_throttle_burst" {
  description = "Live WebSocket API: burst limit of connects and client frames (every dashboard reconnects at once after a deploy or API Gateway's 2-hour cut)."
  type        = number
  default     = 50

  validation {
    condition     = var.live_throttle_burst > 0
    error_message = "live_throttle_burst must be positive."
  }
}

variable "manage_api_gateway_account" {
  description = "Set this account and region's API Gateway CloudWatch Logs role (one per account and region; WebSocket stages cannot log without it) to a role this deployment creates, which may write only the live API's log groups. Set false when the account already has one that other REST or WebSocket APIs use: it must then be able to write /aws/apigateway/<prefix>-live and API-Gateway-Execution-Logs_<live api id>/live."
  type        = bool
  default     = true
}

variable "cloudfront_price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cloudfront_price_class)
    error_message = "cloudfront_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "enable_security_hub" {
  description = "Enable Security Hub in this account and region with the AWS FSBP and CIS standards (leave false when the organization already manages it)."
  type        = bool
  default     = false
}

variable "domain_name" {
  description = "Optional custom domain for the dashboard and API (needs acm_certificate_arn); null uses the *.cloudfront.net name."
  type        = string
  default     = null
}

variable "acm_certificate_arn" {
  description = "ACM certificate in us-east-1 covering domain_name; null uses the default CloudFront certificate."
  type        = string
  default     = null

  validation {
    condition     = var.acm_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be an ACM certificate ARN in us-east-1."
  }
}
