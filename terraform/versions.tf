terraform {
  required_version = ">= 1.6.0"

  required_providers {
    # 5.83.0 added aws_cognito_user_pool's user_pool_tier (modules/auth: Essentials, or
    # Plus with threat protection). Nothing here needs a later 5.x: the user pool
    # domain leaves managed_login_version (5.95.0) unset.
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.83"
    }
  }
}
