# Private bucket for the dashboard files; only this CloudFront distribution reads it
# (Origin Access Control), nobody else.

resource "aws_s3_bucket" "dashboard" {
  # checkov:skip=CKV_AWS_144:The dashboard is a build artifact, rebuilt and re-uploaded by build.sh + terraform apply; replication adds nothing.
  # checkov:skip=CKV2_AWS_62:Nothing reacts to uploads of dashboard files; event notifications would have no consumer.
  bucket_prefix = "${var.name_prefix}-dashboard-"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "dashboard" {
  bucket                  = aws_s3_bucket.dashboard.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "dashboard" {
  bucket = aws_s3_bucket.dashboard.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "dashboard" {
  bucket = aws_s3_bucket.dashboard.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "dashboard" {
  bucket = aws_s3_bucket.dashboard.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "dashboard" {
  bucket        = aws_s3_bucket.dashboard.id
  target_bucket = var.logs_bucket
  target_prefix = "s3/dashboard/"
}

resource "aws_s3_bucket_lifecycle_configuration" "dashboard" {
  bucket = aws_s3_bucket.dashboard.id

  rule {
    id     = "old-builds"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "dashboard" {
  statement {
    sid       = "CloudFrontReadsThroughOac"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.dashboard.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.main.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.dashboard.arn, "${aws_s3_bucket.dashboard.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "dashboard" {
  bucket = aws_s3_bucket.dashboard.id
  policy = data.aws_iam_policy_document.dashboard.json

  depends_on = [aws_s3_bucket_public_access_block.dashboard]
}

# --- Files: frontend/dist plus a generated config.json ---------------------------------

locals {
  content_types = {
    html  = "text/html; charset=utf-8"
    js    = "text/javascript"
    mjs   = "text/javascript"
    wasm  = "application/wasm"
    css   = "text/css"
    json  = "application/json"
    svg   = "image/svg+xml"
    png   = "image/png"
    ico   = "image/x-icon"
    txt   = "text/plain; charset=utf-8"
    map   = "application/json"
    woff2 = "font/woff2"
  }

  dashboard_files = var.upload_dashboard ? setsubtract(fileset(var.dashboard_dist_dir, "**"), ["config.json"]) : toset([])
}

resource "aws_s3_object" "dashboard" {
  for_each = local.dashboard_files

  bucket       = aws_s3_bucket.dashboard.id
  key          = each.value
  source       = "${var.dashboard_dist_dir}/${each.value}"
  source_hash  = filemd5("${var.dashboard_dist_dir}/${each.value}")
  content_type = lookup(local.content_types, reverse(split(".", each.value))[0], "application/octet-stream")
  # index.html and config.json must be picked up at once; hashed assets may be cached.
  cache_control = endswith(each.value, ".html") ? "no-cache" : "public, max-age=300"
  kms_key_id    = var.kms_key_arn
}

# What the dashboard reads at start-up to find the API and the login.
resource "aws_s3_object" "config" {
  count = var.upload_dashboard ? 1 : 0

  bucket        = aws_s3_bucket.dashboard.id
  key           = "config.json"
  content       = jsonencode(var.dashboard_config)
  content_type  = "application/json"
  cache_control = "no-cache"
  kms_key_id    = var.kms_key_arn
}
