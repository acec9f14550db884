output "standards_subscribed" {
  description = "Standards subscribed to."
  value       = [for s in aws_securityhub_standards_subscription.standards : s.standards_arn]
}
