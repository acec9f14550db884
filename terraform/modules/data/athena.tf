# Athena over the archive (and the audit log): partitioned by day with partition projection,
# so new dt=YYYY-MM-DD folders are queryable at once without crawlers or
# MSCK REPAIR. This is how analysts query findings older than the hot-store
# retention (the `cspm` CLI reads the same layout).

resource "aws_glue_catalog_database" "archive" {
  name        = replace("${var.name_prefix}_archive", "-", "_")
  description = "Archived cspm-monitor findings (gzip JSON Lines on S3)."
}

# One table per JSON Lines layout, each partitioned by day with projection.
resource "aws_glue_catalog_table" "json_lines" {
  for_each = local.athena_tables

  name          = each.key
  database_name = aws_glue_catalog_database.archive.name
  description   = each.value.description
  table_type    = "EXTERNAL_TABLE"

  parameters = merge({
    "EXTERNAL"                    = "TRUE"
    "classification"              = "json"
    "projection.enabled"          = "true"
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy-MM-dd"
    "projection.dt.range"         = "${var.archive_projection_start},NOW"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    "storage.location.template"   = "${each.value.root}dt=$${dt}/"
  }, each.value.parameters)

  partition_keys {
    name = "dt"
    type = "string"
  }

  storage_descriptor {
    location      = each.value.root
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      name                  = "openx-json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"

      parameters = {
        "ignore.malformed.json" = "false"
        "case.insensitive"      = "true"
      }
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name = columns.value[0]
        type = columns.value[1]
      }
    }
  }
}

moved {
  from = aws_glue_catalog_table.findings
  to   = aws_glue_catalog_table.json_lines["findings"]
}

locals {
  athena_tables = {
    findings = {
      description = "One row per archived finding version; partition dt is the day (UTC) of its updated_at (YYYY-MM-DD)."
      root        = local.findings_root
      columns     = local.archive_columns
      parameters  = { "compressionType" = "gzip" }
    }
    audit = {
      description = "One row per audit line (hash-chained; check with `cspm audit verify`). Partition dt is the day (UTC) the line was written (YYYY-MM-DD)."
      root        = local.audit_root
      columns     = local.audit_columns
      parameters  = {}
    }
  }
}

locals {
  # The archiver's layout (backend/src/archive/layout.rs): parts under
  # <prefix>/findings/dt=YYYY-MM-DD/, run manifests under <prefix>/manifests/.
  archive_prefix  = ""
  archive_root    = local.archive_prefix == "" ? "" : "${local.archive_prefix}/"
  archive_folders = ["findings/", "manifests/"]
  findings_root   = "s3://${aws_s3_bucket.archive.id}/${local.archive_root}findings/"

  # (name, Hive type) in archive line order. `raw` is the original document; the
  # OpenX SerDe hands a nested object to a string column as its JSON text, so it
  # can be read with json_extract(). Resource `partition` is left out of the struct:
  # it is a reserved word in Hive type strings and is always derivable from the id.
  archive_columns = [
    ["id", "string"],
    ["asff_id", "string"],
    ["product_arn", "string"],
    ["product_name", "string"],
    ["company_name", "string"],
    ["generator_id", "string"],
    ["source", "string"],
    ["account_id", "string"],
    ["region", "string"],
    ["title", "string"],
    ["description", "string"],
    ["severity", "string"],
    ["workflow_status", "string"],
    ["record_state", "string"],
    ["types", "array<string>"],
    ["resource_type", "string"],
    ["resource_id", "string"],
    ["resources", "array<struct<type:string,id:string,region:string>>"],
    ["compliance_status", "string"],
    ["control_id", "string"],
    ["remediation_text", "string"],
    ["remediation_url", "string"],
    ["source_url", "string"],
    ["mitre", "array<string>"],
    ["created_at", "string"],
    ["updated_at", "string"],
    ["first_observed_at", "string"],
    ["last_observed_at", "string"],
    ["raw", "string"],
  ]
}

resource "aws_athena_workgroup" "archive" {
  name          = "${var.name_prefix}-archive"
  description   = "Queries over archived findings; results expire after 30 days."
  force_destroy = false

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = 10737418240

    result_configuration {
      output_location = "s3://${aws_s3_bucket.archive.id}/athena-results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}
