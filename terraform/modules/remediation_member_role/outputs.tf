output "writer_role_arn" {
  description = "ARN of the writer role, which the deployment's remediator assumes (its assume_role with this account's id in place of {account})."
  value       = aws_iam_role.writer.arn
}

output "writer_role_name" {
  description = "Name of the writer role (without its path)."
  value       = aws_iam_role.writer.name
}

output "planner_role_arn" {
  description = "ARN of the planner role (reads only), which the deployment's api assumes (its plan_role with this account's id in place of {account})."
  value       = aws_iam_role.planner.arn
}

output "planner_role_name" {
  description = "Name of the planner role (without its path): the writer's name and -planner."
  value       = aws_iam_role.planner.name
}

output "write_actions" {
  description = "The write actions granted to the writer role (those of enabled_actions); both roles get the reads of every action, the planner nothing else."
  value       = local.writes
}
