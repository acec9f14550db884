"""WebSocket API checks of scripts/check_terraform.py, kept apart so that file stays
about its general checks. `terraform validate` accepts a WebSocket API whose route has
no target, a $connect without its authorizer, a function API Gateway may not invoke, or
a CloudFront distribution without the behavior that reaches the stage; each of these
deploys and then fails only when a browser connects. So, per aws_apigatewayv2_api with
protocol_type WEBSOCKET:

  routes       $connect, $disconnect and $default exist, each targets an
               aws_apigatewayv2_integration of the same API, AWS_PROXY to a Lambda
               module instance listed in backend/lambdas.json
  authorizer   $connect has authorization_type CUSTOM and an authorizer of the same
               API: REQUEST, with identity sources, its function a listed Lambda
  permissions  every function the API invokes (integrations, authorizer) has an
               aws_lambda_permission for apigateway.amazonaws.com whose source_arn
               names this API (its execution_arn, or that of one of its stages)
  stage        exactly one aws_apigatewayv2_stage, with access logs
  cloudfront   a distribution of the same module has an origin whose domain is this
               API's api_endpoint and an ordered_cache_behavior whose path_pattern is
               exactly /<stage name> (the browser's path is the stage's, no rewrite)
               to that origin, with the managed CachingDisabled cache policy and an
               origin request policy that forwards the query string (the ticket)
"""

from __future__ import annotations

import re
from typing import Any

from terraform_model import IDENT, NOT_AFTER, Module, expressions, first_block

ROUTES = ("$connect", "$disconnect", "$default")

# AWS managed CloudFront policies (ids are global constants).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# Origin request policies that forward every query string and the viewer's
# Sec-WebSocket-* headers: AllViewer, AllViewerExceptHostHeader.
FORWARDS_QUERY = {"216adef6-5c7f-47e4-b989-5492eafa07d3", "b689b0a8-53d0-40ab-baf2-68738e2966ac"}

RE_LOCAL_ONLY = re.compile(r"\$\{local\.(" + IDENT + r")\}")


