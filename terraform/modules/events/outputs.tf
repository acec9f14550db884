output "events_dlq_arn" {
  description = "ARN of the EventBridge dead-letter queue (redriven by the scanner)."
  value       = aws_sqs_queue.events_dlq.arn
}

output "events_dlq_name" {
  description = "Name of the EventBridge dead-letter queue."
  value       = aws_sqs_queue.events_dlq.name
}

output "parked_queue_name" {
  description = "Name of the queue holding events the scanner failed to process repeatedly."
  value       = aws_sqs_queue.parked.name
}
