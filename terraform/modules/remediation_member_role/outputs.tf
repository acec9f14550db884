output "role_arn" {
  description = "ARN of the member role (the deployment's assume_role with this account's id in place of {account})."
  value       = aws_iam_role.member.arn
}

output "role_name" {
  description = "Name of the member role (without its path)."
  value       = aws_iam_role.member.name
}

output "write_actions" {
  description = "The write actions granted (those of enabled_actions); the reads of every action are granted too."
  value       = local.writes
}
