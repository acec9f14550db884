output "key_arn" {
  description = "ARN of the customer managed key."
  value       = aws_kms_key.main.arn
}

output "key_id" {
  description = "Id of the customer managed key."
  value       = aws_kms_key.main.key_id
}
