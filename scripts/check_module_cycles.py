#!/usr/bin/env python3
"""Finds import circles between the modules of the backend library (backend/src).

Run:  python3 scripts/check_module_cycles.py [--src DIR] [--verbose]

Modules are the `.rs` files under the source folder (`foo/mod.rs` is `foo`, `foo/bar.rs`
`foo::bar`, `lib.rs` the crate root; `bin/` is skipped). A module depends on another
when its file names a path into it: `use crate::…`, `use super::…` (`super::super`),
`use self::…`, `use child::…` (grouped, nested, multi-line, `pub use`, `as`), or a
qualified path anywhere in the code (`crate::store::dynamo::X::new()`, `super::run::E`,
`child::f()` where `child` is a child module or a module a `use` brought into scope).
A path counts as its longest prefix that is a module (`crate::store::dynamo::X` ->
`store::dynamo`). Comments and string literals are blanked first; an inline
`mod tests { … }` belongs to its file, but `super` in it is resolved from the inline mod.

Ancestor rule: edges from a module to itself or to one of its ancestors are ignored. A
child using what its parent `mod.rs` defines (the port it implements, a shared error
type, `use super::*` in tests) is the normal Rust idiom for a port and its adapters,
and `mod child;` is not a use. Every other edge counts, parent -> descendant included
(`use child::X`, `pub use child::X`): a parent re-exporting from its child is no cycle
by itself, but modules that reach each other any other way are.

Prints each strongly connected component of more than one module and, for each of its
modules not yet on a printed chain, a shortest cycle through it with the file:line of
every edge. Exits 0 without cycles, 1 otherwise; `--verbose` also prints every edge.
"""

from __future__ import annotations

import argparse
import bisect
import os
import re
import sys
from collections import deque
from pathlib import Path

TOKEN = re.compile(r"[A-Za-z_]\w*|::|\S")
IDENT = re.compile(r"[A-Za-z_]\w*$")
LITERAL = re.compile(
    r"//[^\n]*|/\*.*?\*/"  # comments (a nested block comment ends early: good enough)
    r"|(?<!\w)b?r(#*)\".*?\"\1"  # raw strings
    r"|(?<!\w)b?\"(?:\\.|[^\"\\])*\""  # strings
    r"|'(?:\\(?:u\{[0-9a-fA-F]+\}|x..|.)|[^\\'])'",  # chars (a lifetime has no closing ')
    re.S,
)


def strip_comments_and_strings(src: str) -> str:
    """Blanks comments, string and char literals, keeping newlines so lines stay."""
    return LITERAL.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), src)


def file_module(rel: str) -> tuple[str, ...]:
    parts = rel[: -len(".rs")].split("/")
    return tuple(parts[:-1] if parts[-1] == "mod" or parts == ["lib"] else parts)


