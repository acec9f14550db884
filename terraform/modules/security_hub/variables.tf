variable "standards" {
  description = "Security Hub standards to subscribe to (path after ::standards/)."
  type        = list(string)
  default = [
    "aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark/v/3.0.0",
  ]
}
