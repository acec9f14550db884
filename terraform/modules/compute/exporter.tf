# exporter: export jobs (POST /exports). The api Lambda cannot keep working after
# it has answered, so it records the job (a status object in the archive bucket
# under exports/) and queues its id; this function writes the file next to it
# (SSE-KMS, multipart) and marks the job done; GET /exports/{id} then answers a
# presigned link valid 15 minutes. Files and status objects live a day (the
# function sweeps them after each batch; the bucket's exports-expiry rule is the
# backstop).
#
#   api --SendMessage--> exports queue (KMS) --event source mapping, batch of 1,
#        ReportBatchItemFailures--> exporter --> s3://archive/exports/<id>.<ext>
#        | a job whose status could not be written, after 3 receives
#        v
#   exports dead-letter queue (KMS; alarmed in queues.tf)

locals {
  exporter_timeout = 900
  exports_objects  = "${var.archive_bucket_arn}/${var.exports_key_prefix}*"
}

resource "aws_sqs_queue" "exports_dlq" {
  name                              = "${var.name_prefix}-exports-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue" "exports" {
  name = "${var.name_prefix}-exports"
  # A job older than its files' day is not worth running.
  message_retention_seconds = 86400
  # Six times the function timeout, as AWS recommends for SQS event sources.
  visibility_timeout_seconds        = local.exporter_timeout * 6
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.exports_dlq.arn
    maxReceiveCount     = 3
  })
}

resource "aws_sqs_queue_policy" "exports" {
  queue_url = aws_sqs_queue.exports.id
  policy    = data.aws_iam_policy_document.job_queues["exports"].json
}

resource "aws_sqs_queue_policy" "exports_dlq" {
  queue_url = aws_sqs_queue.exports_dlq.id
  policy    = data.aws_iam_policy_document.job_queues["exports_dlq"].json
}

data "aws_iam_policy_document" "exporter" {
  # The export is the list's query, page by page (GSI or base-table Query, then
  # the whole findings of a page).
  statement {
    sid       = "ReadFindings"
    actions   = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem"]
    resources = local.table_resources
  }

  # Status objects and files under exports/ only: write (PutObject covers the
  # multipart calls but their abort), read back, and delete what is a day old.
  statement {
    sid       = "WriteExports"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [local.exports_objects]
  }

  statement {
    sid       = "ListExports"
    actions   = ["s3:ListBucket"]
    resources = [var.archive_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.exports_key_prefix}*"]
    }
  }

  # The poller's reads of the exports queue (with the function's role).
  statement {
    sid       = "ReceiveJobs"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.exports.arn]
  }

  # The table, the queue and the archive objects are encrypted with the key.
  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

module "exporter" {
  source = "../lambda"

  name_prefix  = var.name_prefix
  function_key = "exporter"
  description  = "Runs export jobs (POST /exports): the filtered findings as CSV, JSON Lines or OCSF into the archive bucket under exports/."
  zip_path     = "${var.lambda_dist_dir}/exporter/bootstrap.zip"
  # One page of findings and one 8 MiB part in memory.
  memory_size = 512
  timeout     = local.exporter_timeout
  # Exports read the whole filtered table: two at a time bound the read load.
  reserved_concurrency = 2
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = var.alarm_topic_arn
  policy_json          = data.aws_iam_policy_document.exporter.json

  environment = {
    CSPM_TABLE_NAME          = var.table_name
    CSPM_RETENTION_DAYS      = tostring(var.retention_days)
    CSPM_ARCHIVE_BUCKET      = var.archive_bucket
    CSPM_ARCHIVE_PREFIX      = var.archive_prefix
    CSPM_ARCHIVE_KMS_KEY_ARN = var.kms_key_arn
    CSPM_EXPORT_QUEUE_URL    = aws_sqs_queue.exports.url
    RUST_LOG                 = var.log_level
  }
}

resource "aws_lambda_event_source_mapping" "exporter" {
  event_source_arn = aws_sqs_queue.exports.arn
  function_name    = module.exporter.function_arn
  # One job per invocation: each may take minutes, and a failure is one job's.
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = 2
  }

  depends_on = [aws_sqs_queue_policy.exports]
}