def _ref(value: Any, rtype: str, attr: str) -> str | None:
    """N when value is exactly ${rtype.N.attr}."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\$\{" + re.escape(rtype) + r"\.(" + IDENT + r")\." + re.escape(attr) + r"\}", value.strip())
    return m.group(1) if m else None


def _local(mod: Module, value: Any) -> Any:
    """value, or the local it is exactly (${local.x}), one level."""
    if isinstance(value, str):
        m = RE_LOCAL_ONLY.fullmatch(value.strip())
        if m and m.group(1) in mod.locals:
            return mod.locals[m.group(1)]
    return value


def _mentions(mod: Module, value: Any, pattern: str) -> bool:
    return any(re.search(NOT_AFTER + pattern, e) for e in expressions(_local(mod, value)))


def check_websocket_apis(chk: Any, insts: list, lambdas: dict) -> None:
    """chk is the check_terraform.Checker (err, count, trace, lambda_keys)."""
    for inst in insts:
        mod = inst.module
        for (t, api), body in mod.resources.items():
            if t == "aws_apigatewayv2_api" and body.get("protocol_type") == "WEBSOCKET":
                _check_api(chk, inst, api, lambdas)


def _of_api(mod: Module, rtype: str, api: str) -> dict[str, dict]:
    return {n: b for (t, n), b in mod.resources.items() if t == rtype and _ref(b.get("api_id"), "aws_apigatewayv2_api", "id") == api}


def _lambda_key(chk: Any, inst: Any, value: Any) -> str | None:
    fn = chk.trace(inst, value)
    if fn and fn[1] == "aws_lambda_function":
        return chk.lambda_keys.get(fn[0].address)
    return None


def _check_api(chk: Any, inst: Any, api: str, lambdas: dict) -> None:
    mod = inst.module
    label = f"resource aws_apigatewayv2_api.{api}"
    chk.count("websocket apis checked")
    routes = {_local(mod, b.get("route_key")): (n, b) for n, b in _of_api(mod, "aws_apigatewayv2_route", api).items()}
    integrations = _of_api(mod, "aws_apigatewayv2_integration", api)
    authorizers = _of_api(mod, "aws_apigatewayv2_authorizer", api)
    invoked: dict[str, str] = {}  # function key -> what invokes it

    for key in ROUTES:
        if key not in routes:
            chk.err(mod, label, f"has no {key} route (aws_apigatewayv2_route with api_id = aws_apigatewayv2_api.{api}.id)")
            continue
        name, route = routes[key]
        rlabel = f"resource aws_apigatewayv2_route.{name}"
        target = route.get("target")
        m = re.fullmatch(r"integrations/\$\{aws_apigatewayv2_integration\.(" + IDENT + r")\.id\}", str(target or "").strip())
        if not m or m.group(1) not in integrations:
            chk.err(mod, rlabel, f"route {key} has no target integration of this API (target = \"integrations/${{aws_apigatewayv2_integration.<name>.id}}\"), got {target!r}")
            continue
        integ = integrations[m.group(1)]
        ilabel = f"resource aws_apigatewayv2_integration.{m.group(1)}"
        if integ.get("integration_type") != "AWS_PROXY":
            chk.err(mod, ilabel, f"integration_type is {integ.get('integration_type')!r}; the live routes proxy to a Lambda (AWS_PROXY)")
        fkey = _lambda_key(chk, inst, integ.get("integration_uri"))
        if fkey is None:
            chk.err(mod, ilabel, f"integration_uri {integ.get('integration_uri')!r} does not lead to a Lambda module instance listed in {chk.lambdas_file}")
        else:
            invoked.setdefault(fkey, ilabel)
        chk.count("websocket routes verified")

    if "$connect" in routes:
        name, route = routes["$connect"]
        rlabel = f"resource aws_apigatewayv2_route.{name}"
        auth = _ref(route.get("authorizer_id"), "aws_apigatewayv2_authorizer", "id")
        if route.get("authorization_type") != "CUSTOM" or auth not in authorizers:
            chk.err(mod, rlabel, "$connect must be authorized: authorization_type = \"CUSTOM\" and authorizer_id = an aws_apigatewayv2_authorizer of this API")
        else:
            ab = authorizers[auth]
            alabel = f"resource aws_apigatewayv2_authorizer.{auth}"
            if ab.get("authorizer_type") != "REQUEST" or not ab.get("identity_sources"):
                chk.err(mod, alabel, "must be a REQUEST authorizer with identity_sources (a connect without them is refused before the function runs)")
            akey = _lambda_key(chk, inst, ab.get("authorizer_uri"))
            if akey is None:
                chk.err(mod, alabel, f"authorizer_uri {ab.get('authorizer_uri')!r} does not lead to a Lambda module instance listed in {chk.lambdas_file}")
            else:
                invoked.setdefault(akey, alabel)

    stages = _of_api(mod, "aws_apigatewayv2_stage", api)
    permission_refs = [rf"aws_apigatewayv2_api\.{re.escape(api)}\.execution_arn\b"] + [rf"aws_apigatewayv2_stage\.{re.escape(s)}\.execution_arn\b" for s in stages]
    for fkey, who in sorted(invoked.items()):
        ok = False
        for (t, n), b in mod.resources.items():
            if t != "aws_lambda_permission" or _lambda_key(chk, inst, b.get("function_name")) != fkey:
                continue
            if b.get("principal") == "apigateway.amazonaws.com" and any(_mentions(mod, b.get("source_arn"), r) for r in permission_refs):
                ok = True
        if ok:
            chk.count("websocket lambda permissions verified")
        else:
            chk.err(mod, who, f"invokes {fkey}, but no aws_lambda_permission lets apigateway.amazonaws.com do so with a source_arn of aws_apigatewayv2_api.{api} (its execution_arn or a stage's)")

    if len(stages) != 1:
        chk.err(mod, label, f"has {len(stages)} aws_apigatewayv2_stage resources; exactly one (its name is the CloudFront path)")
        return
    sname, stage = next(iter(stages.items()))
    stage_name = _local(mod, stage.get("name"))
    if not (first_block(stage, "access_log_settings") or {}).get("destination_arn"):
        chk.err(mod, f"resource aws_apigatewayv2_stage.{sname}", "has no access_log_settings.destination_arn")
    if not isinstance(stage_name, str) or "${" in stage_name or not re.fullmatch(r"[A-Za-z0-9_-]+", stage_name):
        chk.err(mod, f"resource aws_apigatewayv2_stage.{sname}", f"name must be a literal (or a local holding one) to be checked against the CloudFront path, got {stage_name!r}")
        return
    _check_cloudfront(chk, mod, api, stage_name)


def _check_cloudfront(chk: Any, mod: Module, api: str, stage_name: str) -> None:
    where = f"resource aws_apigatewayv2_api.{api}"
    path = f"/{stage_name}"
    dists = [(n, b) for (t, n), b in mod.resources.items() if t == "aws_cloudfront_distribution"]
    if not dists:
        chk.err(mod, where, f"no aws_cloudfront_distribution in this module reaches it (a behavior {path} to an origin on its api_endpoint)")
        return
    endpoint = rf"aws_apigatewayv2_api\.{re.escape(api)}\.api_endpoint\b"
    for dname, dist in dists:
        origins = {_local(mod, o.get("origin_id")) for o in dist.get("origin", []) or [] if _mentions(mod, o.get("domain_name"), endpoint)}
        if not origins:
            chk.err(mod, f"resource aws_cloudfront_distribution.{dname}", f"has no origin whose domain_name is aws_apigatewayv2_api.{api}.api_endpoint")
            continue
        behaviors = [b for b in dist.get("ordered_cache_behavior", []) or [] if _local(mod, b.get("target_origin_id")) in origins]
        exact = [b for b in behaviors if b.get("path_pattern") == path]
        if not exact:
            got = ", ".join(repr(b.get("path_pattern")) for b in behaviors) or "none"
            chk.err(mod, f"resource aws_cloudfront_distribution.{dname}", f"has no ordered_cache_behavior with path_pattern exactly {path!r} to the WebSocket origin (the stage is {stage_name!r}; behaviors to that origin: {got})")
            continue
        b = exact[0]
        if _local(mod, b.get("cache_policy_id")) != CACHING_DISABLED:
            chk.err(mod, f"resource aws_cloudfront_distribution.{dname}", f"behavior {path}: cache_policy_id must be the managed CachingDisabled policy ({CACHING_DISABLED})")
        if _local(mod, b.get("origin_request_policy_id")) not in FORWARDS_QUERY:
            chk.err(mod, f"resource aws_cloudfront_distribution.{dname}", f"behavior {path}: origin_request_policy_id must forward the query string and WebSocket headers (managed AllViewer or AllViewerExceptHostHeader)")
        chk.count("websocket cloudfront behaviors verified")