def scan_file(text: str, module: tuple[str, ...]) -> list:
    """Every path in a (stripped) file as (kind, segments, line, current module, binding):
    kind "use" for a use-tree leaf (binding: the name it brings into scope, or None),
    "code" for a qualified path elsewhere. The current module includes inline mods."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    toks = [(m.group(), bisect.bisect_right(starts, m.start())) for m in TOKEN.finditer(text)]
    toks.append(("", 0))
    found: list = []
    inline: list[tuple[str, int]] = []  # open inline modules: (name, depth outside them)

    def cur():
        return module + tuple(name for name, _ in inline)

    def tree(i, prefix):  # parses one use tree starting at i; returns the index after it
        segs = list(prefix)
        while True:
            t, line = toks[i]
            if t == "{":
                i += 1
                while toks[i][0] not in ("}", ""):
                    j = tree(i, segs)
                    i = j + (toks[j][0] == "," or j == i)
                return i + 1
            if t == "*":
                found.append(("use", segs, line, cur(), None))
                return i + 1
            if t != "::":
                if not IDENT.match(t):
                    return i
                segs.append(t)
                if toks[i + 1][0] != "::":
                    binding = segs[-2] if t == "self" and len(segs) > 1 else t
                    if toks[i + 1][0] == "as":
                        binding, i = toks[i + 2][0], i + 2
                    found.append(("use", segs, line, cur(), None if binding == "_" else binding))
                    return i + 1
            i += 1

    depth = i = 0
    while toks[i][0]:
        t = toks[i][0]
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
            if inline and inline[-1][1] == depth:
                inline.pop()  # the end of an inline module
        elif t == "mod" and IDENT.match(toks[i + 1][0]) and toks[i + 2][0] == "{":
            inline.append((toks[i + 1][0], depth))
        elif toks[i - 1][0] in ("::", "$"):
            pass  # the middle of a path, or `$crate` in a macro
        elif t == "use":
            i = tree(i + 1, [])
            continue
        elif IDENT.match(t) and toks[i + 1][0] == "::":
            segs, line = [t], toks[i][1]
            while toks[i + 1][0] == "::" and IDENT.match(toks[i + 2][0]):
                segs.append(toks[i + 2][0])
                i += 2
            found.append(("code", segs, line, cur(), None))
        i += 1
    return found


def resolve(segs, current, aliases, modules):
    """(longest existing-module prefix of a path, whether that is the whole path), or
    (None, False) for a path out of the crate."""
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    elif segs[0] in ("super", "self"):
        base, rest = current, list(segs)
        while rest and rest[0] in ("super", "self"):
            if rest.pop(0) == "super":
                if not base:
                    return None, False
                base = base[:-1]
    elif segs[0] in aliases:
        base, rest = aliases[segs[0]], segs[1:]
    else:
        return None, False
    full = base + tuple(s for s in rest if s != "self")
    for k in range(len(full), -1, -1):
        if full[:k] in modules:
            return full[:k], k == len(full)
    return None, False


def collect(src_dir: str):
    """(modules, edges) with edges[(a, b)] = [(file, line), …], ignored edges left out."""
    files = {}
    for path in sorted(Path(src_dir).rglob("*.rs")):
        rel = path.relative_to(src_dir).as_posix()
        if not rel.startswith("bin/"):
            files[file_module(rel)] = path
    modules, edges = set(files), {}
    for mod, path in sorted(files.items()):
        found = scan_file(strip_comments_and_strings(path.read_text(encoding="utf-8")), mod)
        aliases = {m[-1]: m for m in modules if m[:-1] == mod and len(m) == len(mod) + 1}
        for _ in range(2):  # a use may start from a name that another use brings in
            for kind, segs, _, current, binding in found:
                target, exact = resolve(segs, current, aliases, modules)
                if kind == "use" and binding and exact:
                    aliases[binding] = target  # `use super::policy;` then `policy::X`
        shown = os.path.relpath(path).replace(os.sep, "/")
        for _, segs, line, current, _ in found:
            target, _ = resolve(segs, current, aliases, modules)
            if target is not None and target != mod[: len(target)]:  # not self/ancestor
                edges.setdefault((mod, target), []).append((shown, line))
    return modules, edges


def shortest_path(start, goal, succ, allowed):
    """Breadth-first shortest path start -> … -> goal (goal may equal start), or None."""
    parent, queue = {}, deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(succ.get(v, ())):
            if w in allowed and w not in parent:
                parent[w] = v
                if w == goal:
                    path = [goal]
                    while len(path) == 1 or path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1]
                queue.append(w)
    return None


def name(m) -> str:
    return "::".join(m) or "crate"


def main(argv=None) -> int:
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(repo / "backend" / "src"))
    ap.add_argument("--verbose", action="store_true", help="also print every counted edge")
    args = ap.parse_args(argv)
    modules, edges = collect(args.src)
    succ: dict = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
    if args.verbose:
        print(f"{len(modules)} modules, {len(edges)} edges (self and child -> ancestor ignored):")
        for (a, b), locs in sorted(edges.items()):
            more = f" (+{len(locs) - 1} more)" if len(locs) > 1 else ""
            print(f"  {name(a)} -> {name(b)}  {locs[0][0]}:{locs[0][1]}{more}")
    on_cycle = {v for v in modules if shortest_path(v, v, succ, modules)}
    components = sorted({tuple(sorted(w for w in on_cycle if w == v or (
        shortest_path(v, w, succ, modules) and shortest_path(w, v, succ, modules))))
        for v in on_cycle})
    for comp in components:
        print(f"cycle among {len(comp)} modules: {', '.join(map(name, comp))}")
        covered: set = set()
        for start in comp:
            if start not in covered:
                path = shortest_path(start, start, succ, set(comp))
                covered.update(path)
                chain = name(start) + "".join(
                    f" -> {name(b)} ({edges[(a, b)][0][0]}:{edges[(a, b)][0][1]})"
                    for a, b in zip(path, path[1:]))
                print("  " + chain)
    if not components:
        print(f"no import cycles among {len(modules)} modules ({len(edges)} edges)")
    return 1 if components else 0


if __name__ == "__main__":
    sys.exit(main())
