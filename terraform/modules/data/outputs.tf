output "table_name" {
  description = "Name of the findings table."
  value       = aws_dynamodb_table.findings.name
}

output "table_arn" {
  description = "ARN of the findings table."
  value       = aws_dynamodb_table.findings.arn
}

output "table_stream_arn" {
  description = "ARN of the findings table's stream (NEW_AND_OLD_IMAGES): the change feed the fanout Lambda reads."
  value       = aws_dynamodb_table.findings.stream_arn
}

output "state_table_name" {
  description = "Name of the fan-out state table (hash key pk, TTL expires_at)."
  value       = aws_dynamodb_table.fanout_state.name
}

output "state_table_arn" {
  description = "ARN of the fan-out state table."
  value       = aws_dynamodb_table.fanout_state.arn
}

output "connections_table_name" {
  description = "Name of the live-dashboard connections table (hash key connection_id, TTL expires_at)."
  value       = aws_dynamodb_table.live_connections.name
}

output "connections_table_arn" {
  description = "ARN of the live-dashboard connections table."
  value       = aws_dynamodb_table.live_connections.arn
}

output "auth_table_name" {
  description = "Name of the auth table: browser sessions and named tokens (hash key pk, TTL expires_at; CSPM_AUTH_TABLE of the api Lambda)."
  value       = aws_dynamodb_table.auth.name
}

output "auth_table_arn" {
  description = "ARN of the browser sign-in sessions table."
  value       = aws_dynamodb_table.auth.arn
}

output "remediation_table_name" {
  description = "Name of the remediations table: remediation records and per-account attempt ledgers (hash key id; FindingIndex, TimeIndex, StatusIndex; CSPM_REMEDIATION_TABLE of the api, remediator and fanout Lambdas)."
  value       = aws_dynamodb_table.remediations.name
}

output "remediation_table_arn" {
  description = "ARN of the remediations table."
  value       = aws_dynamodb_table.remediations.arn
}

output "archive_bucket" {
  description = "Name of the archive bucket."
  value       = aws_s3_bucket.archive.id
}

output "archive_bucket_arn" {
  description = "ARN of the archive bucket."
  value       = aws_s3_bucket.archive.arn
}

output "archive_prefix" {
  description = "CSPM_ARCHIVE_PREFIX: the archiver's root in the bucket (\"\" = bucket root, so parts land in findings/dt=YYYY-MM-DD/)."
  value       = local.archive_prefix
}

output "archive_key_prefixes" {
  description = "Full key prefixes the archiver writes: parts (the Athena table location) and run manifests."
  value       = [for p in local.archive_folders : "${local.archive_root}${p}"]
}

output "exports_key_prefix" {
  description = "Key prefix of export jobs' files and status objects (POST /exports), ending with a slash; they expire after a day."
  value       = local.exports_prefix
}

output "logs_bucket" {
  description = "Name of the access-log bucket."
  value       = aws_s3_bucket.logs.id
}

output "logs_bucket_domain_name" {
  description = "Regional domain name of the access-log bucket (for CloudFront logging)."
  value       = aws_s3_bucket.logs.bucket_domain_name
}

output "athena_database" {
  description = "Glue database holding the archive table."
  value       = aws_glue_catalog_database.archive.name
}

output "athena_workgroup" {
  description = "Athena workgroup to query the archive with."
  value       = aws_athena_workgroup.archive.name
}

output "audit_bucket" {
  description = "Name of the audit bucket (Object Lock)."
  value       = aws_s3_bucket.audit.id
}

output "audit_bucket_arn" {
  description = "ARN of the audit bucket."
  value       = aws_s3_bucket.audit.arn
}

output "audit_location" {
  description = "CSPM_AUDIT_BUCKET: the bucket and the prefix the fanout Lambda chains audit lines under."
  value       = "${aws_s3_bucket.audit.id}/${local.audit_prefix}"
}
