# Optional AWS Backup on top of point-in-time recovery: daily recovery points of the
# findings and fan-out state tables kept for backup_retention_days in a vault
# encrypted with our key.

resource "aws_backup_vault" "main" {
  count       = var.enable_backup ? 1 : 0
  name        = "${var.name_prefix}-vault"
  kms_key_arn = var.kms_key_arn
}

resource "aws_backup_plan" "main" {
  count = var.enable_backup ? 1 : 0
  name  = "${var.name_prefix}-daily"

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.main[0].name
    schedule          = "cron(0 3 * * ? *)"

    lifecycle {
      delete_after = var.backup_retention_days
    }
  }
}

data "aws_iam_policy_document" "backup_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  count              = var.enable_backup ? 1 : 0
  name               = "${var.name_prefix}-backup"
  assume_role_policy = data.aws_iam_policy_document.backup_assume.json
}

resource "aws_iam_role_policy_attachment" "backup" {
  count      = var.enable_backup ? 1 : 0
  role       = aws_iam_role.backup[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
}

resource "aws_backup_selection" "findings" {
  count        = var.enable_backup ? 1 : 0
  name         = "${var.name_prefix}-findings"
  plan_id      = aws_backup_plan.main[0].id
  iam_role_arn = aws_iam_role.backup[0].arn
  resources    = [aws_dynamodb_table.findings.arn, aws_dynamodb_table.fanout_state.arn]
}
