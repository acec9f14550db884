variable "role_name" {
  description = "Name of the writer role, optionally after a path (ops/cspm-remediator): the same value as remediation_member_role_name of the deployment, whose remediator assumes arn:<partition>:iam::<account>:role/<this> (assume_role) and whose api assumes the planner <this>-planner (plan_role; ops/cspm-remediator-planner) in every account it remediates."
  type        = string
  default     = "cspm-remediator"

  validation {
    condition     = can(regex("^([\\w+=,.@-]+/)*[\\w+=,.@-]{1,56}$", var.role_name))
    error_message = "role_name must be an IAM role name of 1-56 letters, digits and _+=,.@- (the planner role adds \"-planner\", and a role name may have 64), optionally after a path (ops/cspm-remediator), without a leading slash."
  }
}

variable "writer_trusted_role_arns" {
  description = "ARNs of the roles that may assume the writer role (the enabled actions' writes): the deployment's remediator execution role only (its output remediation_writer_trusted_role_arns). It must exist when this is applied."
  type        = list(string)

  validation {
    condition     = length(var.writer_trusted_role_arns) > 0 && alltrue([for a in var.writer_trusted_role_arns : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", a))])
    error_message = "writer_trusted_role_arns must list at least one IAM role ARN (arn:aws:iam::111122223333:role/cspm-prod-remediator), without wildcards."
  }
}

variable "planner_trusted_role_arns" {
  description = "ARNs of the roles that may assume the planner role (reads only): the deployment's api execution role only (its output remediation_planner_trusted_role_arns). It must exist when this is applied, and must not be in writer_trusted_role_arns."
  type        = list(string)

  validation {
    condition     = length(var.planner_trusted_role_arns) > 0 && alltrue([for a in var.planner_trusted_role_arns : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", a))])
    error_message = "planner_trusted_role_arns must list at least one IAM role ARN (arn:aws:iam::111122223333:role/cspm-prod-api), without wildcards."
  }
}

variable "enabled_actions" {
  description = "Remediation action ids (keys of backend/remediation_actions.json) whose write actions the writer role gets, as remediation_enabled of the deployment: an action enabled there but not here fails in this account with AccessDenied. The reads of every action are granted to both roles whatever this lists; the planner never gets a write. Empty (default) = plans only: neither role changes anything."
  type        = list(string)
  default     = []

  validation {
    condition     = length(distinct(var.enabled_actions)) == length(var.enabled_actions)
    error_message = "enabled_actions must not list an action twice."
  }
}

variable "protected_name_prefix" {
  description = "REQUIRED IN THE DEPLOYMENT'S OWN ACCOUNT (leave it empty in the others): its name prefix (<project>-<environment>), so that, as the remediator's own IAM Deny does there, no remediation through these roles can detach or delete a policy of the deployment's roles or remove a permission or change the URL auth of its functions (<prefix>-*). Left empty there, no IAM Deny protects them from the writer role: only the code's guards do (protected_principals, which the deployment fills with its <prefix>-* roles)."
  type        = string
  default     = ""

  validation {
    condition     = var.protected_name_prefix == "" || can(regex("^[\\w+=,.@-]+$", var.protected_name_prefix))
    error_message = "protected_name_prefix must be empty or a name prefix such as cspm-prod (letters, digits and _+=,.@-)."
  }
}
