#!/usr/bin/env python3
"""Tests of scripts/check_terraform.py: a checker that cannot fail is worthless, so
each test breaks a small, otherwise valid Terraform tree in one way and asserts the
checker reports exactly that. The last test runs it on the real terraform/.

Run:  python3 -m unittest scripts/test_check_terraform.py   (needs python-hcl2)
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_terraform  # noqa: E402
from terraform_model import template_code  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LAMBDAS = {
    "lambdas": {
        "worker": {
            "binary": "worker",
            "env": ["TABLE", "RUST_LOG"],
            "iam": [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
                "sqs:SendMessage",
            ],
        }
    }
}

ROOT_MAIN = """
variable "dist" {
  description = "zips"
  type        = string
  default     = "../dist"
}

locals {
  prefix = "demo"
}

resource "aws_dynamodb_table" "t" {
  name     = "${local.prefix}-t"
  hash_key = "id"
  deletion_protection_enabled = true
  stream_enabled              = true
  stream_view_type            = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/demo"
  }
}

resource "aws_sqs_queue" "failures" {
  name              = "${local.prefix}-failures"
  kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/demo"
}

data "aws_iam_policy_document" "worker" {
  statement {
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.t.arn]
  }

  statement {
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
    resources = [aws_dynamodb_table.t.stream_arn]
  }

  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }
}

resource "aws_lambda_event_source_mapping" "feed" {
  event_source_arn               = aws_dynamodb_table.t.stream_arn
  function_name                  = module.worker.function_name
  starting_position              = "LATEST"
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = 10
  maximum_record_age_in_seconds  = 3600

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.failures.arn
    }
  }
}

module "worker" {
  source       = "./modules/lambda"
  function_key = "worker"
  zip_path     = "${var.dist}/worker/bootstrap.zip"
  policy_json  = data.aws_iam_policy_document.worker.json

  environment = {
    TABLE    = aws_dynamodb_table.t.name
    RUST_LOG = "info"
  }
}

output "fn" {
  description = "d"
  value = module.worker.function_name
}
"""

LAMBDA_MAIN = """
variable "function_key" {
  description = "d"
  type = string
}

variable "zip_path" {
  description = "d"
  type = string
}

variable "environment" {
  description = "d"
  type = map(string)
}

variable "policy_json" {
  description = "d"
  type = string
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_key}"
  retention_in_days = 30
}

resource "aws_sqs_queue" "dlq" {
  name = "${var.function_key}-dlq"
}

resource "aws_iam_role" "this" {
  name               = var.function_key
  assume_role_policy = "{}"
}

data "aws_iam_policy_document" "runtime" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "runtime" {
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.runtime.json
}

resource "aws_iam_role_policy" "code" {
  role   = aws_iam_role.this.id
  policy = var.policy_json
}

resource "aws_lambda_function" "this" {
  function_name = var.function_key
  role          = aws_iam_role.this.arn
  filename      = var.zip_path

  environment {
    variables = var.environment
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name  = "${var.function_key}-errors"
  namespace   = "AWS/Lambda"
  metric_name = "Errors"

  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }
}

output "function_name" {
  description = "d"
  value = aws_lambda_function.this.function_name
}
"""


# A WebSocket API as modules/edge/live.tf builds it, on the fixture's one Lambda
# (integration and authorizer alike), behind a distribution with the /live behavior.
WEBSOCKET = """
locals {
  stage     = "live"
  ws_origin = "ws"
}

resource "aws_apigatewayv2_api" "ws" {
  name                       = "ws"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.type"
}

resource "aws_apigatewayv2_authorizer" "ws" {
  api_id           = aws_apigatewayv2_api.ws.id
  name             = "ticket"
  authorizer_type  = "REQUEST"
  authorizer_uri   = module.worker.invoke_arn
  identity_sources = ["route.request.querystring.ticket"]
}

resource "aws_apigatewayv2_integration" "ws" {
  api_id           = aws_apigatewayv2_api.ws.id
  integration_type = "AWS_PROXY"
  integration_uri  = module.worker.invoke_arn
}

resource "aws_apigatewayv2_route" "connect" {
  api_id             = aws_apigatewayv2_api.ws.id
  route_key          = "$connect"
  target             = "integrations/${aws_apigatewayv2_integration.ws.id}"
  authorization_type = "CUSTOM"
  authorizer_id      = aws_apigatewayv2_authorizer.ws.id
}

resource "aws_apigatewayv2_route" "disconnect" {
  api_id    = aws_apigatewayv2_api.ws.id
  route_key = "$disconnect"
  target    = "integrations/${aws_apigatewayv2_integration.ws.id}"
}

resource "aws_apigatewayv2_route" "default" {
  api_id    = aws_apigatewayv2_api.ws.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.ws.id}"
}

resource "aws_apigatewayv2_stage" "ws" {
  api_id = aws_apigatewayv2_api.ws.id
  name   = local.stage

  access_log_settings {
    destination_arn = "arn:aws:logs:eu-west-1:111122223333:log-group:ws"
    format          = "$context.requestId"
  }
}

