#!/usr/bin/env python3
"""Consistency checks on terraform/, standing in for `terraform validate` (which needs
provider downloads and cannot run offline) and going further where it matters to us.

Run:  python3 scripts/check_terraform.py [--terraform DIR] [--lambdas FILE]
Needs python-hcl2 (scripts/check_infra.sh provides it in a cached venv).

What is checked, per module (every folder reached from the root through local
`module` sources) and per Lambda:
  functions   every function called is a Terraform built-in; variable validations
              refer to their own variable only and have an error message
  references  every var.X, local.X, module.M(.OUTPUT), data.T.N and resource T.N used
              in an expression is declared (in that module / by that module's output);
              every declared variable is used and has a description and a type;
              every output has a description
  tfvars      terraform.tfvars.example sets only root variables, and every required one
  module      every call passes only variables the module declares and all required
  calls       ones; the source is a local folder; provider aliases the module uses
              are passed in
  lambdas     every aws_lambda_function has a log group it logs to, an alarm on its
              own metrics and a dead-letter queue or on-failure destination
  contract    for each Lambda instance (identified by its `function_key` argument),
              against backend/lambdas.json: the zip is <binary>/bootstrap.zip, the
              environment variables are exactly the listed ones, and the IAM actions of
              the code policy are exactly the listed ones; the role's other (runtime)
              policies grant only the runtime actions every Lambda needs; nothing else
              (managed policies, policies attached from outside) touches the role.
              An entry with "iam_from" (backend/lambdas.json) is also granted
              actions Terraform reads from a catalog file (remediation_actions.json):
              only through computed statements of its code policy (`dynamic
              "statement"` blocks, or statements whose actions are an expression),
              whose actions come from a local that is jsondecode(file(...)) of
              exactly that file, with only the listed parts ("read", "write"), and
              no literal action. Which entries: with "enabled_by": <root variable>,
              only as local.C[ID].PART for ID in that root variable (passed down
              unchanged), and no other variable; with "all_actions": true, only as
              [for ID, E in local.C : E.PART] (every entry, no filter), no variable
              at all and no function that could drop an action; "all_actions" may
              list the "read" part only (writes are granted per enabled action,
              never for all). The catalog's actions may not be wildcards, and its
              "read" parts hold only Get/List/Describe actions. Without "iam_from",
              computed statements are refused (their actions cannot be checked).
              An entry with "iam_when" is also granted its listed actions when a
              root variable is set: only through `dynamic "statement"` blocks with a
              literal list of actions (conditional statements) whose for_each is
              var.X == "" ? [] : [<one value>], X passed down unchanged from that root
              variable (which defaults to ""), with exactly the entry's actions on
              exactly its resources (templates: {partition}, {value} for X), never
              also in the static list. A conditional statement no entry lists fails.
              An environment variable named *TABLE or *TABLE_NAME must lead (through
              variables, module arguments and outputs) to an aws_dynamodb_table's name.
  member      every "member_roles" entry of backend/lambdas.json: a role a Lambda
  roles       assumes in other accounts, built by a module folder the root must not
              call (an operator applies it in each account), checked as a root of its
              own like any module (one module may build several roles: "role" names
              the aws_iam_role, and every role of the module must be some entry's),
              and: trusting named AWS principals only (sts:AssumeRole, no wildcard),
              exactly the module variable "trusted_by", which the root output
              "trust_output" fills with the execution roles of exactly the Lambdas of
              "assumed_by" (traced through module outputs); granted only through
              aws_iam_role_policy with documents whose literal actions are exactly
              "iam" and whose computed statements meet "iam_from" ("enabled_by" naming
              a variable of the module; one entry or a list:
              each statement meets one entry, each entry's parts are granted), never
              a catalog part or literal action a Lambda of "assumed_by" lacks itself
              (so a role the api assumes has no write); a Deny statement covering the
              role's own ARN; named ${<base>}<suffix>, the suffix that of its "arn"
              template (arn:{partition}:iam::*:role/{value}<suffix>), with the same
              base and path for every role of the module. Each Lambda of "assumed_by"
              has sts:AssumeRole on "arn" in its "iam_when", and every sts:AssumeRole
              of an "iam_when" is on the "arn" of a member role listing that Lambda
              (so the api can assume the planner role only).
  uncalled    every folder under <root>/modules is reached from the root or is a
  modules     member role's module: a folder neither would never be checked.
  tables      every aws_dynamodb_table: each key (table, GSI, LSI) has an attribute
              block and each attribute block is a key (AWS rejects both mistakes at
              apply); point-in-time recovery on; encrypted with a customer key;
              deletion_protection_enabled set; a ttl block names its attribute and is
              enabled; a stream has a view type, and a stream_arn is only used when
              the stream is enabled
  event       every aws_lambda_event_source_mapping: its source and function are
  sources     traced through variables, module arguments and outputs to a resource
              (a DynamoDB table's stream_arn or an SQS queue; a Lambda module
              instance); it reports batch item failures (ReportBatchItemFailures).
              Stream sources: NEW_AND_OLD_IMAGES (the change feed needs the item before
              and after), a starting position, bisect on error, bounded retries and
              record age, and an on-failure destination encrypted with a customer key
              (a failing record must neither block its shard forever nor vanish).
              SQS sources: no destination_config (streams only), a redrive policy on
              the queue. The function's actions in backend/lambdas.json include what
              the poller needs (stream or queue reads, sending to the destination).
  list        a GSI named in LIST_INDEXES (its rows are served as list items, e.g. a
  indexes     live resume) projects every field of LIST_PROJECTION in
              backend/src/store/dynamo/item.rs (a field left out is silently missing)
  websocket   WebSocket APIs: routes, integrations, the $connect authorizer, invoke
              permissions, the stage and the CloudFront behavior that reaches it
              (scripts/terraform_websocket.py)
Prints what it verified (counts); exits 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from terraform_websocket import check_websocket_apis
from terraform_model import (
    BUILTIN_FUNCTIONS,
    RE_CALL,
    IDENT,
    NOT_AFTER,
    RE_DATA,
    RE_LOCAL,
    RE_MODULE,
    RE_PROVIDER_REF,
    RE_VAR,
    Module,
    expressions,
    first_block,
    load_module,
    parse_file,
    resource_ref_re,
    strings,
    template_code,
)

# Arguments of a `module` block that are not input variables.
META_ARGS = {"source", "version", "count", "for_each", "providers", "depends_on"}

# What every Lambda needs to run, whatever its code does: write its own logs and
# traces, dead-letter a failed asynchronous event. backend/lambdas.json may override
# this list with a top-level "runtime_iam" array.
DEFAULT_RUNTIME_IAM = [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "sqs:SendMessage",
]


# What the event source mapping's poller does with the function's role, by source
# kind, and what it needs to send to an on-failure destination, by destination type.
POLLER_IAM = {
    "dynamodb_stream": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
    "sqs": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
}
DESTINATION_IAM = {"aws_sqs_queue": "sqs:SendMessage", "aws_sns_topic": "sns:Publish"}

# Indexes whose rows are served as list items (the live `resume` on AWS): they must
# project every field the code reads for one, LIST_PROJECTION in this file.
LIST_INDEXES = {"SeverityChangeIndex"}
LIST_PROJECTION_FILE = os.path.join("backend", "src", "store", "dynamo", "item.rs")
RE_LIST_PROJECTION = re.compile(r"\bLIST_PROJECTION\s*:\s*\[&str;\s*\d+\]\s*=\s*\[(.*?)\];", re.S)

# A catalog file's entry parts a Lambda may be granted through "iam_from", and the
# verbs a "read" part may hold (a plan must not change anything).
CATALOG_PARTS = {"read", "write"}
RE_READ_ACTION = re.compile(r"^[a-z0-9-]+:(Get|List|Describe)[A-Za-z0-9]*$")
RE_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")
# jsondecode(file("PATH")) in a raw expression string, and the part selected from
# an entry of what it decodes (`local.catalog[id].read`).
RE_DECODED_FILE = re.compile(r'jsondecode\(\s*file\(\s*"((?:[^"\\]|\\.)*)"\s*\)\s*\)')
# Functions an "all_actions" grant may be built with: none of them can drop an
# entry's action (slice, setsubtract, a filtering for, ... could).
ALL_ACTIONS_FUNCTIONS = {"sort", "distinct", "flatten", "concat", "tolist", "toset", "length", "jsondecode", "file"}

# The for_each of a conditional statement ("iam_when"): once when the variable is
# set, never otherwise.
RE_CONDITIONAL_FOR_EACH = re.compile(r'\$\{\s*var\.(' + IDENT + r')\s*==\s*""\s*\?\s*\[\s*\]\s*:\s*\[\s*[^\[\],]+?\s*\]\s*\}')
# The placeholders of an "iam_when" resource template.
WHEN_PLACEHOLDERS = {"partition", "value"}
# The "arn" of a member role: its name, the iam_when variable's value and a suffix,
# in any account.
RE_MEMBER_ARN = re.compile(r"arn:\{partition\}:iam::\*:role/\{value\}([\w+=,.@-]*)")

# Environment variables that name a DynamoDB table.
RE_TABLE_ENV = re.compile(r"(^|_)TABLE(_NAME)?$")

RE_EXACT_VAR = re.compile(r"\$\{var\.(" + IDENT + r")\}")
RE_EXACT_MODULE_OUTPUT = re.compile(r"\$\{module\.(" + IDENT + r")\.(" + IDENT + r")\}")
RE_EXACT_ATTRIBUTE = re.compile(r"\$\{(" + IDENT + r")\.(" + IDENT + r")\.(" + IDENT + r")\}")


@dataclass
class Policy:
    """The Allow statements of one aws_iam_policy_document: the literal actions, its
    computed statements, whose actions are only known at plan time (the for_each
    and content actions of each `dynamic "statement"` block whose actions are not a
    literal list, and the actions of each plain statement whose actions are one
    expression, for_each None), and its conditional statements: `dynamic
    "statement"` blocks with a literal list of actions (for_each and content), which
    grant those actions or not depending on their for_each."""

    actions: set[str]
    computed: list[dict]
    module: Module
    name: str
    conditional: list[dict] = field(default_factory=list)


@dataclass
class Instance:
    """One instantiation of a module, reached from the root through calls."""

    address: str  # "module.compute.module.scanner" ("" for the root)
    module: Module
    args: dict  # the call's arguments ({} for the root)
    caller: "Instance | None"


class Checker:
    def __init__(self, terraform_dir: str, lambdas_file: str, list_projection_file: str = LIST_PROJECTION_FILE) -> None:
        self.root_dir = os.path.normpath(terraform_dir)
        self.lambdas_file = lambdas_file
        self.list_projection_file = list_projection_file
        self._list_projection: list[str] | None = None
        self.errors: list[str] = []
        self.counts: dict[str, int] = {}
        self.modules: dict[str, Module] = {}
        self.lambda_keys: dict[str, str] = {}  # Lambda module instance address -> function key
        self.by_address: dict[str, Instance] = {}
        self._catalogs: dict[str, dict | None] = {}

    # --- loading -------------------------------------------------------------------

    def module_at(self, path: str) -> Module:
        path = os.path.normpath(path)
        if path not in self.modules:
            mod = load_module(path)
            self.modules[path] = mod
            self.errors.extend(mod.errors)
        return self.modules[path]

    def callee_path(self, caller: Module, call_name: str, body: dict) -> str | None:
        source = body.get("source")
        if not isinstance(source, str) or not source.startswith(("./", "../")):
            self.err(caller, f"module {call_name}", f"source {source!r} is not a local folder (./ or ../); it cannot be checked offline")
            return None
        return os.path.normpath(os.path.join(caller.path, source))

    def instances(self) -> list[Instance]:
        """Every module instance, depth first from the root (cycles reported)."""
        out: list[Instance] = []

        def walk(inst: Instance, stack: tuple[str, ...]) -> None:
            out.append(inst)
            for name, body in inst.module.calls.items():
                path = self.callee_path(inst.module, name, body)
                if path is None:
                    continue
                if path in stack:
                    self.errors.append(f"{inst.module.path}: module {name} calls {path}, which is already in the call chain (cycle)")
                    continue
                child = Instance(f"{inst.address}.module.{name}".lstrip("."), self.module_at(path), body, inst)
                walk(child, stack + (path,))

        root = self.module_at(self.root_dir)
        walk(Instance("", root, {}, None), (root.path,))
        return out

    def err(self, mod: Module, label: str, msg: str) -> None:
        where = mod.where.get(label, mod.path)
        self.errors.append(f"{where}: {label}: {msg}")

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def trace(self, inst: Instance, value: Any, depth: int = 0) -> tuple[Instance, str, str, str] | None:
        """(instance, TYPE, NAME, ATTR) of the resource attribute value finally is:
        follows a bare var.X to the caller's argument and a bare module.M.OUT to the
        callee's output value. None when it ends anywhere else (a literal, a function
        call, a root variable...)."""
        if depth > 32 or not isinstance(value, str):
            return None
        v = value.strip()
        m = RE_EXACT_VAR.fullmatch(v)
        if m:
            if inst.caller is None or m.group(1) not in inst.args:
                return None
            return self.trace(inst.caller, inst.args[m.group(1)], depth + 1)
        m = RE_EXACT_MODULE_OUTPUT.fullmatch(v)
        if m:
            child = self.by_address.get(f"{inst.address}.module.{m.group(1)}".lstrip("."))
            if child is None or m.group(2) not in child.module.outputs:
                return None
            return self.trace(child, child.module.outputs[m.group(2)].get("value"), depth + 1)
        m = RE_EXACT_ATTRIBUTE.fullmatch(v)
        if m and (m.group(1), m.group(2)) in inst.module.resources:
            return inst, m.group(1), m.group(2), m.group(3)
        return None

    # --- references ------------------------------------------------------------------

    def check_references(self, mod: Module, prefixes: set[str]) -> None:
        re_res = resource_ref_re(prefixes)
        used_vars: set[str] = set()
        for label, body in mod.all_bodies():
            if label.startswith("variable "):
                # `type` holds type constructors (map(string)...), not function calls.
                body = {k: v for k, v in body.items() if k != "type"}
            for expr in expressions(body):
                for m in RE_CALL.finditer(expr):
                    self.count("function calls checked")
                    if m.group(1) not in BUILTIN_FUNCTIONS:
                        self.err(mod, label, f"{m.group(1)}() is not a Terraform built-in function")
                for m in RE_VAR.finditer(expr):
                    used_vars.add(m.group(1))
                    self.count("references checked: var")
                    if m.group(1) not in mod.variables:
                        self.err(mod, label, f"var.{m.group(1)} is not declared in this module")
                for m in RE_LOCAL.finditer(expr):
                    self.count("references checked: local")
                    if m.group(1) not in mod.locals:
                        self.err(mod, label, f"local.{m.group(1)} is not defined in this module")
                for m in RE_DATA.finditer(expr):
                    self.count("references checked: data")
                    if (m.group(1), m.group(2)) not in mod.data:
                        self.err(mod, label, f"data.{m.group(1)}.{m.group(2)} is not declared in this module")
                for m in re_res.finditer(expr):
                    self.count("references checked: resource")
                    if (m.group(1), m.group(2)) not in mod.resources:
                        self.err(mod, label, f"resource {m.group(1)}.{m.group(2)} is not declared in this module")
                for m in RE_MODULE.finditer(expr):
                    self.count("references checked: module")
                    name, out = m.group(1), m.group(2)
                    if name not in mod.calls:
                        self.err(mod, label, f"module.{name} is not called in this module")
                        continue
                    if out is None:
                        continue
                    path = self.callee_path(mod, name, mod.calls[name])
                    if path is not None and out not in self.module_at(path).outputs:
                        self.err(mod, label, f"module.{name}.{out}: module {name} ({os.path.relpath(path)}) has no output {out}")
        for name, body in mod.variables.items():
            # Before Terraform 1.9 a validation may only refer to its own variable.
            for v in body.get("validation", []) or []:
                others = {m.group(1) for m in RE_VAR.finditer(str(v.get("condition", "")))} - {name}
                if others:
                    self.err(mod, f"variable {name}", f"validation refers to other variables ({', '.join(sorted(others))}); Terraform < 1.9 rejects that")
                if name not in {m.group(1) for m in RE_VAR.finditer(str(v.get("condition", "")))}:
                    self.err(mod, f"variable {name}", "validation condition does not refer to var." + name)
                if not v.get("error_message"):
                    self.err(mod, f"variable {name}", "validation has no error_message")
            if name not in used_vars:
                self.err(mod, f"variable {name}", "declared but never used")
            for attr in ("description", "type"):
                if not body.get(attr):
                    self.err(mod, f"variable {name}", f"has no {attr}")
        for name, body in mod.outputs.items():
            if not body.get("description"):
                self.err(mod, f"output {name}", "has no description")

    # --- module calls ----------------------------------------------------------------

    def check_call(self, caller: Module, name: str, body: dict) -> None:
        path = self.callee_path(caller, name, body)
        if path is None:
            return
        callee = self.module_at(path)
        args = {k for k in body if k not in META_ARGS and k != "__is_block__"}
        label = f"module {name}"
        for a in sorted(args - set(callee.variables)):
            self.err(caller, label, f"passes {a}, which {os.path.relpath(path)} does not declare")
        required = {v for v, b in callee.variables.items() if "default" not in b}
        for a in sorted(required - args):
            self.err(caller, label, f"does not pass required variable {a} of {os.path.relpath(path)}")
        self.count("module calls checked")
        self.count("module arguments checked", len(args))
        # Provider aliases the module declares (configuration_aliases) must be passed.
        passed = set()
        for block in body.get("providers", []) if isinstance(body.get("providers"), list) else [body.get("providers") or {}]:
            if isinstance(block, dict):
                passed |= {str(k).strip("${}") for k in block if k != "__is_block__"}
        for alias in sorted(callee.provider_aliases):
            if alias not in passed:
                self.err(caller, label, f"does not pass provider {alias}, which {os.path.relpath(path)} requires")

    def check_provider_refs(self, mod: Module) -> None:
        for (t, n), body in mod.resources.items():
            ref = body.get("provider")
            if ref is None:
                continue
            m = RE_PROVIDER_REF.match(str(ref))
            alias = f"{m.group(1)}.{m.group(2)}" if m else str(ref)
            if alias not in mod.provider_aliases:
                self.err(mod, f"resource {t}.{n}", f"provider {alias} is neither configured nor a configuration_alias of this module")

    # --- Lambdas ---------------------------------------------------------------------

    def ref_target(self, value: Any, rtype: str, mod: Module) -> str | None:
        """Name N when value references resource rtype.N of this module."""
        if not isinstance(value, str):
            return None
        m = re.search(NOT_AFTER + re.escape(rtype) + r"\.(" + IDENT + ")", value)
        if m and (rtype, m.group(1)) in mod.resources:
            return m.group(1)
        return None

    def check_lambda_operability(self, mod: Module) -> None:
        """Log group, alarm and DLQ/destination for every function definition."""
        for (t, fn), body in mod.resources.items():
            if t != "aws_lambda_function":
                continue
            label = f"resource {t}.{fn}"
            self.count("lambda definitions checked")
            lc = first_block(body, "logging_config") or {}
            lg = self.ref_target(lc.get("log_group"), "aws_cloudwatch_log_group", mod)
            if lg is None:
                fname = body.get("function_name")
                lg = next(
                    (n for (rt, n), b in mod.resources.items() if rt == "aws_cloudwatch_log_group" and isinstance(fname, str) and b.get("name") == "/aws/lambda/" + fname),
                    None,
                )
            if lg is None:
                self.err(mod, label, "has no log group (logging_config.log_group referencing an aws_cloudwatch_log_group, or one named /aws/lambda/<function_name>)")
            elif not mod.resources[("aws_cloudwatch_log_group", lg)].get("retention_in_days"):
                self.err(mod, f"resource aws_cloudwatch_log_group.{lg}", "has no retention_in_days")

            alarms = 0
            for (rt, n), b in mod.resources.items():
                if rt != "aws_cloudwatch_metric_alarm":
                    continue
                dims = [b.get("dimensions")]
                for q in b.get("metric_query", []) or []:
                    for met in q.get("metric", []) or []:
                        dims.append(met.get("dimensions"))
                if any(isinstance(d, dict) and self.ref_target(d.get("FunctionName"), "aws_lambda_function", mod) == fn for d in dims):
                    alarms += 1
            if alarms == 0:
                self.err(mod, label, "has no CloudWatch alarm (an aws_cloudwatch_metric_alarm with dimension FunctionName = this function)")

            dlq = first_block(body, "dead_letter_config") or {}
            has_dlq = bool(dlq.get("target_arn"))
            for (rt, n), b in mod.resources.items():
                if rt == "aws_lambda_function_event_invoke_config" and self.ref_target(b.get("function_name"), "aws_lambda_function", mod) == fn:
                    dc = first_block(b, "destination_config") or {}
                    of = first_block(dc, "on_failure") or {}
                    has_dlq = has_dlq or bool(of.get("destination"))
            if not has_dlq:
                self.err(mod, label, "has neither dead_letter_config.target_arn nor an on_failure destination")
            self.count("lambda log groups/alarms/DLQs verified", 1 if lg and alarms and has_dlq else 0)

    def policy_actions(self, mod: Module, doc_name: str, owner: str) -> Policy | None:
        """Allowed actions of data.aws_iam_policy_document.doc_name in mod."""
        body = mod.data.get(("aws_iam_policy_document", doc_name))
        label = f"data aws_iam_policy_document.{doc_name}"
        if body is None:
            self.err(mod, owner, f"data.aws_iam_policy_document.{doc_name} is not declared")
            return None
        for k in ("source_policy_documents", "override_policy_documents", "source_json", "override_json"):
            if k in body:
                self.err(mod, label, f"uses {k}; its actions cannot be checked statically")
                return None
        computed: list[dict] = []
        conditional: list[dict] = []
        for block in body.get("dynamic", []) or []:
            for kind, spec in (block.items() if isinstance(block, dict) else []):
                content = first_block(spec, "content") if isinstance(spec, dict) else None
                if kind != "statement" or content is None:
                    self.err(mod, label, f"uses dynamic {kind!r}; only dynamic statements (with a content block) can be checked")
                    return None
                if content.get("effect", "Allow") != "Allow":
                    continue
                if "not_actions" in content:
                    self.err(mod, label, "a dynamic Allow statement uses not_actions (grants everything else)")
                acts = content.get("actions")
                if isinstance(acts, list) and acts and all(isinstance(a, str) and "${" not in a for a in acts):
                    conditional.append({"for_each": spec.get("for_each"), "content": content})
                    continue
                computed.append({"for_each": spec.get("for_each"), "actions": acts})
        actions: set[str] = set()
        for st in body.get("statement", []):
            if st.get("effect", "Allow") != "Allow":
                continue
            if "not_actions" in st:
                self.err(mod, label, "an Allow statement uses not_actions (grants everything else)")
            acts = st.get("actions", [])
            if isinstance(acts, str) and re.fullmatch(r"\$\{.*\}", acts.strip(), re.S):
                # One expression (actions = local.x): checked like a dynamic statement.
                computed.append({"for_each": None, "actions": acts})
                continue
            if not isinstance(acts, list) or not all(isinstance(a, str) and "${" not in a for a in acts):
                self.err(mod, label, "actions must be a literal list of strings to be checked")
                continue
            for a in acts:
                if "*" in a:
                    self.err(mod, label, f"wildcard action {a}")
                actions.add(a)
        return Policy(actions, computed, mod, doc_name, conditional)

    def resolve_policy(self, inst: Instance, value: Any, owner: str) -> tuple[str, Policy | None]:
        """('code'|'runtime', policy) of a role policy value, following var.X to the caller."""
        mod = inst.module
        m = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(" + IDENT + r")\.json\}", str(value).strip())
        if m:
            return "runtime", self.policy_actions(mod, m.group(1), owner)
        m = re.fullmatch(r"\$\{var\.(" + IDENT + r")\}", str(value).strip())
        if m and inst.caller is not None:
            arg = inst.args.get(m.group(1))
            m2 = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(" + IDENT + r")\.json\}", str(arg).strip())
            if m2:
                return "code", self.policy_actions(inst.caller.module, m2.group(1), f"module {inst.address.split('.')[-1]}")
            self.err(inst.caller.module, f"module {inst.address.split('.')[-1]}", f"{m.group(1)} must be data.aws_iam_policy_document.<name>.json so its actions can be checked")
            return "code", None
        self.err(mod, owner, "policy must be data.aws_iam_policy_document.<name>.json (or a variable holding one) so its actions can be checked")
        return "code", None

    def check_lambda_contract(self, insts: list[Instance], lambdas: dict, runtime_iam: list[str]) -> None:
        deployed: dict[str, str] = {}
        lambda_instances: set[str] = set()
        for inst in insts:
            mod = inst.module
            fns = [n for (t, n) in mod.resources if t == "aws_lambda_function"]
            if not fns:
                continue
            call_label = f"module {inst.address.split('.')[-1]}" if inst.caller else "root"
            caller_mod = inst.caller.module if inst.caller else mod
            if inst.caller is None or "function_key" not in mod.variables:
                self.err(mod, f"resource aws_lambda_function.{fns[0]}", "Lambdas must be defined in a module with a function_key variable, so each instance maps to an entry of backend/lambdas.json")
                continue
            if len(fns) > 1:
                self.err(mod, f"resource aws_lambda_function.{fns[1]}", "a Lambda module must define exactly one function")
            lambda_instances.add(inst.address)
            key = inst.args.get("function_key")
            if not isinstance(key, str) or "${" in key:
                self.err(caller_mod, call_label, "function_key must be a literal string")
                continue
            if key not in lambdas:
                self.err(caller_mod, call_label, f"function_key {key!r} is not in {self.lambdas_file} (known: {', '.join(sorted(lambdas))})")
                continue
            if key in deployed:
                self.err(caller_mod, call_label, f"function {key!r} is already deployed by {deployed[key]}")
            deployed[key] = inst.address
            self.lambda_keys[inst.address] = key
            spec = lambdas[key]
            fn_body = mod.resources[("aws_lambda_function", fns[0])]
            self.count("lambda instances checked")

            # zip
            binary = spec.get("binary", key)
            fname = fn_body.get("filename")
            m = re.fullmatch(r"\$\{var\.(" + IDENT + r")\}", str(fname).strip())
            zip_value = inst.args.get(m.group(1)) if m else fname
            if not isinstance(zip_value, str) or not zip_value.endswith(f"/{binary}/bootstrap.zip"):
                self.err(caller_mod, call_label, f"zip for {key} is {zip_value!r}; expected <dist dir>/{binary}/bootstrap.zip")

            # environment
            env_block = first_block(fn_body, "environment") or {}
            variables = env_block.get("variables")
            m = re.fullmatch(r"\$\{var\.(" + IDENT + r")\}", str(variables).strip()) if isinstance(variables, str) else None
            env = inst.args.get(m.group(1)) if m else variables
            env_label = call_label if m else f"resource aws_lambda_function.{fns[0]}"
            env_mod = caller_mod if m else mod
            if variables is None:
                env = {}
            if not isinstance(env, dict):
                self.err(env_mod, env_label, f"environment of {key} must be a literal map so its names can be checked, got {env!r}")
            else:
                have = {k for k in env if k != "__is_block__"}
                want = set(spec.get("env", []))
                for v in sorted(have - want):
                    self.err(env_mod, env_label, f"environment variable {v} is set on {key} but not listed for it in {self.lambdas_file}")
                for v in sorted(want - have):
                    self.err(env_mod, env_label, f"environment variable {v} listed for {key} in {self.lambdas_file} is not set")
                self.count("environment variables verified", len(have & want))
                env_inst = inst.caller if m else inst
                for v in sorted(n for n in have if RE_TABLE_ENV.search(n)):
                    target = self.trace(env_inst, env[v])
                    if target is None or target[1] != "aws_dynamodb_table" or target[3] not in ("name", "id"):
                        self.err(env_mod, env_label, f"environment variable {v} of {key} names a table but does not lead to an aws_dynamodb_table's name (got {env[v]!r})")
                    else:
                        self.count("table environment variables traced")

            # IAM
            role = self.ref_target(fn_body.get("role"), "aws_iam_role", mod)
            if role is None:
                self.err(mod, f"resource aws_lambda_function.{fns[0]}", "role must reference an aws_iam_role of the same module")
                continue
            role_body = mod.resources[("aws_iam_role", role)]
            for k in ("managed_policy_arns", "inline_policy"):
                if k in role_body:
                    self.err(mod, f"resource aws_iam_role.{role}", f"uses {k}; grant through aws_iam_role_policy with a checked policy document")
            code: set[str] = set()
            runtime: set[str] = set()
            code_computed: list[tuple[Policy, dict]] = []
            code_conditional: list[tuple[Policy, dict]] = []
            code_policies = 0
            for (t, n), b in mod.resources.items():
                if self.ref_target(b.get("role"), "aws_iam_role", mod) != role:
                    continue
                if t == "aws_iam_role_policy":
                    kind, policy = self.resolve_policy(inst, b.get("policy"), f"resource {t}.{n}")
                    if policy is None:
                        continue
                    if kind == "code":
                        code_policies += 1
                        code |= policy.actions
                        code_computed += [(policy, st) for st in policy.computed]
                        code_conditional += [(policy, st) for st in policy.conditional]
                    else:
                        runtime |= policy.actions
                        if policy.computed or policy.conditional:
                            self.err(policy.module, f"data aws_iam_policy_document.{policy.name}", "a runtime policy uses computed statements (dynamic, or actions = an expression); its actions cannot be checked")
                elif t.startswith("aws_iam_"):
                    self.err(mod, f"resource {t}.{n}", "attaches a policy whose actions cannot be checked against backend/lambdas.json")
            if code_policies == 0:
                self.err(mod, f"resource aws_iam_role.{role}", f"no code policy (aws_iam_role_policy with policy = var.<x>) grants {key} its listed actions")
            low = lambda s: {a.lower(): a for a in s}  # noqa: E731 - IAM actions are case-insensitive
            have, want = low(code), low(spec.get("iam", []))
            for a in sorted(set(have) - set(want)):
                self.err(caller_mod, call_label, f"IAM action {have[a]} granted to {key} is not listed for it in {self.lambdas_file}")
            for a in sorted(set(want) - set(have)):
                self.err(caller_mod, call_label, f"IAM action {want[a]} listed for {key} in {self.lambdas_file} is not granted")
            allowed, granted = low(runtime_iam), low(runtime)
            for a in sorted(set(granted) - set(allowed)):
                self.err(mod, f"resource aws_iam_role.{role}", f"runtime policy grants {granted[a]}, which is not a runtime action ({', '.join(runtime_iam)}); code actions belong in {self.lambdas_file}")
            self.count("IAM actions verified", len(set(have) & set(want)))
            self.count("runtime IAM actions verified", len(runtime))
            self.check_catalog_grants(inst.caller, key, spec, code_computed, caller_mod, call_label)
            self.check_conditional_grants(inst.caller, key, spec, code_conditional, caller_mod, call_label)

        for key in sorted(set(lambdas) - set(deployed)):
            self.errors.append(f"{self.lambdas_file}: function {key!r} is not deployed by any Lambda module instance (function_key = \"{key}\")")

        # Nothing outside a Lambda module may attach policies to a Lambda role.
        for inst in insts:
            for (t, n), b in inst.module.resources.items():
                if not t.startswith("aws_iam_"):
                    continue
                for expr in expressions(b.get("role", "")):
                    for m in RE_MODULE.finditer(expr):
                        if f"{inst.address}.module.{m.group(1)}".lstrip(".") in lambda_instances:
                            self.err(inst.module, f"resource {t}.{n}", f"grants to the role of Lambda module {m.group(1)} from outside; grants must go through its checked code policy")

    # --- actions granted only when a root variable is set ("iam_when") -----------------

    def partition_refs(self, mod: Module) -> set[str]:
        """Expressions that are the AWS partition in mod: data.aws_partition.N.partition
        and the locals defined as exactly that."""
        refs = {f"data.aws_partition.{n}.partition" for (t, n) in mod.data if t == "aws_partition"}
        for n, v in mod.locals.items():
            m = re.fullmatch(r"\$\{\s*(.*?)\s*\}", v.strip()) if isinstance(v, str) else None
            if m and m.group(1) in refs:
                refs.add(f"local.{n}")
        return refs

    def when_template(self, mod: Module, resource: str, var_name: str | None, problems: list[str]) -> str | None:
        """The "iam_when" template a literal resource ARN is: ${var.<var_name>} as
        {value}, the partition as {partition}; None (with a problem) when it
        interpolates anything else or holds a literal brace."""
        if re.search(r"(?<!\$)\{", resource):
            problems.append(f"resource {resource!r} holds a literal brace")
            return None
        partition = self.partition_refs(mod)
        out, ok = [], True
        last = 0
        for m in re.finditer(r"\$\{([^{}]*)\}", resource):
            out.append(resource[last : m.start()])
            body = m.group(1).strip()
            if var_name is not None and body == f"var.{var_name}":
                out.append("{value}")
            elif body in partition:
                out.append("{partition}")
            else:
                problems.append(f"resource {resource!r} interpolates ${{{body}}}: only the partition and var.{var_name or '<X>'} may appear")
                ok = False
            last = m.end()
        out.append(resource[last:])
        text = "".join(out)
        if "${" in text:
            problems.append(f"resource {resource!r} is not a plain template")
            return None
        return text if ok else None

    def check_conditional_grants(self, doc_inst: Instance | None, key: str, spec: dict, conditional: list[tuple[Policy, dict]], caller_mod: Module, call_label: str) -> None:
        """Conditional statements of key's code policy (dynamic statements with literal
        actions) against its "iam_when" entries: each is keyed on a root variable
        listed there (for_each = var.X == "" ? [] : [<one value>], X passed down
        unchanged), grants exactly the entry's actions on exactly its resources
        (templates with {partition} and {value}, the variable's value), and every entry
        is granted so. The variable defaults to "" (the grant is off unless set), and
        the actions are not in the static list too (they would be granted anyway)."""
        entries = spec.get("iam_when")
        if not conditional and not entries:
            return
        entries = [] if entries is None else entries

        def valid(e: Any) -> bool:
            return (
                isinstance(e, dict)
                and isinstance(e.get("variable"), str)
                and isinstance(e.get("actions"), list)
                and bool(e["actions"])
                and all(isinstance(a, str) and RE_ACTION.match(a) for a in e["actions"])
                and isinstance(e.get("resources"), list)
                and bool(e["resources"])
                and all(isinstance(r, str) and set(re.findall(r"\{([^}]*)\}", r)) <= WHEN_PLACEHOLDERS for r in e["resources"])
            )

        if not isinstance(entries, list) or not all(valid(e) for e in entries):
            self.errors.append(f'{self.lambdas_file}: {key}: iam_when must be a list of {{"variable": <root variable>, "actions": [IAM actions, no wildcard], "resources": [ARN templates, placeholders {{partition}} and {{value}} only]}}')
            return
        static = {a.lower() for a in spec.get("iam", [])}
        root = self.module_at(self.root_dir)
        for e in entries:
            for a in e["actions"]:
                if a.lower() in static:
                    self.errors.append(f"{self.lambdas_file}: {key}: {a} is listed both in iam and in iam_when ({e['variable']}): it would be granted whatever the variable")
            rv = root.variables.get(e["variable"])
            if rv is None:
                self.errors.append(f"{self.lambdas_file}: {key}: iam_when names {e['variable']}, which is not a root variable")
            elif rv.get("default") != "":
                self.err(root, f"variable {e['variable']}", f"gates iam_when of {key} in {self.lambdas_file} but does not default to \"\" (the grant must be off unless it is set)")
        matched = [False] * len(entries)
        for policy, st in conditional:
            mod, label = policy.module, f"data aws_iam_policy_document.{policy.name}"
            content, problems = st["content"], []
            m = RE_CONDITIONAL_FOR_EACH.fullmatch(str(st["for_each"]).strip())
            var_name = m.group(1) if m else None
            root_var = self.root_variable(doc_inst, var_name) if (m and doc_inst) else None
            if m is None:
                problems.append('has a for_each other than var.X == "" ? [] : [<one value>] (the statement once when the root variable X is set, never otherwise)')
            candidates = [i for i, e in enumerate(entries) if root_var is not None and e["variable"] == root_var]
            if m and not candidates:
                problems.append(f"is keyed on var.{var_name}, which is not passed down unchanged from a root variable named by iam_when of {key} in {self.lambdas_file}")
            for k in ("not_resources", "principals", "not_principals"):
                if k in content:
                    problems.append(f"uses {k}")
            resources = content.get("resources")
            templates: list[str] = []
            if not isinstance(resources, list) or not resources or not all(isinstance(r, str) for r in resources):
                problems.append("must list its resources literally (ARN templates)")
            else:
                templates = [t for t in (self.when_template(mod, r, var_name, problems) for r in resources) if t is not None]
            acts = {a.lower() for a in content["actions"]}
            fit = [i for i in candidates if acts == {a.lower() for a in entries[i]["actions"]} and set(templates) == set(entries[i]["resources"])]
            if candidates and not fit and not problems:
                want = entries[candidates[0]]
                problems.append(f"grants {sorted(content['actions'])} on {sorted(templates)}, but iam_when ({want['variable']}) of {key} in {self.lambdas_file} lists {sorted(want['actions'])} on {sorted(want['resources'])}")
            if problems:
                for p in dict.fromkeys(problems):
                    self.err(mod, label, f"a conditional statement (dynamic, literal actions; granted to {key}) {p}")
                continue
            matched[fit[0]] = True
            self.count("conditional statements verified")
        for e, ok in zip(entries, matched):
            if not ok:
                self.err(caller_mod, call_label, f"iam_when of {key} in {self.lambdas_file} lists {', '.join(e['actions'])} when {e['variable']} is set, but no conditional statement (a dynamic statement keyed on it) grants them")

    # --- roles assumed in other accounts ("member_roles") ------------------------------

    def load_member_roles(self, contract: dict, reached: set[str]) -> dict[str, tuple[Instance, dict]]:
        """The modules of the "member_roles" of the contract, each loaded as a root of
        its own (an operator applies it in every account concerned; the root must not
        call it)."""
        roles = contract.get("member_roles", {})
        out: dict[str, tuple[Instance, dict]] = {}
        if not isinstance(roles, dict):
            self.errors.append(f"{self.lambdas_file}: member_roles must be an object (role key -> entry)")
            return out
        for key, entry in roles.items():
            if key.startswith("_"):
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("module"), str) or not isinstance(entry.get("iam", []), list):
                self.errors.append(f'{self.lambdas_file}: member_roles.{key} must be {{"module": <folder under the root>, "role": <aws_iam_role name>, "arn": <ARN template>, "assumed_by": [Lambda keys], "trusted_by": <module variable>, "trust_output": <root output>, "iam": [...], "iam_from": ...}}')
                continue
            path = os.path.normpath(os.path.join(self.root_dir, entry["module"]))
            if path in reached:
                self.errors.append(f"{self.lambdas_file}: member_roles.{key}: {os.path.relpath(path)} is called from the root; a member role module is applied on its own, in each account")
                continue
            out[key] = (Instance(f"member_roles.{key}", self.module_at(path), {}, None), entry)
        return out

    def check_uncalled_modules(self) -> None:
        """Every module folder under <root>/modules is either reached from the root or
        the module of a member role: an uncalled module would never be checked."""
        base = os.path.join(self.root_dir, "modules")
        if not os.path.isdir(base):
            return
        for name in sorted(os.listdir(base)):
            path = os.path.normpath(os.path.join(base, name))
            if not os.path.isdir(path) or not any(f.endswith(".tf") for f in os.listdir(path)):
                continue
            if path in self.modules:
                self.count("module folders accounted for")
            else:
                self.errors.append(f"{os.path.relpath(path)}: no module block reached from the root calls this folder, and no member_roles entry of {self.lambdas_file} names it: it would never be checked")

    def trace_list(self, inst: Instance, value: Any, depth: int = 0) -> list[tuple[Instance, str, str, str]] | None:
        """The resource attributes a list value is made of: a literal list whose
        elements each trace() to one, or a bare var.X / module.M.OUT leading to such
        a list. None when it is anything else."""
        if depth > 32:
            return None
        if isinstance(value, list):
            out = [self.trace(inst, v) for v in value]
            return None if any(t is None for t in out) else [t for t in out if t is not None]
        if not isinstance(value, str):
            return None
        v = value.strip()
        m = RE_EXACT_VAR.fullmatch(v)
        if m:
            if inst.caller is None or m.group(1) not in inst.args:
                return None
            return self.trace_list(inst.caller, inst.args[m.group(1)], depth + 1)
        m = RE_EXACT_MODULE_OUTPUT.fullmatch(v)
        if m:
            child = self.by_address.get(f"{inst.address}.module.{m.group(1)}".lstrip("."))
            if child is None or m.group(2) not in child.module.outputs:
                return None
            return self.trace_list(child, child.module.outputs[m.group(2)].get("value"), depth + 1)
        return None

    def lambda_of_role(self, target: tuple[Instance, str, str, str]) -> str | None:
        """The function key whose execution role target (an aws_iam_role's arn in a
        Lambda module instance, the role its function runs with) is; None otherwise."""
        inst, rtype, name, attr = target
        key = self.lambda_keys.get(inst.address)
        if key is None or rtype != "aws_iam_role" or attr != "arn":
            return None
        fns = [b for (t, _), b in inst.module.resources.items() if t == "aws_lambda_function"]
        if len(fns) != 1 or self.ref_target(fns[0].get("role"), "aws_iam_role", inst.module) != name:
            return None
        return key

    @staticmethod
    def catalog_parts(spec: dict) -> set[str]:
        """The catalog parts ("read", "write") an entry's "iam_from" lists."""
        src = spec.get("iam_from")
        srcs = src if isinstance(src, list) else [src] if src else []
        return {p for one in srcs if isinstance(one, dict) for p in (one.get("parts") or []) if isinstance(p, str)}

    def check_member_roles(self, roles: dict[str, tuple[Instance, dict]], lambdas: dict) -> None:
        """Each member role against its entry: the aws_iam_role it names ("role"; one
        module may build several, and every role of such a module must be named by an
        entry), trusted by AWS principals only (no wildcard), and only by the module
        variable "trusted_by", which the root output "trust_output" fills with the
        execution roles of exactly the Lambdas of "assumed_by"; granted only through
        aws_iam_role_policy with checked documents: literal actions exactly "iam",
        computed ones against "iam_from", and nothing (no catalog part, no literal
        action) that a Lambda of "assumed_by" is not granted itself; a Deny statement
        protects the role itself; named <base><suffix> as its "arn" template says
        (the same base and path for every role of the module); and each Lambda of
        "assumed_by" may assume it (sts:AssumeRole on "arn" in its iam_when), while
        every sts:AssumeRole of an iam_when is on the arn of a member role that lists
        the Lambda in "assumed_by"."""
        root_inst = self.by_address.get("")
        root = self.module_at(self.root_dir)
        claimed: dict[str, dict[str, str]] = {}  # module path -> role resource -> entry key
        bases: dict[str, dict[tuple[str, str], str]] = {}  # module path -> (name base, path) -> entry key
        role_by_arn: dict[str, str] = {}
        trusted_vars: dict[tuple[str, str], str] = {}
        assumable: dict[str, set[str]] = {}  # Lambda key -> arn templates it is listed to assume
        for key, (inst, entry) in roles.items():
            mod = inst.module
            label = f"member_roles.{key}"
            iam_roles = sorted(n for (t, n) in mod.resources if t == "aws_iam_role")
            role = entry.get("role")
            if role is None:
                if len(iam_roles) != 1:
                    self.errors.append(f"{self.lambdas_file}: {label}: {os.path.relpath(mod.path)} defines {len(iam_roles)} aws_iam_role resources ({', '.join(iam_roles) or 'none'}); name this entry's with \"role\"")
                    continue
                role = iam_roles[0]
            elif role not in iam_roles:
                self.errors.append(f"{self.lambdas_file}: {label}: role {role!r} is not an aws_iam_role of {os.path.relpath(mod.path)} (it has {', '.join(iam_roles) or 'none'})")
                continue
            if role in claimed.setdefault(mod.path, {}):
                self.errors.append(f"{self.lambdas_file}: {label}: aws_iam_role.{role} is already the role of member_roles.{claimed[mod.path][role]}")
                continue
            claimed[mod.path][role] = key
            role_label = f"resource aws_iam_role.{role}"
            role_body = mod.resources[("aws_iam_role", role)]
            self.count("member roles checked")
            for k in ("managed_policy_arns", "inline_policy"):
                if k in role_body:
                    self.err(mod, role_label, f"uses {k}; grant through aws_iam_role_policy with a checked policy document")

            arn, trusted_by, trust_output = entry.get("arn"), entry.get("trusted_by"), entry.get("trust_output")
            arn_match = RE_MEMBER_ARN.fullmatch(arn) if isinstance(arn, str) else None
            if arn_match is None:
                self.errors.append(f"{self.lambdas_file}: {label}: arn must be the template arn:{{partition}}:iam::*:role/{{value}}<suffix> (the role name in any account, as the iam_when of its Lambdas grant it), got {arn!r}")
            elif arn in role_by_arn:
                self.errors.append(f"{self.lambdas_file}: {label}: arn {arn} is already that of member_roles.{role_by_arn[arn]}")
            else:
                role_by_arn[arn] = key
                # The name: an interpolated base, then the arn's suffix literally.
                suffix = arn_match.group(1)
                name = str(role_body.get("name", "")).strip()
                nm = re.fullmatch(r"\$\{([^{}]+)\}" + re.escape(suffix), name)
                if nm is None:
                    self.err(mod, role_label, f"its name {name!r} must be one interpolated base followed by {suffix!r} literally, as its arn {arn} in {self.lambdas_file} says")
                else:
                    base = (nm.group(1).strip(), str(role_body.get("path", "")).strip())
                    other = next((k for b, k in bases.setdefault(mod.path, {}).items() if b != base), None)
                    if other is not None:
                        self.err(mod, role_label, f"is named from {base[0]!r} under path {base[1]!r}, member_roles.{other} from another base or path: the Lambdas find each role by the same name with its own suffix")
                    bases[mod.path][base] = key
            if not isinstance(trusted_by, str) or trusted_by not in mod.variables:
                self.errors.append(f"{self.lambdas_file}: {label}: trusted_by must name the variable of {os.path.relpath(mod.path)} that alone holds the principals its trust policy names, got {trusted_by!r}")
                trusted_by = None
            elif (mod.path, trusted_by) in trusted_vars:
                self.errors.append(f"{self.lambdas_file}: {label}: trusted_by {trusted_by} is already that of member_roles.{trusted_vars[(mod.path, trusted_by)]}: each role trusts its own Lambdas")
            else:
                trusted_vars[(mod.path, trusted_by)] = key

            # Trust: AWS principals, named (no wildcard), sts:AssumeRole only, and
            # exactly var.<trusted_by>.
            m = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(" + IDENT + r")\.json\}", str(role_body.get("assume_role_policy")).strip())
            trust = mod.data.get(("aws_iam_policy_document", m.group(1))) if m else None
            if trust is None:
                self.err(mod, role_label, "assume_role_policy must be data.aws_iam_policy_document.<name>.json so its principals can be checked")
            else:
                trust_label = f"data aws_iam_policy_document.{m.group(1)}"
                if trust.get("dynamic"):
                    self.err(mod, trust_label, "the trust policy of a member role may not use dynamic statements")
                for st in trust.get("statement", []) or []:
                    if st.get("effect", "Allow") != "Allow":
                        continue
                    if st.get("actions") != ["sts:AssumeRole"] or "not_principals" in st:
                        self.err(mod, trust_label, "the trust policy of a member role may allow sts:AssumeRole only, to named principals")
                    for pr in st.get("principals", []) or []:
                        ids = pr.get("identifiers")
                        if pr.get("type") != "AWS" or any("*" in i for i in (ids if isinstance(ids, list) else [ids]) if isinstance(i, str) and "${" not in i):
                            self.err(mod, trust_label, "the trust policy of a member role may trust AWS principals (the deployment's roles) only, without wildcards")
                        if trusted_by and (not isinstance(ids, str) or ids.strip() != f"${{var.{trusted_by}}}"):
                            self.err(mod, trust_label, f"trusts {ids!r}, but member_roles.{key} of {self.lambdas_file} trusts var.{trusted_by} only (trusted_by)")
                    if not st.get("principals"):
                        self.err(mod, trust_label, "an Allow statement of a member role's trust policy names no principals")
                    self.count("member role trust statements checked")

            static: set[str] = set()
            computed: list[tuple[Policy, dict]] = []
            denies_self = False
            policies = 0
            for (t, n), b in mod.resources.items():
                if self.ref_target(b.get("role"), "aws_iam_role", mod) != role:
                    continue
                if t != "aws_iam_role_policy":
                    if t.startswith("aws_iam_"):
                        self.err(mod, f"resource {t}.{n}", f"attaches a policy whose actions cannot be checked against member_roles.{key} of {self.lambdas_file}")
                    continue
                pm = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(" + IDENT + r")\.json\}", str(b.get("policy")).strip())
                if pm is None:
                    self.err(mod, f"resource {t}.{n}", "policy must be data.aws_iam_policy_document.<name>.json so its actions can be checked")
                    continue
                policy = self.policy_actions(mod, pm.group(1), f"resource {t}.{n}")
                if policy is None:
                    continue
                policies += 1
                static |= policy.actions
                computed += [(policy, st) for st in policy.computed]
                if policy.conditional:
                    self.err(mod, f"data aws_iam_policy_document.{pm.group(1)}", "a member role's policy may not use conditional statements (dynamic with literal actions)")
                own_arn = re.compile(NOT_AFTER + r"aws_iam_role\." + re.escape(role) + r"\.arn\b")
                for st in mod.data[("aws_iam_policy_document", pm.group(1))].get("statement", []) or []:
                    if st.get("effect") == "Deny":
                        texts, _ = self.expand_locals(mod, [st.get("resources")])
                        denies_self = denies_self or any(own_arn.search(c) for t_ in texts for c in template_code(t_))
            if policies == 0:
                self.err(mod, role_label, f"no aws_iam_role_policy grants member role {key} its listed actions")
            if not denies_self:
                self.err(mod, role_label, f"no Deny statement of its policy covers aws_iam_role.{role}.arn: whatever is enabled, no remediation may strip the member role itself")
            low = lambda s_: {a.lower(): a for a in s_}  # noqa: E731
            have, want = low(static), low(entry.get("iam", []))
            for a in sorted(set(have) - set(want)):
                self.err(mod, role_label, f"IAM action {have[a]} granted to member role {key} is not listed for it in {self.lambdas_file}")
            for a in sorted(set(want) - set(have)):
                self.err(mod, role_label, f"IAM action {want[a]} listed for member role {key} in {self.lambdas_file} is not granted")
            self.count("IAM actions verified", len(set(have) & set(want)))
            self.check_catalog_grants(inst, key, entry, computed, mod, role_label)

            assumed_by = entry.get("assumed_by")
            if not isinstance(assumed_by, list) or not assumed_by or not all(isinstance(fn, str) for fn in assumed_by):
                self.errors.append(f"{self.lambdas_file}: {label}: assumed_by must list the Lambdas that assume it")
                continue
            for fn in assumed_by:
                if fn not in lambdas:
                    self.errors.append(f"{self.lambdas_file}: {label}: assumed_by lists {fn!r}, which is not a Lambda of the file")
                    continue
                assumable.setdefault(fn, set()).add(str(arn))
                whens = lambdas[fn].get("iam_when")
                if arn_match is not None and not (
                    isinstance(whens, list)
                    and any(isinstance(e, dict) and "sts:assumerole" in {str(a).lower() for a in e.get("actions", [])} and arn in (e.get("resources") or []) for e in whens)
                ):
                    self.errors.append(f"{self.lambdas_file}: {label}: assumed_by lists {fn}, whose iam_when grants no sts:AssumeRole on {arn}")
                # What a Lambda may do through the role, it may do at home.
                extra = sorted(self.catalog_parts(entry) - self.catalog_parts(lambdas[fn]))
                if extra:
                    self.errors.append(f"{self.lambdas_file}: {label}: grants the {', '.join(repr(p) for p in extra)} part of the catalog, which {fn} (assumed_by) is not granted itself (its iam_from): a Lambda may not gain through a member role what it may not do at home")
                fn_iam = {a.lower() for a in lambdas[fn].get("iam", [])}
                for a in entry.get("iam", []):
                    if a.lower() not in fn_iam:
                        self.errors.append(f"{self.lambdas_file}: {label}: grants {a}, which {fn} (assumed_by) is not granted itself (its iam)")

            # Trust output: what the operator passes to var.<trusted_by>.
            out = root.outputs.get(trust_output) if isinstance(trust_output, str) else None
            if out is None:
                self.errors.append(f"{self.lambdas_file}: {label}: trust_output must name the root output an operator passes to its trusted_by variable, got {trust_output!r}")
                continue
            targets = self.trace_list(root_inst, out.get("value")) if root_inst else None
            fns = [self.lambda_of_role(t) for t in targets] if targets else None
            if not fns or any(fn is None for fn in fns):
                self.err(root, f"output {trust_output}", f"must be a list of Lambda execution role ARNs (module.<lambda>.role_arn, through module outputs): it is what an operator passes to var.{trusted_by} of member role {key}")
            elif set(fns) != set(assumed_by):
                self.err(root, f"output {trust_output}", f"leads to the roles of {', '.join(sorted(set(fns)))}, but member_roles.{key} of {self.lambdas_file} is assumed by {', '.join(sorted(assumed_by))} only: the role trusts exactly this output (var.{trusted_by})")
            else:
                self.count("member role trust outputs traced")

        # Every role of a member role module is some entry's: another would go unchecked.
        for path, taken in claimed.items():
            for (t, n) in self.modules[path].resources:
                if t == "aws_iam_role" and n not in taken:
                    self.err(self.modules[path], f"resource aws_iam_role.{n}", f"no member_roles entry of {self.lambdas_file} names this role: its trust and actions would never be checked")
        # A Lambda may assume only the member roles listing it.
        if roles:
            for fn, spec in lambdas.items():
                for e in spec.get("iam_when") or [] if isinstance(spec, dict) else []:
                    if not isinstance(e, dict) or "sts:assumerole" not in {str(a).lower() for a in e.get("actions", []) if isinstance(a, str)}:
                        continue
                    for r in e.get("resources") or []:
                        if r in assumable.get(fn, set()):
                            continue
                        owner = role_by_arn.get(r)
                        why = f"the arn of member_roles.{owner}, whose assumed_by does not list {fn}" if owner else "the arn of no member role"
                        self.errors.append(f"{self.lambdas_file}: {fn}: its iam_when grants sts:AssumeRole on {r}, {why}: a Lambda may assume only the member roles that list it")

    # --- actions read from a catalog file ("iam_from") -----------------------------------

    def catalog(self, path: str) -> dict | None:
        """The entries of a catalog file ({"actions": {id: {part: [action...]}}}),
        checked once: well formed, no wildcards, reads only in "read" parts."""
        if path in self._catalogs:
            return self._catalogs[path]
        entries = None
        try:
            with open(path, encoding="utf-8") as f:
                entries = json.load(f)["actions"]
            if not isinstance(entries, dict) or not entries:
                raise ValueError("\"actions\" must be a non-empty object")
        except (OSError, ValueError, KeyError, TypeError) as e:
            self.errors.append(f"{path}: cannot read the action catalog: {e}")
            entries = None
        else:
            for aid, entry in entries.items():
                if not isinstance(entry, dict) or set(entry) != CATALOG_PARTS:
                    self.errors.append(f"{path}: action {aid} must have exactly the parts {sorted(CATALOG_PARTS)}")
                    continue
                for part, acts in entry.items():
                    if not isinstance(acts, list) or not acts:
                        self.errors.append(f"{path}: {aid}.{part} must be a non-empty list of IAM actions")
                        continue
                    for a in acts:
                        if not isinstance(a, str) or not RE_ACTION.match(a):
                            self.errors.append(f"{path}: {aid}.{part}: {a!r} is not one IAM action (service:Name, no wildcard)")
                        elif part == "read" and not RE_READ_ACTION.match(a):
                            self.errors.append(f"{path}: {aid}.read: {a} is not a read (Get*, List*, Describe*); whoever gets the reads (plans) must not be able to change anything")
                        else:
                            self.count("catalog IAM actions verified")
        self._catalogs[path] = entries
        return entries

    def expand_locals(self, mod: Module, values: list[Any]) -> tuple[list[str], set[str]]:
        """The raw strings of values and, transitively, of every local they use
        (one string per expression), and the names of those locals."""
        seen: set[str] = set()
        texts: list[str] = []
        queue = list(values)
        while queue:
            for text in strings(queue.pop()):
                texts.append(text)
                for m in RE_LOCAL.finditer(text):
                    if m.group(1) not in seen and m.group(1) in mod.locals:
                        seen.add(m.group(1))
                        queue.append(mod.locals[m.group(1)])
        return texts, seen

    def root_variable(self, inst: Instance, name: str) -> str | None:
        """The root variable var.name of inst is passed down from unchanged, if any."""
        while inst.caller is not None:
            m = RE_EXACT_VAR.fullmatch(str(inst.args.get(name, "")).strip())
            if m is None:
                return None
            inst, name = inst.caller, m.group(1)
        return name if name in inst.module.variables else None

    def check_catalog_grants(self, doc_inst: Instance | None, key: str, spec: dict, computed: list[tuple[Policy, dict]], caller_mod: Module, call_label: str) -> None:
        """Computed statements of key's code policy against its "iam_from" entry (or
        list of entries): their actions may come only from a local decoding the
        catalog, with only the listed parts and no literal action anywhere in the
        expressions they are built from. With "enabled_by": only as
        local.CATALOG[ID].PART inside `for ID in var.<enabled_by>` (so only enabled
        entries), no other variable. With "all_actions": only as [for ID, E in
        local.CATALOG : E.PART] (every entry, no `if`), no variable at all, only
        functions that keep every action, and the "read" part only. With a list, each
        statement must satisfy one entry, and each entry's parts must be granted by
        the statements satisfying it."""
        src = spec.get("iam_from")
        if not computed:
            if src:
                self.err(caller_mod, call_label, f"{key} has iam_from in {self.lambdas_file}, but no computed statement (dynamic, or actions = an expression) of its code policy grants those actions")
            return
        if not src:
            for policy, _ in computed:
                self.err(policy.module, f"data aws_iam_policy_document.{policy.name}", f"uses computed statements (dynamic, or actions = an expression), whose actions cannot be checked statically: only a Lambda with \"iam_from\" in {self.lambdas_file} may be granted actions read from a file")
            return
        shape = f"iam_from must be {{\"file\": <catalog next to it>, \"parts\": a subset of {sorted(CATALOG_PARTS)}, and either \"enabled_by\": <root variable> or \"all_actions\": true}}, or a non-empty list of such"
        srcs = src if isinstance(src, list) else [src]
        if not srcs:
            self.errors.append(f"{self.lambdas_file}: {key}: {shape}")
            return
        for one in srcs:
            if not isinstance(one, dict) or not isinstance(one.get("file"), str) or not one.get("parts") or not isinstance(one["parts"], list) or not set(one["parts"]) <= CATALOG_PARTS:
                self.errors.append(f"{self.lambdas_file}: {key}: {shape}")
                return
            has_enabled, has_all = "enabled_by" in one, "all_actions" in one
            if has_enabled == has_all or (has_enabled and not isinstance(one["enabled_by"], str)) or (has_all and one["all_actions"] is not True):
                self.errors.append(f"{self.lambdas_file}: {key}: {shape}")
                return
            if has_all and set(one["parts"]) != {"read"}:
                self.errors.append(f"{self.lambdas_file}: {key}: iam_from with \"all_actions\" may list the \"read\" part only: writes are granted for the enabled actions only (\"enabled_by\")")
                return
            if self.catalog(os.path.abspath(os.path.join(os.path.dirname(self.lambdas_file), one["file"]))) is None:
                return
        granted: list[set[str]] = [set() for _ in srcs]
        for policy, st in computed:
            results = [self.catalog_statement(doc_inst, key, one, policy, st) for one in srcs]
            ok = next((i for i, (problems, _) in enumerate(results) if not problems), None)
            mod, label = policy.module, f"data aws_iam_policy_document.{policy.name}"
            if ok is not None:
                granted[ok] |= results[ok][1]
                self.count("catalog statements verified")
            elif len(srcs) == 1:
                for p in results[0][0]:
                    self.err(mod, label, f"a computed statement (granted to {key}, iam_from in {self.lambdas_file}) {p}")
            else:
                why = "; ".join(f"entry {i + 1} ({self.describe_catalog_grant(one)}): {', '.join(problems)}" for i, (one, (problems, _)) in enumerate(zip(srcs, results)))
                self.err(mod, label, f"a computed statement (granted to {key}, iam_from in {self.lambdas_file}) satisfies none of its iam_from entries: {why}")
        for one, got in zip(srcs, granted):
            for p in sorted(set(one["parts"]) - got):
                what = "" if len(srcs) == 1 else f" ({self.describe_catalog_grant(one)})"
                self.err(caller_mod, call_label, f"iam_from of {key} in {self.lambdas_file} lists the {p!r} actions of {one['file']}{what}, but no computed statement grants them")

    @staticmethod
    def describe_catalog_grant(src: dict) -> str:
        which = "every entry" if src.get("all_actions") else f"enabled_by {src.get('enabled_by')}"
        return f"{'+'.join(src['parts'])} of {which}"

    def catalog_statement(self, doc_inst: Instance | None, key: str, src: dict, policy: Policy, st: dict) -> tuple[list[str], set[str]]:
        """(problems, parts granted) of one computed statement against one "iam_from"
        entry (see check_catalog_grants)."""
        path = os.path.abspath(os.path.join(os.path.dirname(self.lambdas_file), src["file"]))
        has_all = "all_actions" in src
        want, enabled_by = set(src["parts"]), src.get("enabled_by")
        granted: set[str] = set()
        root_path = self.module_at(self.root_dir).path
        mod = policy.module
        problems: list[str] = []

        def take(part: str | None) -> None:
            """Records that the statement grants part of the catalog's entries."""
            if part not in CATALOG_PARTS:
                problems.append(f"takes .{part} of a catalog entry, which has only {sorted(CATALOG_PARTS)}")
                return
            granted.add(part)
            if part not in want:
                problems.append(f"grants {key} the {part!r} actions of {src['file']}, but iam_from of {key} in {self.lambdas_file} lists only {sorted(want)}")

        texts, used = self.expand_locals(mod, [st["for_each"], st["actions"]])
        catalogs = {n for n in used if any(RE_DECODED_FILE.search(t) for t in strings(mod.locals[n]))}
        if not catalogs:
            problems.append(f"its actions do not come from a local that is jsondecode(file(...)) of {src['file']}")
        for n in sorted(catalogs):
            for f in (f for t in strings(mod.locals[n]) for f in RE_DECODED_FILE.findall(t)):
                resolved = f.replace("${path.module}", mod.path).replace("${path.root}", root_path)
                if "${" in resolved or os.path.abspath(resolved) != path:
                    problems.append(f"local.{n} reads {f}, not the catalog {path}")

        for t in texts:
            if RE_DECODED_FILE.search(t) and not any(t in list(strings(mod.locals[n])) for n in catalogs):
                problems.append("decodes the catalog outside a local of its own")
            for n in catalogs:
                ref = NOT_AFTER + r"local\." + re.escape(n) + r"\b"
                if has_all:
                    # [for ID, E in local.C : E.PART]: every entry, one part, no `if`.
                    covered = set()
                    for m in re.finditer(r"\[\s*for\s+(?:" + IDENT + r"\s*,\s*)?(" + IDENT + r")\s+in\s+(" + ref + r")\s*:\s*(" + IDENT + r")\.(" + IDENT + r")\s*\]", t):
                        covered.add(m.start(2))
                        if m.group(3) != m.group(1):
                            problems.append(f"takes {m.group(3)}.{m.group(4)} in a for over local.{n}: the actions must be the entry's own part ({m.group(1)}.<part>)")
                        else:
                            take(m.group(4))
                    if any(m.start() not in covered for m in re.finditer(ref, t)):
                        problems.append(f"uses local.{n} other than as [for ID, E in local.{n} : E.<part>]: it must grant the part of every entry (all_actions), with no filter")
                    continue
                for m in re.finditer(ref + r"(\[(" + IDENT + r")\]\.(" + IDENT + r"))?", t):
                    ident, part = m.group(2), m.group(3)
                    bound = re.search(r"\bfor\s+" + re.escape(ident) + r"\s+in\s+var\.(" + IDENT + r")\s*:", t) if ident else None
                    if not (bound and doc_inst and self.root_variable(doc_inst, bound.group(1)) == enabled_by):
                        problems.append(f"uses local.{n} other than as local.{n}[ID].<part> for ID in var.<{enabled_by} passed down unchanged>: it must grant the actions of the enabled ids only")
                    else:
                        take(part)
            for m in RE_VAR.finditer(t):
                if has_all:
                    problems.append(f"uses var.{m.group(1)}: with all_actions the actions are those of every catalog entry and may depend on no variable")
                elif not doc_inst or self.root_variable(doc_inst, m.group(1)) != enabled_by:
                    problems.append(f"uses var.{m.group(1)}: the actions may depend on the root variable {enabled_by} only")
            if has_all:
                for fn in sorted({m.group(1) for m in RE_CALL.finditer(t)} - ALL_ACTIONS_FUNCTIONS):
                    problems.append(f"calls {fn}(): with all_actions only {', '.join(sorted(ALL_ACTIONS_FUNCTIONS))} may shape the actions (none of them drops one)")
            for a in re.findall(r'"([a-z0-9-]+:[A-Za-z0-9*]+)"', t):
                problems.append(f"names the action {a} literally: put static actions in a plain statement, listed in {self.lambdas_file}")
            for m in list(RE_MODULE.finditer(t)) + list(RE_DATA.finditer(t)):
                problems.append(f"uses {m.group(0)}: its actions must come from the catalog only")
        return list(dict.fromkeys(problems)), granted

    # --- DynamoDB tables ---------------------------------------------------------------

    def list_projection(self) -> list[str]:
        """The field names of LIST_PROJECTION (read once; [] with an error if unreadable)."""
        if self._list_projection is None:
            try:
                with open(self.list_projection_file, encoding="utf-8") as f:
                    m = RE_LIST_PROJECTION.search(f.read())
            except OSError as e:
                m = None
                self.errors.append(f"{self.list_projection_file}: cannot read LIST_PROJECTION: {e}")
            else:
                if m is None:
                    self.errors.append(f"{self.list_projection_file}: no `LIST_PROJECTION: [&str; N] = [...]` found")
            self._list_projection = re.findall(r'"([^"]+)"', m.group(1)) if m else []
        return self._list_projection

    def check_list_index(self, mod: Module, label: str, table: dict, idx: dict) -> None:
        keys = {table.get("hash_key"), table.get("range_key"), idx.get("hash_key"), idx.get("range_key")}
        kind = idx.get("projection_type")
        if kind == "ALL":
            return
        projected = set(idx.get("non_key_attributes") or []) if kind == "INCLUDE" else set()
        missing = [f for f in self.list_projection() if f not in projected and f not in keys]
        if missing:
            self.err(mod, label, f"index {idx.get('name')} serves list items but does not project {', '.join(missing)} (LIST_PROJECTION in {self.list_projection_file})")
        self.count("list index fields verified", len(self.list_projection()) - len(missing))

    def check_dynamodb_tables(self, mod: Module) -> None:
        for (t, n), body in mod.resources.items():
            if t != "aws_dynamodb_table":
                continue
            label = f"resource {t}.{n}"
            self.count("dynamodb tables checked")
            declared = [a.get("name") for a in body.get("attribute", []) or [] if isinstance(a, dict)]
            keys: list[tuple[str, Any]] = [("hash_key", body.get("hash_key")), ("range_key", body.get("range_key"))]
            for kind in ("global_secondary_index", "local_secondary_index"):
                for idx in body.get(kind, []) or []:
                    keys += [(f"{kind} {idx.get('name')} hash_key", idx.get("hash_key")), (f"{kind} {idx.get('name')} range_key", idx.get("range_key"))]
            used = {k for _, k in keys if k is not None}
            for idx in body.get("global_secondary_index", []) or []:
                if idx.get("name") in LIST_INDEXES:
                    self.check_list_index(mod, label, body, idx)
            if body.get("hash_key") is None:
                self.err(mod, label, "has no hash_key")
            for where, k in keys:
                if k is not None and k not in declared:
                    self.err(mod, label, f"{where} {k} has no attribute block")
            for a in declared:
                if a not in used:
                    self.err(mod, label, f"attribute {a} is declared but is no table or index key (DynamoDB rejects that at apply)")
            pitr = first_block(body, "point_in_time_recovery") or {}
            if pitr.get("enabled") is not True:
                self.err(mod, label, "has no point_in_time_recovery { enabled = true }")
            sse = first_block(body, "server_side_encryption") or {}
            if sse.get("enabled") is not True or not sse.get("kms_key_arn"):
                self.err(mod, label, "is not encrypted with a customer key (server_side_encryption { enabled = true, kms_key_arn = ... })")
            if body.get("deletion_protection_enabled") in (None, False):
                self.err(mod, label, "does not set deletion_protection_enabled")
            for ttl in body.get("ttl", []) or []:
                if ttl.get("enabled") is not True or not ttl.get("attribute_name"):
                    self.err(mod, label, "has a ttl block that is not enabled with an attribute_name")
            if body.get("stream_enabled") is True and not body.get("stream_view_type"):
                self.err(mod, label, "enables its stream without a stream_view_type")
            if body.get("stream_view_type") and body.get("stream_enabled") is not True:
                self.err(mod, label, "sets stream_view_type but not stream_enabled = true")
            if body.get("stream_enabled") is not True:
                ref = re.compile(NOT_AFTER + r"aws_dynamodb_table\." + re.escape(n) + r"\.stream_arn\b")
                for other, b in mod.all_bodies():
                    if any(ref.search(e) for e in expressions(b)):
                        self.err(mod, other, f"uses aws_dynamodb_table.{n}.stream_arn, but that table has no stream (stream_enabled = true)")

    # --- event source mappings ---------------------------------------------------------

    def check_event_source_mappings(self, insts: list[Instance], lambdas: dict) -> None:
        for inst in insts:
            mod = inst.module
            for (t, n), body in mod.resources.items():
                if t != "aws_lambda_event_source_mapping":
                    continue
                label = f"resource {t}.{n}"
                self.count("event source mappings checked")
                if "ReportBatchItemFailures" not in (body.get("function_response_types") or []):
                    self.err(mod, label, 'does not set function_response_types = ["ReportBatchItemFailures"]: one bad record would fail and retry its whole batch')

                src = self.trace(inst, body.get("event_source_arn"))
                kind = None
                if src and src[1] == "aws_dynamodb_table" and src[3] == "stream_arn":
                    kind = "dynamodb_stream"
                elif src and src[1] == "aws_sqs_queue" and src[3] == "arn":
                    kind = "sqs"
                if kind is None:
                    self.err(mod, label, f"event_source_arn {body.get('event_source_arn')!r} does not lead to an aws_dynamodb_table's stream_arn or an aws_sqs_queue's arn")

                dest_value = (first_block(first_block(body, "destination_config") or {}, "on_failure") or {}).get("destination_arn")
                dest = self.trace(inst, dest_value) if dest_value else None
                if kind == "dynamodb_stream":
                    sinst, _, table, _ = src
                    tbody = sinst.module.resources[("aws_dynamodb_table", table)]
                    if tbody.get("stream_view_type") != "NEW_AND_OLD_IMAGES":
                        self.err(mod, label, f"reads the stream of aws_dynamodb_table.{table}, whose stream_view_type is {tbody.get('stream_view_type')!r}; the change feed needs NEW_AND_OLD_IMAGES (the item before and after)")
                    if not body.get("starting_position"):
                        self.err(mod, label, "has no starting_position (required for a stream source)")
                    if body.get("bisect_batch_on_function_error") is not True:
                        self.err(mod, label, "does not set bisect_batch_on_function_error = true: a record that breaks the function keeps failing its whole batch")
                    for arg, what in (("maximum_retry_attempts", "retries"), ("maximum_record_age_in_seconds", "record age")):
                        v = body.get(arg)
                        if not isinstance(v, int) or v < 0:
                            self.err(mod, label, f"{arg} is {v!r}: unbounded {what} let one failing record block its shard until it leaves the stream")
                    if not dest_value:
                        self.err(mod, label, "has no destination_config.on_failure: records that exhaust their retries would be dropped without a trace")
                    elif dest is None or dest[1] not in DESTINATION_IAM:
                        self.err(mod, label, f"on-failure destination {dest_value!r} does not lead to an aws_sqs_queue or aws_sns_topic")
                    elif not dest[0].module.resources[(dest[1], dest[2])].get("kms_master_key_id"):
                        self.err(dest[0].module, f"resource {dest[1]}.{dest[2]}", f"is the on-failure destination of {inst.address or 'root'} {label} but is not encrypted with a customer key (kms_master_key_id)")
                elif kind == "sqs":
                    if dest_value or body.get("destination_config"):
                        self.err(mod, label, "sets destination_config, which only stream sources support; an SQS source parks failed messages with the queue's redrive_policy")
                    qinst, _, queue, _ = src
                    if not qinst.module.resources[("aws_sqs_queue", queue)].get("redrive_policy"):
                        self.err(qinst.module, f"resource aws_sqs_queue.{queue}", f"feeds {label} but has no redrive_policy: a message that keeps failing would be retried until it expires")

                fn = self.trace(inst, body.get("function_name"))
                key = self.lambda_keys.get(fn[0].address) if fn and fn[1] == "aws_lambda_function" else None
                if key is None:
                    self.err(mod, label, f"function_name {body.get('function_name')!r} does not lead to a Lambda module instance listed in {self.lambdas_file}")
                    continue
                need = list(POLLER_IAM.get(kind, []))
                if dest is not None and dest[1] in DESTINATION_IAM and kind == "dynamodb_stream":
                    need.append(DESTINATION_IAM[dest[1]])
                listed = {a.lower() for a in lambdas[key].get("iam", [])}
                for a in need:
                    if a.lower() not in listed:
                        self.err(mod, label, f"invokes {key}, whose actions in {self.lambdas_file} lack {a} (the mapping uses the function's role for it)")
                self.count("event source mapping IAM actions verified", sum(a.lower() in listed for a in need))

    def check_tfvars_example(self, root: Module) -> None:
        """terraform.tfvars.example sets only root variables, and every required one."""
        path = os.path.join(root.path, "terraform.tfvars.example")
        if not os.path.exists(path):
            self.errors.append(f"{path}: missing (an example of every required variable)")
            return
        try:
            values = parse_file(path)
        except Exception as e:  # the parser raises many types; all mean "bad HCL"
            self.errors.append(f"{path}: cannot parse: {e}")
            return
        rel = os.path.relpath(path)
        for name in sorted(set(values) - set(root.variables)):
            self.errors.append(f"{rel}: sets {name}, which is not a root variable")
        for name in sorted(v for v, b in root.variables.items() if "default" not in b and v not in values):
            self.errors.append(f"{rel}: does not set required variable {name}")
        self.count("tfvars example values checked", len(values))

    # --- driver ----------------------------------------------------------------------

    def run(self) -> bool:
        try:
            with open(self.lambdas_file, encoding="utf-8") as f:
                contract = json.load(f)
            lambdas = contract["lambdas"]
            runtime_iam = contract.get("runtime_iam", DEFAULT_RUNTIME_IAM)
        except (OSError, ValueError, KeyError) as e:
            self.errors.append(f"{self.lambdas_file}: cannot read the Lambda contract: {e}")
            return False

        insts = self.instances()
        self.by_address = {inst.address: inst for inst in insts}
        member_roles = self.load_member_roles(contract, {inst.module.path for inst in insts})
        root = self.module_at(self.root_dir)
        prefixes = set(root.providers) | {"aws"}
        for mod in self.modules.values():
            prefixes |= mod.providers
        for mod in self.modules.values():
            self.check_references(mod, prefixes)
            self.check_provider_refs(mod)
            for name, body in mod.calls.items():
                self.check_call(mod, name, body)
            self.check_lambda_operability(mod)
            self.check_dynamodb_tables(mod)
            for key, table in (("variables", mod.variables), ("outputs", mod.outputs), ("locals", mod.locals), ("data sources", mod.data)):
                self.count(key, len(table))
            self.count("resource blocks", len(mod.resources))
            self.count("modules", 1)
        self.check_tfvars_example(root)
        for inst in insts:
            self.count("resource blocks x module instances", len(inst.module.resources))
        self.count("module instances", len(insts))
        self.check_uncalled_modules()
        self.check_lambda_contract(insts, lambdas, runtime_iam)
        self.check_member_roles(member_roles, lambdas)
        self.check_event_source_mappings(insts, lambdas)
        check_websocket_apis(self, insts, lambdas)
        return not self.errors


def main(argv: list[str] | None = None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--terraform", default=os.path.join(repo, "terraform"), help="root module folder")
    p.add_argument("--lambdas", default=os.path.join(repo, "backend", "lambdas.json"), help="the Lambda contract file")
    p.add_argument("--list-projection", default=os.path.join(repo, LIST_PROJECTION_FILE), help="Rust file defining LIST_PROJECTION")
    args = p.parse_args(argv)
    checker = Checker(args.terraform, args.lambdas, args.list_projection)
    ok = checker.run()
    checker.errors = list(dict.fromkeys(checker.errors))  # one line per problem
    for k in sorted(checker.counts):
        print(f"  {k}: {checker.counts[k]}")
    if not ok:
        print(f"check_terraform: {len(checker.errors)} problem(s):", file=sys.stderr)
        for e in checker.errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    print("check_terraform: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
