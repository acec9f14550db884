variable "role_name" {
  description = "Name of the role, optionally after a path (ops/cspm-remediator): the same value as remediation_member_role_name of the deployment, which assumes arn:<partition>:iam::<account>:role/<this> in every account it remediates."
  type        = string
  default     = "cspm-remediator"

  validation {
    condition     = can(regex("^([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$", var.role_name))
    error_message = "role_name must be an IAM role name (1-64 of letters, digits and _+=,.@-), optionally after a path (ops/cspm-remediator), without a leading slash."
  }
}

variable "trusted_role_arns" {
  description = "ARNs of the roles that may assume this one: the deployment's remediator and api execution roles (its output remediation_trusted_role_arns). They must exist when this is applied."
  type        = list(string)

  validation {
    condition     = length(var.trusted_role_arns) > 0 && alltrue([for a in var.trusted_role_arns : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", a))])
    error_message = "trusted_role_arns must list at least one IAM role ARN (arn:aws:iam::111122223333:role/cspm-prod-remediator), without wildcards."
  }
}

variable "enabled_actions" {
  description = "Remediation action ids (keys of backend/remediation_actions.json) whose write actions the role gets, as remediation_enabled of the deployment: an action enabled there but not here fails in this account with AccessDenied. The reads of every action are granted whatever this lists (plans). Empty (default) = plans only: the role changes nothing."
  type        = list(string)
  default     = []

  validation {
    condition     = length(distinct(var.enabled_actions)) == length(var.enabled_actions)
    error_message = "enabled_actions must not list an action twice."
  }
}

variable "protected_name_prefix" {
  description = "In the deployment's own account: its name prefix (<project>-<environment>), so that, as for the remediator's own role, no remediation can detach or delete a policy of its roles or remove a permission or change the URL auth of its functions (<prefix>-*). Empty (default) in the other accounts."
  type        = string
  default     = ""

  validation {
    condition     = var.protected_name_prefix == "" || can(regex("^[\\w+=,.@-]+$", var.protected_name_prefix))
    error_message = "protected_name_prefix must be empty or a name prefix such as cspm-prod (letters, digits and _+=,.@-)."
  }
}
