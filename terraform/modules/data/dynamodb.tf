# The hot store. Items are keyed by the short finding id; the GSI serves
# `?severity=` newest-first and lets the archiver find old findings without a scan.
# Its stream is the change feed on AWS: every write that changes an item appears
# there with the item before and after (NEW_AND_OLD_IMAGES), and the fanout Lambda
# hands each change to the sinks (modules/compute/fanout.tf). The summary-counter
# items (`id` = "#counts#NN") share the table and so the stream; they are filtered
# out before the function and by the code.
resource "aws_dynamodb_table" "findings" {
  name                        = "${var.name_prefix}-findings"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection
  stream_enabled              = true
  stream_view_type            = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "id"
    type = "S"
  }

  attribute {
    name = "severity"
    type = "S"
  }

  # ISO-8601 UTC timestamps sort lexicographically in time order.
  attribute {
    name = "updated_at"
    type = "S"
  }

  global_secondary_index {
    name            = "SeverityTimestampIndex"
    hash_key        = "severity"
    range_key       = "updated_at"
    projection_type = "ALL"
  }

  # Safety net only: the code sets expires_at later than the archive cutoff.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

# Fan-out state, small and private to the fanout Lambda: which alert keys a sink has
# already sent (`pk` = "sent#<sink>#<key>", kept a week), later digests, pacing and
# the head of the audit hash chain. Items carry their own expiry (`expires_at`,
# epoch seconds) so the table trims itself. Protected like the findings table: a
# lost audit chain head cannot be rebuilt.
resource "aws_dynamodb_table" "fanout_state" {
  name                        = "${var.name_prefix}-fanout-state"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}
