# cspm-monitor on AWS. One module per concern; see docs/deploy.md for the steps.
#
#   kms          customer managed key for everything stored
#   data         DynamoDB findings table (+ its stream, the change feed), fan-out
#                state table, live connections table, sign-in sessions table,
#                remediations table, S3 archive + audit (Object Lock) + access-log
#                buckets, Athena, Backup
#   compute      the Lambdas (modules/lambda once per function in backend/lambdas.json);
#                the findings stream -> fanout mapping and its on-failure queue; the
#                exports and remediations queues (+ dead-letter queues)
#   events       Security Hub rule + DLQ redrive, sync and archive schedules
#   edge         dashboard bucket, CloudFront (+ /api/* and /auth/* -> HTTP API, /live ->
#                WebSocket API), WAF
#   auth         Cognito user pool, groups, managed login domain and the confidential
#                app client the api Lambda signs browsers in with (its secret in SSM)
#   alerting     SNS topics, alarms, CloudWatch dashboard, SSM parameters (the sinks YAML)
#   security_hub optional Security Hub enablement with FSBP + CIS

locals {
  name_prefix = "${var.project}-${var.environment}"
  ssm_prefix  = "/${var.project}/${var.environment}/"

  # config.json: the dashboard calls the API on its own origin under /api and opens the
  # live WebSocket on its own origin at /live (a path means same-origin wss). Sign-in
  # needs nothing here: the page uses the API's /auth/* routes (/api/auth/login...),
  # the provider returns to /auth/callback on the same origin, and only the api Lambda
  # knows the user pool.
  dashboard_config = {
    api_base_url = "/api"
    live_url     = "/live"
    region       = var.aws_region
  }

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}

module "kms" {
  source = "./modules/kms"

  name_prefix = local.name_prefix
}

module "data" {
  source = "./modules/data"

  name_prefix             = local.name_prefix
  kms_key_arn             = module.kms.key_arn
  deletion_protection     = var.table_deletion_protection
  archive_expiration_days = var.archive_expiration_days
  enable_backup           = var.enable_backup
  backup_retention_days   = var.backup_retention_days
  audit_retention_days    = var.audit_retention_days
}

module "compute" {
  source = "./modules/compute"

  name_prefix            = local.name_prefix
  lambda_dist_dir        = var.lambda_dist_dir
  kms_key_arn            = module.kms.key_arn
  table_name             = module.data.table_name
  table_arn              = module.data.table_arn
  table_stream_arn       = module.data.table_stream_arn
  state_table_name       = module.data.state_table_name
  state_table_arn        = module.data.state_table_arn
  connections_table_name = module.data.connections_table_name
  connections_table_arn  = module.data.connections_table_arn
  auth_table_name        = module.data.auth_table_name
  auth_table_arn         = module.data.auth_table_arn
  remediation_table_name = module.data.remediation_table_name
  remediation_table_arn  = module.data.remediation_table_arn
  oidc_issuer            = module.auth.issuer_url
  oidc_client_id         = module.auth.client_id
  oidc_cognito_domain    = module.auth.domain_url

  oidc_client_secret_parameter_name = module.auth.client_secret_parameter_name
  oidc_client_secret_parameter_arn  = module.auth.client_secret_parameter_arn
  live_management_endpoint          = module.edge.live_management_endpoint
  live_stage_execution_arn          = module.edge.live_stage_execution_arn
  sinks_parameter_name              = module.alerting.sinks_parameter_name
  alert_email_identities            = var.alert_email_identities
  archive_bucket                    = module.data.archive_bucket
  archive_bucket_arn                = module.data.archive_bucket_arn
  archive_prefix                    = module.data.archive_prefix
  archive_key_prefixes              = module.data.archive_key_prefixes
  exports_key_prefix                = module.data.exports_key_prefix
  audit_location                    = module.data.audit_location
  audit_bucket_arn                  = module.data.audit_bucket_arn
  sns_standard_topic_arn            = module.alerting.standard_topic_arn
  sns_critical_topic_arn            = module.alerting.critical_topic_arn
  alarm_topic_arn                   = module.alerting.critical_topic_arn
  ssm_prefix                        = local.ssm_prefix
  sync_state_parameter_arn          = module.alerting.sync_state_parameter_arn
  events_dlq_arn                    = module.events.events_dlq_arn
  dashboard_url                     = module.edge.dashboard_url
  alert_min_severity                = var.alert_min_severity
  account_id_override               = var.account_id_override
  retention_days                    = var.retention_days
  log_level                         = var.lambda_log_level
  log_retention_days                = var.log_retention_days
  scanner_reserved_concurrency      = var.scanner_reserved_concurrency
  api_reserved_concurrency          = var.api_reserved_concurrency
  static_api_token                  = var.static_api_token
  fanout_reserved_concurrency       = var.fanout_reserved_concurrency

