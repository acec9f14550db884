variable "name_prefix" {
  description = "Prefix of every resource name, e.g. cspm-prod."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed key for the dashboard bucket and the API access logs."
  type        = string
}

variable "logs_bucket" {
  description = "Bucket receiving S3 access logs."
  type        = string
}

variable "logs_bucket_domain_name" {
  description = "Domain name of the log bucket (CloudFront standard logging)."
  type        = string
}

variable "api_function_name" {
  description = "Name of the api Lambda."
  type        = string
}

variable "api_invoke_arn" {
  description = "Invoke ARN of the api Lambda."
  type        = string
}

variable "live_function_name" {
  description = "Name of the live Lambda (the WebSocket API's routes)."
  type        = string
}

variable "live_invoke_arn" {
  description = "Invoke ARN of the live Lambda."
  type        = string
}

variable "live_authorizer_function_name" {
  description = "Name of the live_authorizer Lambda ($connect's REQUEST authorizer)."
  type        = string
}

variable "live_authorizer_invoke_arn" {
  description = "Invoke ARN of the live_authorizer Lambda."
  type        = string
}

variable "live_throttle_rate" {
  description = "WebSocket API steady-state rate limit of client messages and connects (per second, whole stage)."
  type        = number
}

variable "live_throttle_burst" {
  description = "WebSocket API burst limit of client messages and connects."
  type        = number
}

variable "manage_api_gateway_account" {
  description = "Set this account and region's API Gateway CloudWatch Logs role to one this deployment creates (WebSocket stages cannot log without one)."
  type        = bool
}

variable "waf_rate_limit" {
  description = "Requests per 5 minutes per IP before WAF blocks."
  type        = number
}

variable "api_throttle_rate" {
  description = "API Gateway steady-state rate limit (requests per second)."
  type        = number
}

variable "api_throttle_burst" {
  description = "API Gateway burst limit."
  type        = number
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the API access and execution and WAF log groups."
  type        = number
}

variable "dashboard_dist_dir" {
  description = "Folder holding the built dashboard."
  type        = string
}

variable "upload_dashboard" {
  description = "Upload the dashboard files and config.json."
  type        = bool
}

variable "dashboard_config" {
  description = "Content of config.json (the API base URL and live URL the dashboard reads)."
  type        = map(string)
}

variable "domain_name" {
  description = "Optional custom domain of the distribution (null: the *.cloudfront.net name)."
  type        = string
  default     = null
}

variable "acm_certificate_arn" {
  description = "ACM certificate (us-east-1) for domain_name; null uses the default CloudFront certificate."
  type        = string
  default     = null

  validation {
    condition     = var.acm_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be an ACM certificate ARN in us-east-1."
  }
}
