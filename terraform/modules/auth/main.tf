# Who may use the dashboard and the API: users of this Cognito user pool.
# Administrators create the users (no self sign-up) and put them in a group (viewer,
# analyst, admin; the highest wins, none = viewer). The api Lambda does sign-in
# itself (backend-for-frontend, docs/auth.md "Sign-in on AWS"): it sends browsers to
# this pool's managed login (the hosted UI on the domain below) with the authorization
# code flow + PKCE, redeems the code as a confidential client (the secret is in SSM),
# keeps the tokens in its sessions table and verifies bearer tokens against the pool's
# JWKS. No API Gateway authorizer is involved.

data "aws_region" "current" {}

locals {
  # https://<prefix>.auth.<region>.amazoncognito.com: /oauth2/authorize and
  # /oauth2/token (found through the issuer's discovery document), /logout and
  # /oauth2/revoke (which discovery does not name: CSPM_OIDC_COGNITO_DOMAIN).
  domain_url = "https://${aws_cognito_user_pool_domain.main.domain}.auth.${data.aws_region.current.name}.amazoncognito.com"

  # The groups the API maps to roles (backend/src/auth: the highest group wins).
  # Precedence only orders them for Cognito (lowest first); it grants nothing.
  groups = {
    admin = {
      precedence  = 0
      description = "cspm admin: everything an analyst may do, plus suppressions, detection rules, alert routes, remediation settings, named API tokens and GET /metrics."
    }
    analyst = {
      precedence  = 1
      description = "cspm analyst: everything a viewer may do, plus changing a finding's workflow status and notes, bulk workflow updates and approving remediations."
    }
    viewer = {
      precedence  = 2
      description = "cspm viewer: read findings, the summary, exports and the live dashboard. Users in no group are viewers too."
    }
  }
}

resource "aws_cognito_user_pool" "main" {
  name                     = "${var.name_prefix}-users"
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  # TOTP for whoever enrols it; the managed login asks enrolled users for a code.
  mfa_configuration = "OPTIONAL"

  # Threat protection (adaptive authentication, compromised-credentials checks) needs
  # the paid Plus feature plan; Essentials otherwise (the default plan of new pools,
  # enough for the hosted UI and the code flow). user_pool_tier needs hashicorp/aws
  # >= 5.83 (versions.tf).
  user_pool_tier = var.enable_threat_protection ? "PLUS" : "ESSENTIALS"

  user_pool_add_ons {
    advanced_security_mode = var.enable_threat_protection ? "ENFORCED" : "OFF"
  }

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  software_token_mfa_configuration {
    enabled = true
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

resource "aws_cognito_user_group" "role" {
  for_each = local.groups

  user_pool_id = aws_cognito_user_pool.main.id
  name         = each.key
  description  = each.value.description
  precedence   = each.value.precedence
}

# The managed login pages and the OAuth endpoints, on a prefix domain. The prefix must
# be unique in the region across all AWS accounts. managed_login_version is left unset
# (Cognito's default, 1: the classic hosted UI): version 2 (the newer managed login)
# shows an error page to an app client that has no branding style, so it would need an
# aws_cognito_managed_login_branding resource as well, which the sign-in flow does not
# need.
resource "aws_cognito_user_pool_domain" "main" {
  domain       = var.domain_prefix
  user_pool_id = aws_cognito_user_pool.main.id
}

resource "aws_cognito_user_pool_client" "dashboard" {
  name         = "${var.name_prefix}-dashboard"
  user_pool_id = aws_cognito_user_pool.main.id

  # Confidential: only the api Lambda redeems codes and refresh tokens, with this
  # secret (HTTP Basic at /oauth2/token). The browser never sees it.
  generate_secret               = true
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  # SRP for SDK sign-ins, USER_PASSWORD_AUTH so an operator can still get a token from
  # the CLI (with a SECRET_HASH, docs/deploy.md), refresh for the sessions.
  explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

  access_token_validity  = var.access_token_minutes
  id_token_validity      = var.id_token_minutes
  refresh_token_validity = var.refresh_token_hours

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "hours"
  }

  # The api Lambda's own routes on the dashboard's origin (CloudFront /auth/*).
  callback_urls                        = ["${var.dashboard_url}/auth/callback"]
  logout_urls                          = ["${var.dashboard_url}/"]
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  supported_identity_providers         = ["COGNITO"]
}

# The client secret, where the api Lambda reads it at cold start (every parameter
# under the prefix, decrypted). Terraform reads the secret from Cognito to write it
# here, so it is also in the Terraform state: keep the state in an encrypted remote
# backend that only deployers can read (docs/deploy.md).
resource "aws_ssm_parameter" "client_secret" {
  # Beside the prefix, not under it: the scanner and fanout Lambdas read every
  # parameter under the prefix; only the api role may read this one.
  name        = "${trimsuffix(var.ssm_prefix, "/")}-auth/oidc_client_secret"
  description = "Client secret of the Cognito app client the api Lambda signs browsers in with (managed by Terraform)."
  type        = "SecureString"
  tier        = "Standard"
  key_id      = var.kms_key_arn
  value       = aws_cognito_user_pool_client.dashboard.client_secret
}