  live_reserved_concurrency            = var.live_reserved_concurrency
  live_authorizer_reserved_concurrency = var.live_authorizer_reserved_concurrency

  remediation_enabled                  = var.remediation_enabled
  remediation_auto                     = var.remediation_auto
  remediation_allowed_ports            = var.remediation_allowed_ports
  remediation_protected_principals     = var.remediation_protected_principals
  remediation_max_per_account_per_hour = var.remediation_max_per_account_per_hour
  remediation_accounts                 = var.remediation_accounts
  remediation_regions                  = var.remediation_regions
  remediation_protected_tag            = var.remediation_protected_tag
  remediation_member_role_name         = var.remediation_member_role_name
}

module "events" {
  source = "./modules/events"

  name_prefix            = local.name_prefix
  severity_filter        = var.securityhub_severity_filter
  sync_schedule          = var.sync_schedule
  archive_schedule       = var.archive_schedule
  scanner_function_arn   = module.compute.scanner_function_arn
  scanner_function_name  = module.compute.scanner_function_name
  scanner_timeout        = module.compute.scanner_timeout
  archiver_function_arn  = module.compute.archiver_function_arn
  archiver_function_name = module.compute.archiver_function_name
  alarm_topic_arn        = module.alerting.critical_topic_arn
}

module "auth" {
  source = "./modules/auth"

  name_prefix              = local.name_prefix
  dashboard_url            = module.edge.dashboard_url
  deletion_protection      = var.user_pool_deletion_protection
  ssm_prefix               = local.ssm_prefix
  kms_key_arn              = module.kms.key_arn
  domain_prefix            = var.cognito_domain_prefix == "" ? local.name_prefix : var.cognito_domain_prefix
  enable_threat_protection = var.cognito_threat_protection
  access_token_minutes     = var.access_token_minutes
  id_token_minutes         = var.id_token_minutes
  refresh_token_hours      = var.refresh_token_hours
}

module "edge" {
  source = "./modules/edge"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name_prefix             = local.name_prefix
  kms_key_arn             = module.kms.key_arn
  logs_bucket             = module.data.logs_bucket
  logs_bucket_domain_name = module.data.logs_bucket_domain_name
  api_function_name       = module.compute.api_function_name
  api_invoke_arn          = module.compute.api_invoke_arn
  live_function_name      = module.compute.live_function_name
  live_invoke_arn         = module.compute.live_invoke_arn
  live_throttle_rate      = var.live_throttle_rate
  live_throttle_burst     = var.live_throttle_burst

  live_authorizer_function_name = module.compute.live_authorizer_function_name
  live_authorizer_invoke_arn    = module.compute.live_authorizer_invoke_arn
  manage_api_gateway_account    = var.manage_api_gateway_account
  waf_rate_limit                = var.waf_rate_limit
  api_throttle_rate             = var.api_throttle_rate
  api_throttle_burst            = var.api_throttle_burst
  price_class                   = var.cloudfront_price_class
  log_retention_days            = var.log_retention_days
  dashboard_dist_dir            = var.dashboard_dist_dir
  upload_dashboard              = var.upload_dashboard
  domain_name                   = var.domain_name
  acm_certificate_arn           = var.acm_certificate_arn

  dashboard_config = local.dashboard_config
}

module "alerting" {
  source = "./modules/alerting"

  name_prefix             = local.name_prefix
  aws_region              = var.aws_region
  kms_key_arn             = module.kms.key_arn
  ssm_prefix              = local.ssm_prefix
  alert_emails_standard   = var.alert_emails_standard
  alert_emails_critical   = var.alert_emails_critical
  function_names          = { for key, fn in module.compute.functions : key => fn.function_name }
  archiver_function_name  = module.compute.archiver_function_name
  queue_names             = concat([module.events.events_dlq_name, module.events.parked_queue_name, module.compute.fanout_failure_queue_name, module.compute.exports_dlq_name, module.compute.remediations_dlq_name], [for fn in module.compute.functions : fn.dlq_name])
  table_name              = module.data.table_name
  api_id                  = module.edge.api_id
  web_acl_name            = module.edge.web_acl_name
  sinks_yaml              = var.sinks_yaml
  detection_settings_yaml = var.detection_settings_yaml

  fanout = {
    function_name      = module.compute.fanout_function_name
    errors_alarm_arn   = module.compute.fanout_errors_alarm_arn
    failure_queue_name = module.compute.fanout_failure_queue_name
  }
}

module "security_hub" {
  source = "./modules/security_hub"
  count  = var.enable_security_hub ? 1 : 0
}
