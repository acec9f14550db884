# The audit log (backend/src/sinks/audit): hash-chained JSON Lines written by the
# fanout Lambda under audit/dt=YYYY-MM-DD/part-<first seq>.jsonl, read back with
# `cspm audit verify --from s3://<bucket>/audit` and queried with Athena.
#
# Object Lock in GOVERNANCE mode keeps every version of every object for
# var.audit_retention_days: an overwrite only adds a version and a delete only adds
# a delete marker, so the original lines stay recoverable, and `cspm audit verify`
# names the line or the gap an edit or a delete leaves in what is current. Removing
# a locked version early needs s3:BypassGovernanceRetention, which no role here has.
# (COMPLIANCE mode would bind even the account root; choose it deliberately.)

resource "aws_s3_bucket" "audit" {
  # checkov:skip=CKV2_AWS_62:Nothing consumes object events; `cspm audit verify` walks the chain instead.
  # checkov:skip=CKV_AWS_144:Single-region deployment; Object Lock and versioning keep every line. Cross-region replication would need a second region's key.
  bucket_prefix       = "${var.name_prefix}-audit-"
  object_lock_enabled = true
}

resource "aws_s3_bucket_public_access_block" "audit" {
  bucket                  = aws_s3_bucket.audit.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "audit" {
  bucket = aws_s3_bucket.audit.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Object Lock needs versioning (and keeps it on).
resource "aws_s3_bucket_versioning" "audit" {
  bucket = aws_s3_bucket.audit.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id

  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = var.audit_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.audit]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "audit" {
  bucket        = aws_s3_bucket.audit.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/audit/"
}

resource "aws_s3_bucket_lifecycle_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id

  # Lines stay current; only versions replaced or deleted go, once their lock ends.
  rule {
    id     = "noncurrent-after-retention"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.audit_retention_days + 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "audit" {
  bucket = aws_s3_bucket.audit.id
  policy = data.aws_iam_policy_document.tls_only["audit"].json

  depends_on = [aws_s3_bucket_public_access_block.audit]
}

# Athena: table `audit` (athena.tf), one row per line, partition projection on dt.

locals {
  # CSPM_AUDIT_BUCKET is "<bucket>/audit": lines land under audit/dt=YYYY-MM-DD/.
  audit_prefix = "audit"
  audit_root   = "s3://${aws_s3_bucket.audit.id}/${local.audit_prefix}/"

  # (name, Hive type) as the chain writes them (sinks/audit/chain.rs, record.rs).
  audit_columns = [
    ["seq", "bigint"],
    ["logged_at", "string"],
    ["event", "string"],
    ["at", "string"],
    ["actor", "string"],
    ["finding_id", "string"],
    ["key", "string"],
    ["severity", "string"],
    ["from", "string"],
    ["to", "string"],
    ["note", "string"],
    ["rule", "string"],
    ["owner", "string"],
    ["until", "string"],
    ["reason", "string"],
    ["sink", "string"],
    ["channel", "string"],
    ["error", "string"],
    ["tries", "int"],
    ["prev", "string"],
    ["hash", "string"],
  ]
}
