# The hot store. Items are keyed by the short finding id; SeverityTimestampIndex
# serves `?severity=` newest-first and lets the archiver find old findings without a
# scan; SeverityChangeIndex serves the live dashboard's `resume` on AWS.
# Its stream is the change feed on AWS: every write that changes an item appears
# there with the item before and after (NEW_AND_OLD_IMAGES), and the fanout Lambda
# hands each change to the sinks (modules/compute/fanout.tf). The counter, control,
# failing-row and snapshot items (ids starting with "#") share the table and so the
# stream; they are filtered out before the function (no `rev`) and by the code.
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

  # When the finding last changed (a UTC timestamp string that sorts in time order,
  # like updated_at); the code writes it with every change the dashboard shows.
  attribute {
    name = "changed_at"
    type = "S"
  }

  # Resource items only (backend/src/store/dynamo/resources.rs): the ranking a
  # grouping by resource walks, most severe first. Every resource item has the same
  # rank_part; rank is a number summed on write.
  attribute {
    name = "rank_part"
    type = "S"
  }

  attribute {
    name = "rank"
    type = "N"
  }

  global_secondary_index {
    name            = "ResourceRankIndex"
    hash_key        = "rank_part"
    range_key       = "rank"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "SeverityTimestampIndex"
    hash_key        = "severity"
    range_key       = "updated_at"
    projection_type = "ALL"
  }

  # A live `resume` on AWS: per severity, the changes after the client's position,
  # newest first (the `live` Lambda queries it after a reconnect, e.g. after API
  # Gateway's 2-hour cut). It projects only what a list item and the position need,
  # so a resume reads a fraction of the documents: LIST_PROJECTION of
  # backend/src/store/dynamo/item.rs plus the position (`rev`, `updated_at`) and the
  # change kind (`last_change`). Keep the list in step with LIST_PROJECTION: a field
  # missing here is missing from every resumed row.
  global_secondary_index {
    name            = "SeverityChangeIndex"
    hash_key        = "severity"
    range_key       = "changed_at"
    projection_type = "INCLUDE"
    non_key_attributes = [
      "updated_exact",
      "created_at",
      "workflow_status",
      "asff_id",
      "title",
      "account_id",
      "region",
      "resource_type",
      "resource_id",
      "product_name",
      "source",
      "compliance_status",
      "control_id",
      "search",
      "rev",
      "last_change",
      "updated_at",
    ]
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

# Fan-out state, small: which alert keys a sink has already sent (`pk` =
# "sent#<sink>#<key>", kept a week), the throttled channels' decisions, dedup and
# digest windows ("thr#…", docs/alerts.md) and the head of the audit hash chain
# (the fanout Lambda); and the live dashboard's tickets (`pk` =
# "ticket#<sha256 of the ticket>", `expires_at` 60 s): the api Lambda writes one on
# POST /live/ticket, the live_authorizer deletes it on $connect (a conditional
# delete, so a ticket works once; only its hash is stored). Items carry their own
# expiry (`expires_at`, epoch seconds) so the table trims itself; TTL deletes can lag
# by a day or more, so the authorizer must compare `expires_at` with the clock too. Protected like the findings
# table: a lost audit chain head cannot be rebuilt.
resource "aws_dynamodb_table" "fanout_state" {
  name                        = "${var.name_prefix}-fanout-state"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  # The throttled channels' digest windows by sink and due time
  # (backend/src/sinks/throttle/dynamo.rs: DUE_INDEX). Sparse: only window items
  # carry due_sink, so the scheduled flush reads a few keys, never the sent keys.
  attribute {
    name = "due_sink"
    type = "S"
  }

  attribute {
    name = "flush_at"
    type = "N"
  }

  global_secondary_index {
    name            = "due"
    hash_key        = "due_sink"
    range_key       = "flush_at"
    projection_type = "KEYS_ONLY"
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

# Open live-dashboard WebSocket connections (API Gateway connection ids): the `live`
# Lambda puts one on $connect (user, connected_at, expires_at = connected_at + 2 h
# 10 min) and deletes it on $disconnect; the fanout Lambda's live sink scans it to
# post each batch and deletes the connections that answer 410 Gone. API Gateway cuts
# every connection after 2 hours, so the TTL only removes entries whose $disconnect
# was lost. Small and short-lived, but kept like the other tables (customer key,
# PITR, deletion protection): it names who is watching the dashboard.
resource "aws_dynamodb_table" "live_connections" {
  name                        = "${var.name_prefix}-live-connections"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "connection_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "connection_id"
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

# The auth table: browser sign-in sessions of the api Lambda (docs/auth.md, "Sign-in on AWS"): one
# item per session (`pk` = "session#<sha256 of the cookie>", with the provider's
# tokens, refresh token included, the principal and the CSRF token) or sign-in in
# progress (`pk` = "login#<sha256 of the state>", its PKCE verifier and nonce, 10
# minutes). Only hashes are keys, never a cookie or a state itself. Items carry
# `expires_at` (epoch seconds) so the table trims itself; TTL deletes lag, so the code
# checks the end on every read. Server-side sessions rather than encrypted cookies:
# sign-out deletes the item, which ends the session in every browser at once, and the
# refresh tokens never leave AWS. Kept like the other tables (customer key, PITR,
# deletion protection): it holds live credentials. Named API tokens live here too
# (`token#<name>`, `tokenhash#<sha256>`: made by an operator's `cspm tokens --table`,
# looked up by the api Lambda); they carry no `expires_at`, so TTL never removes one.
resource "aws_dynamodb_table" "auth" {
  name                        = "${var.name_prefix}-auth"
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

# Remediation records (docs/deploy.md, "Remediation on AWS"): one item per requested
# remediation (`id`; the record's JSON under `doc`, with `finding_id`,
# `requested_at` in epoch milliseconds, `status` and `kind` = "remediation" beside
# it), written by the api Lambda (plans, approvals) and the remediator (apply,
# verify, failure), plus one per-account attempt ledger item (`id` =
# "ledger#<account>") that the per-account hourly limit counts in. FindingIndex
# lists a finding's remediations newest first; TimeIndex lists every record by time
# (all records share `kind`); StatusIndex lists the records in one status by time
# (GET /remediations?status=). Ledger and open#<finding> items have none of these
# attributes, so they stay out of every index. No TTL: the records say what was changed in the account and who
# approved it. Kept like the other tables (customer key, PITR, deletion protection).
resource "aws_dynamodb_table" "remediations" {
  name                        = "${var.name_prefix}-remediations"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  attribute {
    name = "finding_id"
    type = "S"
  }

  attribute {
    name = "kind"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  attribute {
    name = "requested_at"
    type = "N"
  }

  global_secondary_index {
    name            = "FindingIndex"
    hash_key        = "finding_id"
    range_key       = "requested_at"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "TimeIndex"
    hash_key        = "kind"
    range_key       = "requested_at"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "StatusIndex"
    hash_key        = "status"
    range_key       = "requested_at"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}