resource "aws_lambda_permission" "ws" {
  action        = "lambda:InvokeFunction"
  function_name = module.worker.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.ws.execution_arn}/*"
}

resource "aws_cloudfront_distribution" "cdn" {
  enabled = true

  origin {
    origin_id   = local.ws_origin
    domain_name = replace(aws_apigatewayv2_api.ws.api_endpoint, "wss://", "")
  }

  ordered_cache_behavior {
    path_pattern             = "/live"
    target_origin_id         = local.ws_origin
    cache_policy_id          = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    origin_request_policy_id = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
  }
}
"""

INVOKE_ARN_OUTPUT = """
output "invoke_arn" {
  description = "d"
  value       = aws_lambda_function.this.invoke_arn
}
"""

# What backend/src/store/dynamo/item.rs looks like, with three fields.
LIST_PROJECTION_RS = 'pub const LIST_PROJECTION: [&str; 3] = [\n    "title",\n    "created_at",\n    "rev",\n];\n'


class CheckTerraformTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.files = {
            "terraform/main.tf": ROOT_MAIN,
            "terraform/modules/lambda/main.tf": LAMBDA_MAIN,
            "terraform/terraform.tfvars.example": 'dist = "../dist"\n',
        }
        self.lambdas = json.loads(json.dumps(LAMBDAS))

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def edit(self, path: str, old: str, new: str) -> None:
        text = self.files[path]
        self.assertIn(old, text, "the test's edit must apply")
        self.files[path] = text.replace(old, new, 1)

    def run_checker(self, terraform: str | None = None, lambdas: str | None = None) -> tuple[int, str, str]:
        extra: list[str] = []
        if terraform is None:
            for rel, text in self.files.items():
                path = os.path.join(self.dir, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
            lambdas = os.path.join(self.dir, "lambdas.json")
            with open(lambdas, "w", encoding="utf-8") as f:
                json.dump(self.lambdas, f)
            projection = os.path.join(self.dir, "item.rs")
            with open(projection, "w", encoding="utf-8") as f:
                f.write(LIST_PROJECTION_RS)
            extra = ["--list-projection", projection]
            terraform = os.path.join(self.dir, "terraform")
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            rc = check_terraform.main(["--terraform", terraform, "--lambdas", lambdas, *extra])
        return rc, out.getvalue(), err.getvalue()

    def assert_fails_with(self, *fragments: str) -> str:
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 1, f"checker should fail; stdout:\n{out}\nstderr:\n{err}")
        for fragment in fragments:
            self.assertIn(fragment, err)
        return err

    # --- the fixture itself is valid ------------------------------------------------

    def test_valid_tree_passes_and_reports_counts(self) -> None:
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 0, err)
        self.assertIn("lambda instances checked: 1", out)
        self.assertIn("IAM actions verified: 7", out)
        self.assertIn("environment variables verified: 2", out)
        self.assertIn("table environment variables traced: 1", out)
        self.assertIn("dynamodb tables checked: 1", out)
        self.assertIn("event source mappings checked: 1", out)
        self.assertIn("event source mapping IAM actions verified: 5", out)
        self.assertIn("check_terraform: OK", out)

    # --- references -------------------------------------------------------------------

    def test_undeclared_variable_fails(self) -> None:
        self.edit("terraform/main.tf", 'RUST_LOG = "info"', "RUST_LOG = var.log_level")
        self.assert_fails_with("var.log_level is not declared")

    def test_unused_variable_fails(self) -> None:
        self.edit("terraform/main.tf", "locals {", 'variable "spare" {\n  type = string\n}\n\nlocals {')
        self.assert_fails_with("variable spare: declared but never used")

    def test_variable_without_description_fails(self) -> None:
        self.edit("terraform/main.tf", '  description = "zips"\n', "")
        self.assert_fails_with("variable dist: has no description")

    def test_unknown_function_fails(self) -> None:
        self.edit("terraform/main.tf", '"${local.prefix}-t"', 'lower("${local.prefix}-t")')
        self.edit("terraform/main.tf", "lower(", "lowercase(")
        self.assert_fails_with("lowercase() is not a Terraform built-in function")

    def test_validation_referring_to_another_variable_fails(self) -> None:
        self.edit(
            "terraform/main.tf",
            '  default     = "../dist"\n',
            '  default     = "../dist"\n\n  validation {\n    condition     = length(var.dist) > 0 && local.prefix != ""\n'
            '    error_message = "x"\n  }\n',
        )
        self.assertEqual(self.run_checker()[0], 0, "a validation using locals only is fine here")
        self.edit("terraform/main.tf", 'local.prefix != ""', 'var.other != ""')
        self.assert_fails_with("validation refers to other variables (other)")

    def test_undefined_local_fails(self) -> None:
        self.edit("terraform/main.tf", '"${local.prefix}-t"', '"${local.prefx}-t"')
        self.assert_fails_with("local.prefx is not defined")

    def test_undeclared_resource_fails(self) -> None:
        self.edit("terraform/main.tf", "resources = [aws_dynamodb_table.t.arn]", "resources = [aws_dynamodb_table.findings.arn]")
        self.assert_fails_with("resource aws_dynamodb_table.findings is not declared")

    def test_undeclared_data_source_fails(self) -> None:
        self.edit("terraform/main.tf", "data.aws_iam_policy_document.worker.json", "data.aws_iam_policy_document.wrker.json")
        self.assert_fails_with("data.aws_iam_policy_document.wrker is not declared")

    def test_missing_module_output_fails(self) -> None:
        self.edit("terraform/main.tf", "module.worker.function_name", "module.worker.function_arn")
        self.assert_fails_with("has no output function_arn")

    def test_uncalled_module_fails(self) -> None:
        self.edit("terraform/main.tf", "module.worker.function_name", "module.wrker.function_name")
        self.assert_fails_with("module.wrker is not called")

    def test_tfvars_example_with_unknown_variable_fails(self) -> None:
        self.files["terraform/terraform.tfvars.example"] = 'dist = "../dist"\nregion = "eu-west-1"\n'
        self.assert_fails_with("sets region, which is not a root variable")

    # --- module calls -----------------------------------------------------------------

    def test_module_call_with_undeclared_argument_fails(self) -> None:
        self.edit("terraform/main.tf", 'function_key = "worker"', 'function_key = "worker"\n  memory       = 512')
        self.assert_fails_with("passes memory, which")

    def test_module_call_missing_required_argument_fails(self) -> None:
        self.edit("terraform/main.tf", "  policy_json  = data.aws_iam_policy_document.worker.json\n", "")
        self.assert_fails_with("does not pass required variable policy_json")

    def test_remote_module_source_fails(self) -> None:
        self.edit("terraform/main.tf", 'source       = "./modules/lambda"', 'source       = "terraform-aws-modules/lambda/aws"')
        self.assert_fails_with("is not a local folder")

    # --- Lambda contract --------------------------------------------------------------

    def test_unknown_environment_variable_fails(self) -> None:
        self.edit("terraform/main.tf", 'RUST_LOG = "info"', 'RUST_LOG = "info"\n    DEBUG    = "1"')
        self.assert_fails_with("environment variable DEBUG is set on worker but not listed for it")

    def test_missing_environment_variable_fails(self) -> None:
        self.edit("terraform/main.tf", "    TABLE    = aws_dynamodb_table.t.name\n", "")
        self.assert_fails_with("environment variable TABLE listed for worker", "is not set")

    def test_extra_iam_action_fails(self) -> None:
        self.edit("terraform/main.tf", '"dynamodb:PutItem"]', '"dynamodb:PutItem", "dynamodb:DeleteItem"]')
        self.assert_fails_with("IAM action dynamodb:DeleteItem granted to worker is not listed for it")

    def test_listed_iam_action_not_granted_fails(self) -> None:
        self.edit("terraform/main.tf", '["dynamodb:GetItem", "dynamodb:PutItem"]', '["dynamodb:GetItem"]')
        self.assert_fails_with("IAM action dynamodb:PutItem listed for worker", "is not granted")

    def test_wildcard_iam_action_fails(self) -> None:
        self.edit("terraform/main.tf", '"dynamodb:PutItem"]', '"dynamodb:PutItem", "s3:*"]')
        self.assert_fails_with("wildcard action s3:*")

    def test_runtime_policy_with_code_action_fails(self) -> None:
        self.edit("terraform/modules/lambda/main.tf", '"logs:PutLogEvents"]', '"logs:PutLogEvents", "s3:GetObject"]')
        self.assert_fails_with("runtime policy grants s3:GetObject")

    def test_managed_policy_attachment_on_lambda_role_fails(self) -> None:
        self.files["terraform/modules/lambda/extra.tf"] = (
            'resource "aws_iam_role_policy_attachment" "admin" {\n'
            "  role       = aws_iam_role.this.name\n"
            '  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"\n}\n'
        )
        self.assert_fails_with("attaches a policy whose actions cannot be checked")

    def test_inline_policy_not_from_a_document_fails(self) -> None:
        self.edit("terraform/main.tf", "policy_json  = data.aws_iam_policy_document.worker.json", 'policy_json  = jsonencode({ Statement = [] })')
        self.assert_fails_with("must be data.aws_iam_policy_document.<name>.json")

    def test_function_missing_from_lambdas_json_fails(self) -> None:
        self.lambdas["lambdas"]["reporter"] = {"binary": "reporter", "env": [], "iam": []}
        self.assert_fails_with("function 'reporter' is not deployed")

    def test_unknown_function_key_fails(self) -> None:
        self.edit("terraform/main.tf", 'function_key = "worker"', 'function_key = "wrker"')
        self.assert_fails_with("function_key 'wrker' is not in")

    def test_wrong_zip_path_fails(self) -> None:
        self.edit("terraform/main.tf", "/worker/bootstrap.zip", "/other/bootstrap.zip")
        self.assert_fails_with("expected <dist dir>/worker/bootstrap.zip")

    def test_policy_attached_to_lambda_role_from_outside_fails(self) -> None:
        self.edit("terraform/modules/lambda/main.tf", 'output "function_name" {', 'output "role_name" {\n  description = "d"\n  value       = aws_iam_role.this.name\n}\n\noutput "function_name" {')
        self.files["terraform/extra.tf"] = (
            'resource "aws_iam_role_policy" "sneaky" {\n'
            "  role   = module.worker.role_name\n"
            "  policy = data.aws_iam_policy_document.worker.json\n}\n"
        )
        self.assert_fails_with("grants to the role of Lambda module worker from outside")

    # --- providers --------------------------------------------------------------------

    def test_module_needing_provider_alias_not_passed_fails(self) -> None:
        self.files["terraform/modules/lambda/versions.tf"] = (
            "terraform {\n  required_providers {\n    aws = {\n"
            '      source                = "hashicorp/aws"\n'
            "      configuration_aliases = [aws.us_east_1]\n    }\n  }\n}\n"
        )
        self.assert_fails_with("does not pass provider aws.us_east_1")

    def test_resource_using_undeclared_provider_alias_fails(self) -> None:
        self.edit("terraform/main.tf", 'name     = "${local.prefix}-t"', 'provider = aws.eu\n  name     = "${local.prefix}-t"')
        self.assert_fails_with("provider aws.eu is neither configured")

    # --- Lambda operability -----------------------------------------------------------

    def test_lambda_without_log_group_fails(self) -> None:
        self.edit("terraform/modules/lambda/main.tf", "    log_group  = aws_cloudwatch_log_group.this.name\n", "")
        self.edit("terraform/modules/lambda/main.tf", '"/aws/lambda/${var.function_key}"', '"/custom/${var.function_key}"')
        self.assert_fails_with("has no log group")

    def test_lambda_without_alarm_fails(self) -> None:
        self.edit("terraform/modules/lambda/main.tf", "FunctionName = aws_lambda_function.this.function_name", 'FunctionName = "someone-else"')
        self.assert_fails_with("has no CloudWatch alarm")

    def test_lambda_without_dlq_fails(self) -> None:
        self.edit("terraform/modules/lambda/main.tf", "  dead_letter_config {\n    target_arn = aws_sqs_queue.dlq.arn\n  }\n", "")
        self.assert_fails_with("has neither dead_letter_config.target_arn nor an on_failure destination")

    def test_runtime_actions_can_be_listed_in_lambdas_json(self) -> None:
        self.lambdas["runtime_iam"] = ["logs:CreateLogStream"]
        self.assert_fails_with("runtime policy grants logs:PutLogEvents")

    # --- DynamoDB tables ----------------------------------------------------------------

    def test_key_without_attribute_fails(self) -> None:
        self.edit("terraform/main.tf", 'hash_key = "id"', 'hash_key = "pk"')
        self.assert_fails_with("hash_key pk has no attribute block", "attribute id is declared but is no table or index key")

    def test_attribute_that_is_no_key_fails(self) -> None:
        self.edit("terraform/main.tf", '  attribute {\n    name = "id"', '  attribute {\n    name = "expires_at"\n    type = "N"\n  }\n\n  attribute {\n    name = "id"')
        self.assert_fails_with("attribute expires_at is declared but is no table or index key")

    def test_table_without_point_in_time_recovery_fails(self) -> None:
        self.edit("terraform/main.tf", "  point_in_time_recovery {\n    enabled = true\n  }\n", "")
        self.assert_fails_with("has no point_in_time_recovery")

    def test_table_without_customer_key_fails(self) -> None:
        self.edit("terraform/main.tf", '    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/demo"\n  }\n}', "  }\n}")
        self.assert_fails_with("aws_dynamodb_table.t: is not encrypted with a customer key")

    def test_table_without_deletion_protection_fails(self) -> None:
        self.edit("terraform/main.tf", "deletion_protection_enabled = true", "deletion_protection_enabled = false")
        self.assert_fails_with("does not set deletion_protection_enabled")

    def test_disabled_ttl_fails(self) -> None:
        self.edit("terraform/main.tf", "    enabled        = true", "    enabled        = false")
        self.assert_fails_with("has a ttl block that is not enabled")

    def test_stream_arn_of_table_without_stream_fails(self) -> None:
        self.edit("terraform/main.tf", "  stream_enabled              = true\n  stream_view_type            = \"NEW_AND_OLD_IMAGES\"\n", "")
        self.assert_fails_with("uses aws_dynamodb_table.t.stream_arn, but that table has no stream")

    def test_table_environment_variable_not_leading_to_a_table_fails(self) -> None:
        self.edit("terraform/main.tf", "TABLE    = aws_dynamodb_table.t.name", 'TABLE    = "${local.prefix}-t"')
        self.assert_fails_with("environment variable TABLE of worker names a table but does not lead to an aws_dynamodb_table's name")

    # --- list indexes -----------------------------------------------------------------

    def add_list_index(self, projected: str) -> None:
        self.edit(
            "terraform/main.tf",
            '  ttl {\n    attribute_name = "expires_at"',
            '  attribute {\n    name = "changed_at"\n    type = "S"\n  }\n\n'
            '  global_secondary_index {\n    name               = "SeverityChangeIndex"\n    hash_key           = "id"\n'
            f'    range_key          = "changed_at"\n    projection_type    = "INCLUDE"\n    non_key_attributes = [{projected}]\n  }}\n\n'
            '  ttl {\n    attribute_name = "expires_at"',
        )

    def test_list_index_projecting_every_list_field_passes(self) -> None:
        self.add_list_index('"title", "created_at", "rev", "updated_at"')
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 0, err)
        self.assertIn("list index fields verified: 3", out)

    def test_list_index_missing_a_list_field_fails(self) -> None:
        self.add_list_index('"title", "updated_at"')
        self.assert_fails_with("index SeverityChangeIndex serves list items but does not project created_at, rev (LIST_PROJECTION in")

    # --- WebSocket APIs -----------------------------------------------------------------

    def add_websocket(self) -> None:
        self.files["terraform/live.tf"] = WEBSOCKET
        self.files["terraform/modules/lambda/main.tf"] += INVOKE_ARN_OUTPUT

    def test_websocket_api_fully_wired_passes(self) -> None:
        self.add_websocket()
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 0, err)
        self.assertIn("websocket apis checked: 1", out)
        self.assertIn("websocket routes verified: 3", out)
        self.assertIn("websocket lambda permissions verified: 1", out)
        self.assertIn("websocket cloudfront behaviors verified: 1", out)

    def test_websocket_route_without_integration_fails(self) -> None:
        self.add_websocket()
        self.edit("terraform/live.tf", '  route_key = "$default"\n  target    = "integrations/${aws_apigatewayv2_integration.ws.id}"\n', '  route_key = "$default"\n')
        self.assert_fails_with("aws_apigatewayv2_route.default: route $default has no target integration of this API")

    def test_websocket_route_to_another_apis_integration_fails(self) -> None:
        self.add_websocket()
        self.edit("terraform/live.tf", '  integration_type = "AWS_PROXY"', '  integration_type = "AWS_PROXY"\n}\n\nresource "aws_apigatewayv2_integration" "other" {\n  api_id           = "elsewhere"\n  integration_type = "AWS_PROXY"')
        self.edit("terraform/live.tf", 'route_key = "$disconnect"\n  target    = "integrations/${aws_apigatewayv2_integration.ws.id}"', 'route_key = "$disconnect"\n  target    = "integrations/${aws_apigatewayv2_integration.other.id}"')
        self.assert_fails_with("route $disconnect has no target integration of this API")

    def test_websocket_missing_route_fails(self) -> None:
        self.add_websocket()
        self.edit("terraform/live.tf", 'route_key = "$disconnect"', 'route_key = "$close"')
        self.assert_fails_with("aws_apigatewayv2_api.ws: has no $disconnect route")

    def test_websocket_connect_without_authorizer_fails(self) -> None:
        self.add_websocket()
        self.edit("terraform/live.tf", 'authorization_type = "CUSTOM"', 'authorization_type = "NONE"')
        self.assert_fails_with("$connect must be authorized")

    def test_websocket_function_without_invoke_permission_fails(self) -> None:
        self.add_websocket()
        self.edit("terraform/live.tf", "${aws_apigatewayv2_api.ws.execution_arn}/*", "arn:aws:execute-api:eu-west-1:111122223333:other/*")
        self.assert_fails_with("invokes worker, but no aws_lambda_permission lets apigateway.amazonaws.com do so")

    def test_websocket_without_exact_cloudfront_behavior_fails(self) -> None:
        self.add_websocket()
        # /live/* does not match /live itself: the upgrade would go to the default (S3) behavior.
        self.edit("terraform/live.tf", 'path_pattern             = "/live"', 'path_pattern             = "/live/*"')
        self.assert_fails_with("has no ordered_cache_behavior with path_pattern exactly '/live' to the WebSocket origin (the stage is 'live'; behaviors to that origin: '/live/*')")

    def test_websocket_behavior_missing_fails(self) -> None:
        self.add_websocket()
        start = WEBSOCKET.index("  ordered_cache_behavior {")
        behavior = WEBSOCKET[start : WEBSOCKET.index("  }\n", start) + 4]
        self.edit("terraform/live.tf", behavior, "")
        self.assert_fails_with("has no ordered_cache_behavior with path_pattern exactly '/live' to the WebSocket origin (the stage is 'live'; behaviors to that origin: none)")

    def test_websocket_stage_renamed_without_its_behavior_fails(self) -> None:
        self.add_websocket()
        self.edit("terraform/live.tf", 'stage     = "live"', 'stage     = "ws"')
        self.assert_fails_with("path_pattern exactly '/ws'")

    def test_websocket_behavior_that_caches_fails(self) -> None:
        self.add_websocket()
        self.edit("terraform/live.tf", '"4135ea2d-6df8-44a3-9df3-4b5a84be39ad"', '"658327ea-f89d-4fab-a63d-7e88639e58f6"')
        self.assert_fails_with("behavior /live: cache_policy_id must be the managed CachingDisabled policy")

    # --- event source mappings ----------------------------------------------------------

    def test_mapping_without_batch_item_failures_fails(self) -> None:
        self.edit("terraform/main.tf", '  function_response_types        = ["ReportBatchItemFailures"]\n', "")
        self.assert_fails_with('does not set function_response_types = ["ReportBatchItemFailures"]')

    def test_stream_without_both_images_fails(self) -> None:
        self.edit("terraform/main.tf", '"NEW_AND_OLD_IMAGES"', '"NEW_IMAGE"')
        self.assert_fails_with("whose stream_view_type is 'NEW_IMAGE'; the change feed needs NEW_AND_OLD_IMAGES")

    def test_stream_mapping_without_on_failure_destination_fails(self) -> None:
        self.edit("terraform/main.tf", "  destination_config {\n    on_failure {\n      destination_arn = aws_sqs_queue.failures.arn\n    }\n  }\n", "")
        self.assert_fails_with("has no destination_config.on_failure")

    def test_unencrypted_on_failure_queue_fails(self) -> None:
        self.edit("terraform/main.tf", '  kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/demo"\n', "")
        self.assert_fails_with("aws_sqs_queue.failures: is the on-failure destination", "not encrypted with a customer key")

    def test_stream_mapping_with_unbounded_retries_fails(self) -> None:
        self.edit("terraform/main.tf", "maximum_retry_attempts         = 10", "maximum_retry_attempts         = -1")
        self.edit("terraform/main.tf", "  maximum_record_age_in_seconds  = 3600\n", "")
        self.assert_fails_with("maximum_retry_attempts is -1: unbounded retries", "maximum_record_age_in_seconds is None: unbounded record age")

    def test_stream_mapping_without_bisect_fails(self) -> None:
        self.edit("terraform/main.tf", "bisect_batch_on_function_error = true", "bisect_batch_on_function_error = false")
        self.assert_fails_with("does not set bisect_batch_on_function_error = true")

    def test_stream_consumer_without_poller_actions_fails(self) -> None:
        self.edit("terraform/main.tf", '["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]', '["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]')
        self.lambdas["lambdas"]["worker"]["iam"].remove("dynamodb:GetRecords")
        self.assert_fails_with("invokes worker, whose actions in", "lack dynamodb:GetRecords")

    def test_stream_consumer_that_cannot_send_to_destination_fails(self) -> None:
        self.edit("terraform/main.tf", '  statement {\n    actions   = ["sqs:SendMessage"]\n    resources = [aws_sqs_queue.failures.arn]\n  }\n', "")
        self.lambdas["lambdas"]["worker"]["iam"].remove("sqs:SendMessage")
        self.assert_fails_with("lack sqs:SendMessage")

    def test_mapping_to_something_that_is_not_a_listed_lambda_fails(self) -> None:
        self.edit("terraform/main.tf", "function_name                  = module.worker.function_name", 'function_name                  = "someone-else"')
        self.assert_fails_with("function_name 'someone-else' does not lead to a Lambda module instance")

    def test_mapping_source_that_cannot_be_traced_fails(self) -> None:
        self.edit("terraform/main.tf", "event_source_arn               = aws_dynamodb_table.t.stream_arn", 'event_source_arn               = "arn:aws:dynamodb:eu-west-1:111122223333:table/x/stream/y"')
        self.assert_fails_with("does not lead to an aws_dynamodb_table's stream_arn or an aws_sqs_queue's arn")

    def test_mapping_traced_through_module_outputs_and_variables_passes(self) -> None:
        # The real tree's shape: the table in one module, the mapping in another that
        # gets the stream ARN as a variable from the root, which reads an output.
        table = self.files["terraform/main.tf"].split('resource "aws_dynamodb_table" "t" {')[1].split("\n}\n")[0]
        self.edit("terraform/main.tf", 'resource "aws_dynamodb_table" "t" {' + table + "\n}\n", "")
        self.files["terraform/modules/data/main.tf"] = (
            'resource "aws_dynamodb_table" "t" {' + table.replace("${local.prefix}", "demo") + "\n}\n\n"
            'output "stream_arn" {\n  description = "d"\n  value       = aws_dynamodb_table.t.stream_arn\n}\n\n'
            'output "arn" {\n  description = "d"\n  value       = aws_dynamodb_table.t.arn\n}\n\n'
            'output "name" {\n  description = "d"\n  value       = aws_dynamodb_table.t.name\n}\n'
        )
        text = self.files["terraform/main.tf"]
        text = text.replace("aws_dynamodb_table.t.stream_arn", "module.data.stream_arn").replace("aws_dynamodb_table.t.arn", "module.data.arn")
        text = text.replace("aws_dynamodb_table.t.name", "module.data.name")
        self.files["terraform/main.tf"] = text + '\nmodule "data" {\n  source = "./modules/data"\n}\n'
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 0, err)
        self.assertIn("event source mapping IAM actions verified: 5", out)
        self.assertIn("table environment variables traced: 1", out)
        # ...and the stream view type is still checked at the end of the trace.
        self.files["terraform/modules/data/main.tf"] = self.files["terraform/modules/data/main.tf"].replace('"NEW_AND_OLD_IMAGES"', '"KEYS_ONLY"')
        self.assert_fails_with("whose stream_view_type is 'KEYS_ONLY'")

    def test_sqs_mapping_checks(self) -> None:
        self.files["terraform/sqs.tf"] = (
            'resource "aws_sqs_queue" "in" {\n  name = "in"\n}\n\n'
            'resource "aws_lambda_event_source_mapping" "queue" {\n'
            "  event_source_arn        = aws_sqs_queue.in.arn\n"
            "  function_name           = module.worker.function_name\n"
            '  function_response_types = ["ReportBatchItemFailures"]\n\n'
            "  destination_config {\n    on_failure {\n      destination_arn = aws_sqs_queue.failures.arn\n    }\n  }\n}\n"
        )
        self.assert_fails_with(
            "sets destination_config, which only stream sources support",
            "aws_sqs_queue.in: feeds resource aws_lambda_event_source_mapping.queue but has no redrive_policy",
            "invokes worker, whose actions in",
            "lack sqs:ReceiveMessage",
        )

    # --- actions read from a catalog file (iam_from) -----------------------------------

    CATALOG = {
        "actions": {
            "fix-a": {"read": ["ec2:DescribeSecurityGroups"], "write": ["ec2:RevokeSecurityGroupIngress"]},
            "fix-b": {"read": ["s3:GetBucketPublicAccessBlock"], "write": ["s3:PutBucketPublicAccessBlock"]},
        }
    }

    def use_catalog(self, parts: tuple[str, ...] = ("read", "write"), granted: str = "concat(local.reads, local.writes)") -> None:
        """The remediator's shape: the worker also gets the listed parts of the
        actions enabled by a root variable, from a catalog file next to lambdas.json."""
        self.files["remediation_actions.json"] = json.dumps(self.CATALOG)
        self.files["terraform/catalog.tf"] = (
            'variable "enabled" {\n  description = "d"\n  type        = list(string)\n  default     = []\n}\n\n'
            "locals {\n"
            '  catalog = jsondecode(file("${path.module}/../remediation_actions.json")).actions\n'
            "  reads   = flatten([for id in var.enabled : local.catalog[id].read])\n"
            "  writes  = flatten([for id in var.enabled : local.catalog[id].write])\n"
            "}\n"
        )
        self.edit(
            "terraform/main.tf",
            'data "aws_iam_policy_document" "worker" {\n',
            'data "aws_iam_policy_document" "worker" {\n'
            '  dynamic "statement" {\n'
            f"    for_each = length(local.reads) > 0 ? [{granted}] : []\n\n"
            "    content {\n      actions   = statement.value\n      resources = [\"*\"]\n    }\n  }\n\n",
        )
        self.lambdas["lambdas"]["worker"]["iam_from"] = {"file": "remediation_actions.json", "parts": list(parts), "enabled_by": "enabled"}

    def test_catalog_actions_of_enabled_ids_pass(self) -> None:
        self.use_catalog()
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 0, err)
        self.assertIn("catalog statements verified: 1", out)
        self.assertIn("catalog IAM actions verified: 4", out)
        self.assertIn("IAM actions verified: 7", out)  # the static list is still exact

    def test_dynamic_statement_without_iam_from_fails(self) -> None:
        self.use_catalog()
        del self.lambdas["lambdas"]["worker"]["iam_from"]
        self.assert_fails_with("uses computed statements", 'only a Lambda with "iam_from"')

    def test_iam_from_without_dynamic_statement_fails(self) -> None:
        self.lambdas["lambdas"]["worker"]["iam_from"] = {"file": "remediation_actions.json", "parts": ["read"], "enabled_by": "enabled"}
        self.assert_fails_with("worker has iam_from in", "no computed statement (dynamic, or actions = an expression) of its code policy grants those actions")

    def test_catalog_writes_granted_where_only_reads_are_listed_fail(self) -> None:
        self.use_catalog(parts=("read",))
        self.assert_fails_with("grants worker the 'write' actions of remediation_actions.json, but iam_from of worker")

    def test_catalog_part_listed_but_not_granted_fails(self) -> None:
        self.use_catalog(granted="local.reads")
        self.assert_fails_with("lists the 'write' actions of remediation_actions.json, but no computed statement grants them")

    def test_catalog_actions_not_selected_by_the_variable_fail(self) -> None:
        # Every action of the file, enabled or not.
        self.use_catalog(granted="flatten([for id, a in local.catalog : concat(a.read, a.write)])")
        self.assert_fails_with("uses local.catalog other than as local.catalog[ID].<part> for ID in var.<enabled")

    def test_literal_action_beside_the_catalog_fails(self) -> None:
        self.use_catalog(granted='concat(local.reads, local.writes, ["iam:PassRole"])')
        self.assert_fails_with("names the action iam:PassRole literally")

    def test_catalog_actions_selected_by_another_variable_fail(self) -> None:
        self.use_catalog()
        self.files["terraform/catalog.tf"] = self.files["terraform/catalog.tf"].replace("in var.enabled :", "in var.others :", 1) + (
            '\nvariable "others" {\n  description = "d"\n  type        = list(string)\n  default     = []\n}\n'
        )
        self.assert_fails_with("uses local.catalog other than as", "uses var.others: the actions may depend on the root variable enabled only")

    def test_dynamic_actions_from_another_file_fail(self) -> None:
        self.use_catalog()
        self.files["terraform/catalog.tf"] = self.files["terraform/catalog.tf"].replace("../remediation_actions.json", "../other.json")
        self.files["other.json"] = json.dumps(self.CATALOG)
        self.assert_fails_with("local.catalog reads ${path.module}/../other.json, not the catalog")

    def test_catalog_read_part_that_writes_fails(self) -> None:
        self.use_catalog()
        self.CATALOG = json.loads(json.dumps(self.CATALOG))
        self.CATALOG["actions"]["fix-b"]["read"].append("s3:PutBucketPolicy")
        self.files["remediation_actions.json"] = json.dumps(self.CATALOG)
        self.assert_fails_with("fix-b.read: s3:PutBucketPolicy is not a read")

    def test_catalog_wildcard_action_fails(self) -> None:
        self.use_catalog()
        self.CATALOG = json.loads(json.dumps(self.CATALOG))
        self.CATALOG["actions"]["fix-a"]["write"] = ["ec2:*"]
        self.files["remediation_actions.json"] = json.dumps(self.CATALOG)
        self.assert_fails_with("fix-a.write: 'ec2:*' is not one IAM action")

    # The api's shape: the reads of every catalog entry, enabled or not (a plan only
    # reads), in a plain statement whose actions are a local.

    def use_all_reads(self, all_reads: str = "sort(distinct(flatten([for id, a in local.catalog : a.read])))") -> None:
        self.files["remediation_actions.json"] = json.dumps(self.CATALOG)
        self.files["terraform/catalog.tf"] = (
            "locals {\n"
            '  catalog   = jsondecode(file("${path.module}/../remediation_actions.json")).actions\n'
            f"  all_reads = {all_reads}\n"
            "}\n"
        )
        self.edit(
            "terraform/main.tf",
            'data "aws_iam_policy_document" "worker" {\n',
            'data "aws_iam_policy_document" "worker" {\n'
            "  statement {\n    actions   = local.all_reads\n    resources = [\"*\"]\n  }\n\n",
        )
        self.lambdas["lambdas"]["worker"]["iam_from"] = {"file": "remediation_actions.json", "parts": ["read"], "all_actions": True}

    def test_catalog_reads_of_every_id_in_a_plain_statement_pass(self) -> None:
        self.use_all_reads()
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 0, err)
        self.assertIn("catalog statements verified: 1", out)
        self.assertIn("IAM actions verified: 7", out)  # the static list is still exact

    def test_catalog_reads_of_every_id_with_a_single_loop_variable_pass(self) -> None:
        self.use_all_reads("flatten([for a in local.catalog : a.read])")
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 0, err)
        self.assertIn("catalog statements verified: 1", out)

    def test_plain_statement_with_computed_actions_without_iam_from_fails(self) -> None:
        self.use_all_reads()
        del self.lambdas["lambdas"]["worker"]["iam_from"]
        self.assert_fails_with("uses computed statements", 'only a Lambda with "iam_from"')

    def test_all_actions_listing_writes_fails(self) -> None:
        self.use_all_reads("flatten([for id, a in local.catalog : concat(a.read, a.write)])")
        self.lambdas["lambdas"]["worker"]["iam_from"]["parts"] = ["read", "write"]
        self.assert_fails_with('iam_from with "all_actions" may list the "read" part only')

    def test_all_actions_granting_writes_fails(self) -> None:
        self.use_all_reads("flatten([for id, a in local.catalog : a.write])")
        self.assert_fails_with(
            "grants worker the 'write' actions of remediation_actions.json, but iam_from of worker",
            "lists the 'read' actions of remediation_actions.json, but no computed statement grants them",
        )

    def test_all_actions_with_a_filter_fails(self) -> None:
        self.use_all_reads('flatten([for id, a in local.catalog : a.read if id != "fix-a"])')
        self.assert_fails_with("uses local.catalog other than as [for ID, E in local.catalog : E.<part>]")

    def test_all_actions_indexed_by_a_variable_fails(self) -> None:
        # The enabled-only shape under an all_actions entry.
        self.use_all_reads("flatten([for id in var.enabled : local.catalog[id].read])")
        self.files["terraform/catalog.tf"] += 'variable "enabled" {\n  description = "d"\n  type        = list(string)\n  default     = []\n}\n'
        self.assert_fails_with("uses local.catalog other than as [for ID", "uses var.enabled: with all_actions the actions are those of every catalog entry")

    def test_all_actions_through_a_function_that_drops_actions_fails(self) -> None:
        self.use_all_reads("slice(sort(flatten([for id, a in local.catalog : a.read])), 0, 1)")
        self.assert_fails_with("calls slice(): with all_actions only")

    def test_iam_from_with_both_enabled_by_and_all_actions_fails(self) -> None:
        self.use_all_reads()
        self.lambdas["lambdas"]["worker"]["iam_from"]["enabled_by"] = "enabled"
        self.assert_fails_with('and either "enabled_by": <root variable> or "all_actions": true')

    def test_iam_from_with_neither_enabled_by_nor_all_actions_fails(self) -> None:
        self.use_all_reads()
        del self.lambdas["lambdas"]["worker"]["iam_from"]["all_actions"]
        self.assert_fails_with('and either "enabled_by": <root variable> or "all_actions": true')

    def test_enabled_by_entry_granted_every_id_fails(self) -> None:
        # The all-ids shape under an enabled_by entry (the remediator's writes).
        self.use_all_reads()
        self.lambdas["lambdas"]["worker"]["iam_from"] = {"file": "remediation_actions.json", "parts": ["read"], "enabled_by": "enabled"}
        self.assert_fails_with("uses local.catalog other than as local.catalog[ID].<part> for ID in var.<enabled")

    # --- actions granted only when a root variable is set (iam_when) --------------------

    def use_assume_role(self) -> None:
        """The api's and remediator's shape: sts:AssumeRole on one role name in any
        account, only when a root variable (default "") is set."""
        self.files["terraform/assume.tf"] = (
            'variable "member_role" {\n  description = "d"\n  type        = string\n  default     = ""\n}\n\n'
            'data "aws_partition" "current" {}\n\n'
            "locals {\n  partition = data.aws_partition.current.partition\n}\n"
        )
        self.edit(
            "terraform/main.tf",
            'data "aws_iam_policy_document" "worker" {\n',
            'data "aws_iam_policy_document" "worker" {\n'
            '  dynamic "statement" {\n'
            '    for_each = var.member_role == "" ? [] : [var.member_role]\n\n'
            "    content {\n"
            '      actions   = ["sts:AssumeRole"]\n'
            '      resources = ["arn:${local.partition}:iam::*:role/${var.member_role}"]\n'
            "    }\n  }\n\n",
        )
        self.lambdas["lambdas"]["worker"]["iam_when"] = [
            {"variable": "member_role", "actions": ["sts:AssumeRole"], "resources": ["arn:{partition}:iam::*:role/{value}"]}
        ]

    def test_conditional_grant_keyed_on_a_root_variable_passes(self) -> None:
        self.use_assume_role()
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 0, err)
        self.assertIn("conditional statements verified: 1", out)
        self.assertIn("IAM actions verified: 7", out)  # the static list is still exact

    def test_conditional_grant_without_iam_when_fails(self) -> None:
        self.use_assume_role()
        del self.lambdas["lambdas"]["worker"]["iam_when"]
        self.assert_fails_with("is keyed on var.member_role, which is not passed down unchanged from a root variable named by iam_when of worker")

    def test_iam_when_without_conditional_statement_fails(self) -> None:
        self.use_assume_role()
        self.edit("terraform/main.tf", 'actions   = ["sts:AssumeRole"]', 'actions   = local.nothing')
        self.files["terraform/assume.tf"] += "\nlocals {\n  nothing = []\n}\n"
        self.assert_fails_with("iam_when of worker in", "lists sts:AssumeRole when member_role is set, but no conditional statement")

    def test_conditional_grant_on_any_role_fails(self) -> None:
        self.use_assume_role()
        self.edit("terraform/main.tf", ":role/${var.member_role}", ":role/*")
        self.assert_fails_with("grants ['sts:AssumeRole'] on ['arn:{partition}:iam::*:role/*'], but iam_when (member_role) of worker")

    def test_conditional_grant_of_another_action_fails(self) -> None:
        self.use_assume_role()
        self.edit("terraform/main.tf", '["sts:AssumeRole"]', '["sts:AssumeRole", "sts:TagSession"]')
        self.assert_fails_with("grants ['sts:AssumeRole', 'sts:TagSession'] on")

    def test_conditional_grant_interpolating_something_else_fails(self) -> None:
        self.use_assume_role()
        self.edit("terraform/main.tf", "iam::*:role/", "iam::${local.prefix}:role/")
        self.assert_fails_with("interpolates ${local.prefix}: only the partition and var.member_role may appear")

    def test_conditional_grant_that_is_always_on_fails(self) -> None:
        self.use_assume_role()
        self.edit("terraform/main.tf", 'for_each = var.member_role == "" ? [] : [var.member_role]', "for_each = [var.member_role]")
        self.assert_fails_with('has a for_each other than var.X == "" ? [] : [<one value>]')

    def test_conditional_grant_keyed_on_another_variable_fails(self) -> None:
        self.use_assume_role()
        self.edit("terraform/main.tf", 'for_each = var.member_role == ""', 'for_each = var.dist == ""')
        self.assert_fails_with("is keyed on var.dist, which is not passed down unchanged")

    def test_conditional_grant_on_by_default_fails(self) -> None:
        self.use_assume_role()
        self.files["terraform/assume.tf"] = self.files["terraform/assume.tf"].replace('default     = ""', 'default     = "ops"')
        self.assert_fails_with('gates iam_when of worker in', 'does not default to ""')

    def test_conditional_action_also_in_the_static_list_fails(self) -> None:
        self.use_assume_role()
        self.lambdas["lambdas"]["worker"]["iam"].append("sts:AssumeRole")
        self.assert_fails_with("sts:AssumeRole is listed both in iam and in iam_when (member_role)")

    def test_iam_when_with_an_unknown_placeholder_fails(self) -> None:
        self.use_assume_role()
        self.lambdas["lambdas"]["worker"]["iam_when"][0]["resources"] = ["arn:{partition}:iam::{account}:role/{value}"]
        self.assert_fails_with("iam_when must be a list of")

    # --- roles assumed in other accounts (member_roles) --------------------------------

    # The remediation member roles' shape: one module the root does not call, applied
    # in other accounts, building a writer (the reads of every catalog entry and the
    # writes of the entries its variable enables), trusted by one variable, and a
    # planner named <writer>-planner (the reads only), trusted by another.
    MEMBER_MAIN = """
variable "role_name" {
  description = "d"
  type        = string
}

variable "writer_trusted" {
  description = "d"
  type        = list(string)
}

variable "planner_trusted" {
  description = "d"
  type        = list(string)
}

variable "enabled" {
  description = "d"
  type        = list(string)
  default     = []
}

locals {
  base      = var.role_name
  catalog   = jsondecode(file("${path.module}/../../../remediation_actions.json")).actions
  all_reads = sort(distinct(flatten([for id, a in local.catalog : a.read])))
  writes    = sort(distinct(flatten([for id in var.enabled : try(local.catalog[id].write, [])])))
  protected = [aws_iam_role.writer.arn, aws_iam_role.planner.arn]
}

data "aws_iam_policy_document" "writer_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.writer_trusted
    }
  }
}

resource "aws_iam_role" "writer" {
  name               = local.base
  assume_role_policy = data.aws_iam_policy_document.writer_trust.json
}

data "aws_iam_policy_document" "writer" {
  statement {
    actions   = local.all_reads
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = length(local.writes) > 0 ? [local.writes] : []

    content {
      actions   = statement.value
      resources = ["*"]
    }
  }

  statement {
    effect    = "Deny"
    actions   = ["iam:DetachRolePolicy"]
    resources = local.protected
  }
}

resource "aws_iam_role_policy" "writer" {
  role   = aws_iam_role.writer.id
  policy = data.aws_iam_policy_document.writer.json
}

data "aws_iam_policy_document" "planner_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = var.planner_trusted
    }
  }
}

resource "aws_iam_role" "planner" {
  name               = "${local.base}-planner"
  assume_role_policy = data.aws_iam_policy_document.planner_trust.json
}

data "aws_iam_policy_document" "planner" {
  statement {
    actions   = local.all_reads
    resources = ["*"]
  }

  statement {
    effect    = "Deny"
    actions   = ["iam:DetachRolePolicy"]
    resources = local.protected
  }
}

resource "aws_iam_role_policy" "planner" {
  role   = aws_iam_role.planner.id
  policy = data.aws_iam_policy_document.planner.json
}

output "writer_role_arn" {
  description = "d"
  value       = aws_iam_role.writer.arn
}
"""

    # A second Lambda, the api's shape: reads of every catalog entry, and
    # sts:AssumeRole on the planner (<member_role>-planner) when member_role is set.
    READER = """
data "aws_iam_policy_document" "reader" {
  statement {
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.t.arn]
  }

  statement {
    actions   = local.all_reads
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.member_role == "" ? [] : [var.member_role]

    content {
      actions   = ["sts:AssumeRole"]
      resources = ["arn:${local.partition}:iam::*:role/${var.member_role}-planner"]
    }
  }
}

module "reader" {
  source       = "./modules/lambda"
  function_key = "reader"
  zip_path     = "${var.dist}/reader/bootstrap.zip"
  policy_json  = data.aws_iam_policy_document.reader.json

  environment = {
    RUST_LOG = "info"
  }
}

locals {
  all_reads = sort(distinct(flatten([for id, a in local.catalog : a.read])))
}

# What an operator passes to the member roles' trust variables.
output "writer_trusted" {
  description = "d"
  value       = [module.worker.role_arn]
}

output "planner_trusted" {
  description = "d"
  value       = [module.reader.role_arn]
}
"""

    ROLE_ARN_OUTPUT = """
output "role_arn" {
  description = "d"
  value       = aws_iam_role.this.arn
}
"""

    def use_member_role(self) -> None:
        """The remediation shape: the worker (the remediator: reads and writes of the
        enabled entries) may assume the writer, the reader (the api: reads of every
        entry) the planner, each role trusting the one Lambda the root's output names."""
        self.use_assume_role()
        self.use_catalog()
        self.files["terraform/reader.tf"] = self.READER
        self.files["terraform/modules/lambda/main.tf"] += self.ROLE_ARN_OUTPUT
        self.files["terraform/modules/member/main.tf"] = self.MEMBER_MAIN
        self.lambdas["lambdas"]["reader"] = {
            "binary": "reader",
            "env": ["RUST_LOG"],
            "iam": ["dynamodb:GetItem"],
            "iam_from": {"file": "remediation_actions.json", "parts": ["read"], "all_actions": True},
            "iam_when": [{"variable": "member_role", "actions": ["sts:AssumeRole"], "resources": ["arn:{partition}:iam::*:role/{value}-planner"]}],
        }
        self.lambdas["member_roles"] = {
            "_comment": "c",
            "writer": {
                "module": "modules/member",
                "role": "writer",
                "arn": "arn:{partition}:iam::*:role/{value}",
                "assumed_by": ["worker"],
                "trusted_by": "writer_trusted",
                "trust_output": "writer_trusted",
                "iam": [],
                "iam_from": [
                    {"file": "remediation_actions.json", "parts": ["read"], "all_actions": True},
                    {"file": "remediation_actions.json", "parts": ["write"], "enabled_by": "enabled"},
                ],
            },
            "planner": {
                "module": "modules/member",
                "role": "planner",
                "arn": "arn:{partition}:iam::*:role/{value}-planner",
                "assumed_by": ["reader"],
                "trusted_by": "planner_trusted",
                "trust_output": "planner_trusted",
                "iam": [],
                "iam_from": {"file": "remediation_actions.json", "parts": ["read"], "all_actions": True},
            },
        }

    def test_member_role_module_passes(self) -> None:
        self.use_member_role()
        rc, out, err = self.run_checker()
        self.assertEqual(rc, 0, err)
        self.assertIn("member roles checked: 2", out)
        self.assertIn("member role trust outputs traced: 2", out)
        # worker 1, reader 1, writer 2 (reads, writes), planner 1
        self.assertIn("catalog statements verified: 5", out)
        self.assertIn("conditional statements verified: 2", out)
        self.assertIn("module folders accounted for: 2", out)

    def test_uncalled_module_folder_fails(self) -> None:
        self.use_member_role()
        del self.lambdas["member_roles"]["writer"]
        del self.lambdas["member_roles"]["planner"]
        self.assert_fails_with("modules/member: no module block reached from the root calls this folder", "it would never be checked")

    def test_member_role_module_called_from_the_root_fails(self) -> None:
        self.use_member_role()
        self.files["terraform/main.tf"] += (
            '\nmodule "member" {\n  source          = "./modules/member"\n  role_name       = "m"\n'
            "  writer_trusted  = []\n  planner_trusted = []\n}\n"
        )
        self.assert_fails_with("member_roles.writer:", "is called from the root; a member role module is applied on its own")

    def test_member_role_of_the_module_no_entry_names_fails(self) -> None:
        self.use_member_role()
        del self.lambdas["member_roles"]["planner"]
        self.lambdas["lambdas"]["reader"]["iam_when"][0]["resources"] = ["arn:{partition}:iam::*:role/{value}"]
        self.edit("terraform/reader.tf", "${var.member_role}-planner", "${var.member_role}")
        self.lambdas["member_roles"]["writer"]["assumed_by"] = ["worker", "reader"]
        self.assert_fails_with("resource aws_iam_role.planner: no member_roles entry of", "names this role: its trust and actions would never be checked")

    def test_member_role_naming_a_missing_role_fails(self) -> None:
        self.use_member_role()
        self.lambdas["member_roles"]["planner"]["role"] = "reader"
        self.assert_fails_with("member_roles.planner: role 'reader' is not an aws_iam_role of")

    def test_member_role_without_role_in_a_module_of_two_fails(self) -> None:
        self.use_member_role()
        del self.lambdas["member_roles"]["planner"]["role"]
        self.assert_fails_with('defines 2 aws_iam_role resources (planner, writer); name this entry\'s with "role"')

    def test_member_role_literal_action_not_listed_fails(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", "  statement {\n    actions   = local.all_reads", '  statement {\n    actions   = ["iam:PassRole"]\n    resources = ["*"]\n  }\n\n  statement {\n    actions   = local.all_reads')
        self.assert_fails_with("IAM action iam:PassRole granted to member role writer is not listed for it")

    def test_member_role_writes_of_every_entry_fail(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", "[for id in var.enabled : try(local.catalog[id].write, [])]", "[for id, a in local.catalog : a.write]")
        self.assert_fails_with(
            "satisfies none of its iam_from entries: entry 1 (read of every entry):",
            "lists the 'write' actions of remediation_actions.json (write of enabled_by enabled), but no computed statement grants them",
        )

    def test_member_role_reads_of_enabled_entries_only_fail(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", "[for id, a in local.catalog : a.read]", "[for id in var.enabled : local.catalog[id].read]")
        self.assert_fails_with("lists the 'read' actions of remediation_actions.json (read of every entry), but no computed statement grants them")

    def test_planner_role_granted_writes_fails(self) -> None:
        self.use_member_role()
        self.edit(
            "terraform/modules/member/main.tf",
            'data "aws_iam_policy_document" "planner" {\n',
            'data "aws_iam_policy_document" "planner" {\n  statement {\n    actions   = local.writes\n    resources = ["*"]\n  }\n\n',
        )
        # The writes are those of the enabled entries; the planner's only entry is the
        # reads of every entry.
        self.assert_fails_with("a computed statement (granted to planner, iam_from in", "uses var.enabled: with all_actions the actions are those of every catalog entry")

    def test_planner_role_listed_with_writes_its_lambda_lacks_fails(self) -> None:
        # Even with lambdas.json and the module agreeing, a role the reader (api)
        # assumes may not hold the writes the reader does not have itself.
        self.use_member_role()
        self.lambdas["member_roles"]["planner"]["iam_from"] = self.lambdas["member_roles"]["writer"]["iam_from"]
        self.edit(
            "terraform/modules/member/main.tf",
            'data "aws_iam_policy_document" "planner" {\n',
            'data "aws_iam_policy_document" "planner" {\n  statement {\n    actions   = local.writes\n    resources = ["*"]\n  }\n\n',
        )
        err = self.assert_fails_with("member_roles.planner: grants the 'write' part of the catalog, which reader (assumed_by) is not granted itself")
        self.assertNotIn("member_roles.writer: grants", err)

    def test_member_role_literal_action_its_lambda_lacks_fails(self) -> None:
        self.use_member_role()
        self.lambdas["member_roles"]["planner"]["iam"] = ["dynamodb:PutItem"]
        self.edit("terraform/modules/member/main.tf", '  statement {\n    actions   = local.all_reads\n    resources = ["*"]\n  }\n\n  statement {\n    effect', '  statement {\n    actions   = local.all_reads\n    resources = ["*"]\n  }\n\n  statement {\n    actions   = ["dynamodb:PutItem"]\n    resources = ["*"]\n  }\n\n  statement {\n    effect')
        self.assert_fails_with("member_roles.planner: grants dynamodb:PutItem, which reader (assumed_by) is not granted itself (its iam)")

    def test_member_role_trusting_anyone_fails(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", "identifiers = var.writer_trusted", 'identifiers = ["*"]')
        self.assert_fails_with("may trust AWS principals (the deployment's roles) only, without wildcards")

    def test_member_role_trusting_a_service_fails(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", 'type        = "AWS"', 'type        = "Service"')
        self.assert_fails_with("may trust AWS principals (the deployment's roles) only")

    def test_planner_role_trusting_the_writers_principals_fails(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", "identifiers = var.planner_trusted", "identifiers = var.writer_trusted")
        self.assert_fails_with("data aws_iam_policy_document.planner_trust: trusts '${var.writer_trusted}', but member_roles.planner", "trusts var.planner_trusted only (trusted_by)")

    def test_writer_role_trusting_both_variables_fails(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", "identifiers = var.writer_trusted", "identifiers = concat(var.writer_trusted, var.planner_trusted)")
        self.assert_fails_with("data aws_iam_policy_document.writer_trust: trusts", "member_roles.writer", "trusts var.writer_trusted only (trusted_by)")

    def test_two_roles_trusting_the_same_variable_fail(self) -> None:
        self.use_member_role()
        self.lambdas["member_roles"]["planner"]["trusted_by"] = "writer_trusted"
        self.assert_fails_with("member_roles.planner: trusted_by writer_trusted is already that of member_roles.writer")

    def test_trusted_by_an_undeclared_variable_fails(self) -> None:
        self.use_member_role()
        self.lambdas["member_roles"]["planner"]["trusted_by"] = "nobody"
        self.assert_fails_with("member_roles.planner: trusted_by must name the variable of")

    def test_planner_trust_output_naming_the_writers_lambda_fails(self) -> None:
        self.use_member_role()
        self.edit("terraform/reader.tf", "value       = [module.reader.role_arn]", "value       = [module.reader.role_arn, module.worker.role_arn]")
        self.assert_fails_with("output planner_trusted: leads to the roles of reader, worker, but member_roles.planner", "is assumed by reader only")

    def test_trust_output_that_is_no_lambda_role_fails(self) -> None:
        self.use_member_role()
        self.edit("terraform/reader.tf", "value       = [module.reader.role_arn]", 'value       = ["arn:aws:iam::111122223333:role/x"]')
        self.assert_fails_with("output planner_trusted: must be a list of Lambda execution role ARNs")

    def test_missing_trust_output_fails(self) -> None:
        self.use_member_role()
        self.lambdas["member_roles"]["writer"]["trust_output"] = "nowhere"
        self.assert_fails_with("member_roles.writer: trust_output must name the root output")

    def test_member_role_without_deny_on_itself_fails(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", "protected = [aws_iam_role.writer.arn, aws_iam_role.planner.arn]", "protected = [aws_iam_role.writer.arn]")
        self.assert_fails_with("resource aws_iam_role.planner: no Deny statement of its policy covers aws_iam_role.planner.arn")

    def test_member_role_with_attached_managed_policy_fails(self) -> None:
        self.use_member_role()
        self.files["terraform/modules/member/main.tf"] += (
            '\nresource "aws_iam_role_policy_attachment" "admin" {\n  role       = aws_iam_role.planner.name\n'
            '  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"\n}\n'
        )
        self.assert_fails_with("attaches a policy whose actions cannot be checked against member_roles.planner")

    def test_member_role_assumed_by_a_lambda_that_cannot_assume_fails(self) -> None:
        self.use_member_role()
        del self.lambdas["lambdas"]["worker"]["iam_when"]
        self.edit("terraform/main.tf", 'actions   = ["sts:AssumeRole"]', 'actions   = local.nothing')
        self.files["terraform/assume.tf"] += "\nlocals {\n  nothing = []\n}\n"
        self.assert_fails_with("member_roles.writer: assumed_by lists worker, whose iam_when grants no sts:AssumeRole on arn:{partition}:iam::*:role/{value}")

    def test_lambda_assuming_the_writer_it_is_not_listed_for_fails(self) -> None:
        # The api's shape given the writer: its plans could then make changes.
        self.use_member_role()
        self.lambdas["lambdas"]["reader"]["iam_when"][0]["resources"] = ["arn:{partition}:iam::*:role/{value}"]
        self.edit("terraform/reader.tf", "${var.member_role}-planner", "${var.member_role}")
        self.assert_fails_with(
            "reader: its iam_when grants sts:AssumeRole on arn:{partition}:iam::*:role/{value}, the arn of member_roles.writer, whose assumed_by does not list reader",
            "member_roles.planner: assumed_by lists reader, whose iam_when grants no sts:AssumeRole on arn:{partition}:iam::*:role/{value}-planner",
        )

    def test_lambda_assuming_both_roles_fails(self) -> None:
        self.use_member_role()
        self.lambdas["lambdas"]["reader"]["iam_when"][0]["resources"].append("arn:{partition}:iam::*:role/{value}")
        self.edit("terraform/reader.tf", '"arn:${local.partition}:iam::*:role/${var.member_role}-planner"]', '"arn:${local.partition}:iam::*:role/${var.member_role}-planner", "arn:${local.partition}:iam::*:role/${var.member_role}"]')
        self.assert_fails_with("reader: its iam_when grants sts:AssumeRole on arn:{partition}:iam::*:role/{value}, the arn of member_roles.writer")

    def test_lambda_assuming_a_role_no_member_role_is_fails(self) -> None:
        self.use_member_role()
        self.lambdas["lambdas"]["reader"]["iam_when"][0]["resources"] = ["arn:{partition}:iam::*:role/{value}-admin"]
        self.edit("terraform/reader.tf", "${var.member_role}-planner", "${var.member_role}-admin")
        self.assert_fails_with("reader: its iam_when grants sts:AssumeRole on arn:{partition}:iam::*:role/{value}-admin, the arn of no member role")

    def test_planner_role_named_other_than_its_arn_fails(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", 'name               = "${local.base}-planner"', 'name               = "${local.base}-reads"')
        self.assert_fails_with("resource aws_iam_role.planner: its name '${local.base}-reads' must be one interpolated base followed by '-planner' literally")

    def test_member_roles_named_from_different_bases_fail(self) -> None:
        self.use_member_role()
        self.edit("terraform/modules/member/main.tf", 'name               = "${local.base}-planner"', 'name               = "${var.enabled[0]}-planner"')
        self.assert_fails_with("from another base or path")

    def test_member_role_arn_that_is_no_template_fails(self) -> None:
        self.use_member_role()
        self.lambdas["member_roles"]["planner"]["arn"] = "arn:aws:iam::*:role/x"
        self.assert_fails_with("member_roles.planner: arn must be the template arn:{partition}:iam::*:role/{value}<suffix>")

    # --- expression parsing -----------------------------------------------------------

    def test_template_text_and_quoted_literals_are_not_code(self) -> None:
        self.assertEqual(template_code("The ${var.k} Lambda was throttled (x)."), ["var.k"])
        self.assertEqual(template_code("s3://${aws_s3_bucket.a.id}/dt=$${dt}/"), ["aws_s3_bucket.a.id"])
        self.assertEqual(
            template_code('${jsonencode({ A = ["s3:Get("], R = "${aws_s3_bucket.b.arn}/*" })}'),
            ['jsonencode({ A = [""], R = "" })', "aws_s3_bucket.b.arn"],
        )

    # --- the real tree ----------------------------------------------------------------

    def test_repository_terraform_passes(self) -> None:
        contract = os.path.join(REPO, "backend", "lambdas.json")
        rc, out, err = self.run_checker(os.path.join(REPO, "terraform"), contract)
        self.assertEqual(rc, 0, err)
        self.assertIn("check_terraform: OK", out)
        with open(contract, encoding="utf-8") as f:
            expected = len(json.load(f)["lambdas"])
        self.assertIn(f"lambda instances checked: {expected}\n", out)


if __name__ == "__main__":
    unittest.main()
