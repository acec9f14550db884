# The hot store. Items are keyed by the short finding id; the GSI serves
# `?severity=` newest-first and lets the archiver find old findings without a scan.
resource "aws_dynamodb_table" "findings" {
  name                        = "${var.name_prefix}-findings"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

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
