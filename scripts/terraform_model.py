"""Parsed Terraform modules for scripts/check_terraform.py: loads every *.tf file of a
folder with python-hcl2 and indexes its declarations (variables, locals, outputs,
resources, data sources, module calls, providers), plus helpers to find the
references inside expressions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

import hcl2
from hcl2 import SerializationOptions

IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
NOT_AFTER = r"(?<![\w.])"  # a reference starts an expression, not a.b.c's middle
RE_VAR = re.compile(NOT_AFTER + r"var\.(" + IDENT + ")")
RE_LOCAL = re.compile(NOT_AFTER + r"local\.(" + IDENT + ")")
RE_MODULE = re.compile(NOT_AFTER + r"module\.(" + IDENT + r")(?:\[[^\]]*\])?(?:\.(" + IDENT + "))?")
RE_DATA = re.compile(NOT_AFTER + r"data\.(" + IDENT + r")\.(" + IDENT + ")")
RE_CALL = re.compile(r"(?<![\w.:])([A-Za-z_][A-Za-z0-9_]*)\s*\(")

# Terraform 1.11 built-in functions; a call to anything else fails `terraform validate`.
BUILTIN_FUNCTIONS = set(
    """abs abspath alltrue anytrue base64decode base64encode base64gzip base64sha256
    base64sha512 basename bcrypt can ceil chomp chunklist cidrhost cidrnetmask cidrsubnet
    cidrsubnets coalesce coalescelist compact concat contains csvdecode dirname distinct
    element endswith ephemeralasnull file filebase64 filebase64sha256 filebase64sha512
    fileexists filemd5 fileset filesha1 filesha256 filesha512 flatten floor format
    formatdate formatlist indent index issensitive join jsondecode jsonencode keys length
    log lookup lower matchkeys max md5 merge min nonsensitive one parseint pathexpand
    plantimestamp pow range regex regexall replace reverse rsadecrypt sensitive
    setintersection setproduct setsubtract setunion sha1 sha256 sha512 signum slice sort
    split startswith strcontains strrev substr sum templatefile templatestring
    textdecodebase64 textencodebase64 timeadd timecmp timestamp title tobool tolist tomap
    tonumber toset tostring transpose trim trimprefix trimspace trimsuffix try type upper
    urlencode uuid uuidv5 values yamldecode yamlencode zipmap""".split()
)
RE_PROVIDER_REF = re.compile(r"^\$\{(" + IDENT + r")\.(" + IDENT + r")\}$")


def resource_ref_re(prefixes: set[str]) -> re.Pattern[str]:
    """Matches TYPE.NAME where TYPE belongs to one of the providers in use."""
    alt = "|".join(sorted(re.escape(p) for p in prefixes))
    return re.compile(NOT_AFTER + r"((?:" + alt + r")_[a-z0-9_]+)\.(" + IDENT + ")")


def strings(value: Any) -> Iterator[str]:
    """Every string inside a parsed HCL value (dict keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k == "__is_block__":
                continue
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def _interpolation_end(text: str, start: int) -> int:
    """Index just past the `}` closing the interpolation whose body starts at start."""
    depth, i = 1, start
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _string_end(text, i + 1)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _string_end(text: str, start: int) -> int:
    """Index just past the `"` closing the quoted string whose body starts at start."""
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if text.startswith(("${", "%{"), i):
            i = _interpolation_end(text, i + 2)
            continue
        i += 1
    return len(text)


def template_code(text: str) -> list[str]:
    """The expression code inside a template string: the bodies of its ${...} and
    %{...} sequences, with quoted literals blanked out (their own interpolations are
    returned as separate pieces). Literal text never counts as code."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            i += 3
            continue
        if text.startswith(("${", "%{"), i):
            end = _interpolation_end(text, i + 2)
            out.extend(_code_without_literals(text[i + 2 : end - 1]))
            i = end
            continue
        i += 1
    return out


def _code_without_literals(code: str) -> list[str]:
    pieces: list[str] = []
    kept: list[str] = []
    i = 0
    while i < len(code):
        if code[i] == '"':
            end = _string_end(code, i + 1)
            pieces.extend(template_code(code[i + 1 : end - 1]))
            kept.append('""')
            i = end
            continue
        kept.append(code[i])
        i += 1
    return ["".join(kept)] + pieces


def expressions(value: Any) -> Iterator[str]:
    """Expression code in a parsed value; plain literals cannot reference anything."""
    for s in strings(value):
        if "${" in s or "%{" in s:
            yield from template_code(s)


def first_block(body: dict, name: str) -> dict | None:
    blocks = body.get(name)
    if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict):
        return blocks[0]
    return None


@dataclass
class Module:
    """Declarations of one Terraform module folder."""

    path: str
    variables: dict[str, dict] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict] = field(default_factory=dict)
    data: dict[tuple[str, str], dict] = field(default_factory=dict)
    calls: dict[str, dict] = field(default_factory=dict)
    providers: set[str] = field(default_factory=set)
    provider_aliases: set[str] = field(default_factory=set)  # "aws.us_east_1"
    where: dict[str, str] = field(default_factory=dict)  # "resource a.b" -> file
    errors: list[str] = field(default_factory=list)

    def all_bodies(self) -> Iterator[tuple[str, Any]]:
        """(label, body) of everything whose expressions are evaluated in this module."""
        for n, b in self.variables.items():
            yield f"variable {n}", b
        for n, v in self.locals.items():
            yield f"local {n}", v
        for n, b in self.outputs.items():
            yield f"output {n}", b
        for (t, n), b in self.resources.items():
            yield f"resource {t}.{n}", b
        for (t, n), b in self.data.items():
            yield f"data {t}.{n}", b
        for n, b in self.calls.items():
            yield f"module {n}", b


def without_markers(value: Any) -> Any:
    """Drops the parser's own keys (__is_block__, __comments__, ...) everywhere."""
    if isinstance(value, dict):
        return {k: without_markers(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("__"))}
    if isinstance(value, list):
        return [without_markers(v) for v in value]
    return value


def parse_file(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        doc = hcl2.load(f, serialization_options=SerializationOptions(strip_string_quotes=True))
    return without_markers(doc)


def load_module(path: str) -> Module:
    """Parses every *.tf file of one folder (not its subfolders)."""
    mod = Module(path=path)
    if not os.path.isdir(path):
        mod.errors.append(f"{path}: module folder does not exist")
        return mod
    files = sorted(f for f in os.listdir(path) if f.endswith(".tf"))
    if not files:
        mod.errors.append(f"{path}: no .tf files")
    for name in files:
        fpath = os.path.join(path, name)
        try:
            doc = parse_file(fpath)
        except Exception as e:  # the parser raises many types; all mean "bad HCL"
            mod.errors.append(f"{fpath}: cannot parse: {e}")
            continue
        rel = os.path.relpath(fpath)

        def add(kind: str, table: dict, key: Any, body: Any, label: str) -> None:
            if key in table:
                mod.errors.append(f"{rel}: {kind} {label} is declared twice")
            table[key] = body
            mod.where[f"{kind} {label}"] = rel

        for block in doc.get("variable", []):
            for n, b in block.items():
                add("variable", mod.variables, n, b, n)
        for block in doc.get("output", []):
            for n, b in block.items():
                add("output", mod.outputs, n, b, n)
        for block in doc.get("locals", []):
            for n, v in block.items():
                if n != "__is_block__":
                    add("local", mod.locals, n, v, n)
        for block in doc.get("module", []):
            for n, b in block.items():
                add("module", mod.calls, n, b, n)
        for kind, table in (("resource", mod.resources), ("data", mod.data)):
            for block in doc.get(kind, []):
                for t, named in block.items():
                    for n, b in named.items():
                        add(kind, table, (t, n), b, f"{t}.{n}")
        for block in doc.get("terraform", []):
            for rp in block.get("required_providers", []):
                for pname, spec in rp.items():
                    if pname == "__is_block__":
                        continue
                    mod.providers.add(pname)
                    if isinstance(spec, dict):
                        for alias in spec.get("configuration_aliases", []):
                            mod.provider_aliases.add(str(alias).strip("${}"))
        for block in doc.get("provider", []):
            for pname, b in block.items():
                mod.providers.add(pname)
                if isinstance(b, dict) and "alias" in b:
                    mod.provider_aliases.add(f"{pname}.{b['alias']}")
    return mod
