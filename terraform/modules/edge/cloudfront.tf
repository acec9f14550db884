# One distribution, three origins: the dashboard bucket (default), the HTTP API
# (/api/* and the sign-in routes /auth/*) and the live WebSocket API (/live). One WAF
# and one set of security headers cover them all.

locals {
  s3_origin_id   = "dashboard"
  api_origin_id  = "api"
  api_domain     = replace(aws_apigatewayv2_api.main.api_endpoint, "https://", "")
  live_origin_id = "live"
  live_domain    = replace(aws_apigatewayv2_api.live.api_endpoint, "wss://", "")

  # AWS managed policies (ids are global constants).
  managed_cache_optimized           = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  managed_all_viewer_except_host_hd = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
  managed_caching_disabled          = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

  dashboard_domain = var.domain_name == null ? aws_cloudfront_distribution.main.domain_name : var.domain_name
}

resource "aws_cloudfront_origin_access_control" "dashboard" {
  name                              = "${var.name_prefix}-dashboard"
  description                       = "CloudFront reads the private dashboard bucket."
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# The API's cache key includes Authorization (the only way CloudFront forwards it)
# and the session cookie, so two users never share a key; TTLs near zero mean
# nothing is served from cache across users anyway.
resource "aws_cloudfront_cache_policy" "api" {
  name        = "${var.name_prefix}-api-no-cache"
  comment     = "Forward Authorization and the query string; effectively no caching."
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = 1

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = false
    enable_accept_encoding_gzip   = false

    headers_config {
      header_behavior = "whitelist"
      headers {
        items = ["Authorization"]
      }
    }

    cookies_config {
      cookie_behavior = "whitelist"
      cookies {
        items = ["cspm_session"]
      }
    }

    query_strings_config {
      query_string_behavior = "all"
    }
  }
}

resource "aws_cloudfront_function" "strip_api_prefix" {
  name    = "${var.name_prefix}-strip-api-prefix"
  runtime = "cloudfront-js-2.0"
  comment = "/api/findings -> /findings before the request reaches API Gateway."
  publish = true
  code    = <<-JS
    function handler(event) {
      var request = event.request;
      if (request.uri === '/api') {
        request.uri = '/';
      } else if (request.uri.indexOf('/api/') === 0) {
        request.uri = request.uri.substring(4);
      }
      return request;
    }
  JS
}

resource "aws_cloudfront_function" "spa_routes" {
  name    = "${var.name_prefix}-spa-routes"
  runtime = "cloudfront-js-2.0"
  comment = "Dashboard routes without a file extension serve index.html."
  publish = true
  code    = <<-JS
    function handler(event) {
      var request = event.request;
      var last = request.uri.split('/').pop();
      if (last.indexOf('.') === -1) {
        request.uri = '/index.html';
      }
      return request;
    }
  JS
}

resource "aws_cloudfront_response_headers_policy" "security" {
  name    = "${var.name_prefix}-security-headers"
  comment = "CSP, HSTS, nosniff, frame-deny, referrer policy for the dashboard and the API."

  security_headers_config {
    content_security_policy {
      content_security_policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
      override                = true
    }

    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }
}

resource "aws_cloudfront_distribution" "main" {
  # checkov:skip=CKV_AWS_310:The API origin cannot fail over and the dashboard bucket is regional by design; a second origin group would need a replicated bucket we do not run.
  # checkov:skip=CKV_AWS_374:Analysts may work from any country; access is controlled by Cognito login and WAF, not by geography.
  # checkov:skip=CKV2_AWS_42:A custom certificate is optional (var.acm_certificate_arn); the default *.cloudfront.net certificate is used when no domain is given.
  enabled             = true
  is_ipv6_enabled     = true
  comment             = "${var.name_prefix}: dashboard + /api/* + /auth/* + /live"
  default_root_object = "index.html"
  price_class         = var.price_class
  web_acl_id          = aws_wafv2_web_acl.main.arn
  aliases             = var.domain_name == null ? [] : [var.domain_name]
  http_version        = "http2and3"

  origin {
    origin_id                = local.s3_origin_id
    domain_name              = aws_s3_bucket.dashboard.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.dashboard.id
  }

  origin {
    origin_id   = local.api_origin_id
    domain_name = local.api_domain

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  origin {
    origin_id   = local.live_origin_id
    domain_name = local.live_domain

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  default_cache_behavior {
    target_origin_id           = local.s3_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.managed_cache_optimized
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.spa_routes.arn
    }
  }

  ordered_cache_behavior {
    path_pattern               = "/api/*"
    target_origin_id           = local.api_origin_id
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.api.id
    origin_request_policy_id   = local.managed_all_viewer_except_host_hd
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.strip_api_prefix.arn
    }
  }

  # Browser sign-in, served by the api Lambda under its own paths: /auth/login,
  # /auth/callback (the redirect URI registered at Cognito: <dashboard_url>/auth/callback),
  # /auth/session, /auth/logout. Like /api/* (nothing cached: the routes also answer
  # Cache-Control: no-store; every viewer header but Host, the cookies and the query
  # string forwarded), but without the function that strips /api: API Gateway's
  # $default stage receives the path as it is, /auth/..., which is the Lambda's route.
  # redirect-to-https because a browser may arrive here by a plain link or redirect.
  ordered_cache_behavior {
    path_pattern               = "/auth/*"
    target_origin_id           = local.api_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.api.id
    origin_request_policy_id   = local.managed_all_viewer_except_host_hd
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
  }

  # The live dashboard's WebSocket: exactly /live (not /live/*: /api/live/ticket is the
  # HTTP API's) to the WebSocket API, whose stage is named live, so the origin path
  # needs no rewriting. CloudFront passes the upgrade through; AllViewerExceptHostHeader
  # forwards the ?ticket= query string and the Sec-WebSocket-* and Origin headers (the
  # origin needs its own Host). Nothing is cached.
  ordered_cache_behavior {
    path_pattern               = "/live"
    target_origin_id           = local.live_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = local.managed_caching_disabled
    origin_request_policy_id   = local.managed_all_viewer_except_host_hd
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
  }

  logging_config {
    bucket          = var.logs_bucket_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.acm_certificate_arn == null
    acm_certificate_arn            = var.acm_certificate_arn
    ssl_support_method             = var.acm_certificate_arn == null ? null : "sni-only"
    # Applies with a custom certificate; the default certificate always allows TLSv1.
    minimum_protocol_version = "TLSv1.2_2021"
  }
}
