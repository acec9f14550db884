#!/usr/bin/env python3
"""Prints the fingerprint of everything the dashboard's build reads, so that a stored
build (frontend/prebuilt/) is used only for the sources it was built from.

    scripts/dashboard_inputs.py        the SHA-256 fingerprint
    scripts/dashboard_inputs.py -v     and, before it, every file and locked crate in it

The inputs: every file under frontend/ (but its build outputs dist/ and prebuilt/),
shared-types/ and tools/bindgen/, the workspace Cargo.toml (profiles), the build
script and the helpers it sources, and the Cargo.lock entries (name, version, source,
checksum) of every crate the dashboard or its bindings tool can reach, so a
dependency of the backend alone does not make the stored build stale. An extra file (an editor's backup) only makes it
stale: the safe direction, a build from source. Not in it: the Rust toolchain and
RUSTFLAGS; CI rebuilds from source and compares bytes (scripts/prebuilt_dashboard.sh
check), which catches a stored build that another toolchain would not reproduce.
"""
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREES = ["frontend", "shared-types", "tools/bindgen"]
SKIPPED = {"frontend/dist", "frontend/prebuilt"}
FILES = ["Cargo.toml", "scripts/build_dashboard.sh", "scripts/tools.sh"]
LOCK_ROOTS = ["frontend", "cspm-bindgen"]
# The workspace crates the dashboard reaches: their files are hashed through TREES.
PATH_CRATES = {"frontend", "shared-types", "cspm-bindgen"}


def lock_packages(text):
    """The `[[package]]` tables of a Cargo.lock: name, version, source, checksum and
    dependencies. Read by hand, not with tomllib, so that any Python 3 can run it:
    cargo writes these keys one per line and the dependency list one entry per line
    (a list on one line is read too)."""
    packages = []
    current = None
    in_deps = False
    for line in text.splitlines():
        line = line.strip()
        if line == "[[package]]":
            current = {"dependencies": []}
            packages.append(current)
            in_deps = False
        elif current is None or not line:
            continue
        elif in_deps:
            if line == "]":
                in_deps = False
            else:
                current["dependencies"].append(line.rstrip(",").strip('"'))
        elif line.startswith("["):
            current = None
        elif line == "dependencies = [":
            in_deps = True
        elif line.startswith("dependencies = [") and line.endswith("]"):
            current["dependencies"] = re.findall(r'"([^"]*)"', line)
        else:
            m = re.fullmatch(r'(name|version|source|checksum) = "(.*)"', line)
            if m:
                current[m.group(1)] = m.group(2)
    return packages


def source_files(root):
    """Relative paths of the input files under `root`, sorted."""
    found = list(FILES)
    for tree in TREES:
        for folder, subfolders, names in os.walk(os.path.join(root, tree)):
            rel = os.path.relpath(folder, root)
            subfolders[:] = sorted(
                s for s in subfolders if os.path.join(rel, s) not in SKIPPED
            )
            found.extend(os.path.join(rel, n) for n in names)
    return sorted(found)


def locked_closure(root):
    """`name version checksum` of every Cargo.lock package reachable from the roots."""
    with open(os.path.join(root, "Cargo.lock"), encoding="utf-8") as f:
        packages = lock_packages(f.read())
    by_name = {}
    for p in packages:
        by_name.setdefault(p["name"], []).append(p)

    def resolve(dep):
        # A lock entry names a dependency `name`, `name version` or
        # `name version (source)`: the version is given when two are locked.
        parts = dep.split(" ")
        candidates = by_name.get(parts[0], [])
        if len(parts) > 1:
            candidates = [p for p in candidates if p["version"] == parts[1]]
        if len(candidates) != 1:
            sys.exit(f"Cargo.lock: cannot resolve dependency {dep!r}")
        return candidates[0]

    seen = {}
    todo = [resolve(r) for r in LOCK_ROOTS]
    while todo:
        p = todo.pop()
        key = (p["name"], p["version"])
        if key in seen:
            continue
        seen[key] = p
        if "source" not in p and p["name"] not in PATH_CRATES:
            # A workspace crate whose files nothing hashes: a change to it would not
            # make the stored build stale.
            sys.exit(f"the dashboard reaches workspace crate {p['name']}: add its folder to TREES")
        todo.extend(resolve(d) for d in p["dependencies"])
    # The source names a git dependency's commit; the checksum a registry crate's files.
    return sorted(
        f'{p["name"]} {p["version"]} {p.get("source", "path")} {p.get("checksum", "-")}'
        for p in seen.values()
    )


def fingerprint(root, show=None):
    """The fingerprint of the checkout at `root`; `show` gets each input's line."""
    digest = hashlib.sha256()
    for rel in source_files(root):
        with open(os.path.join(root, rel), "rb") as f:
            content = hashlib.sha256(f.read()).hexdigest()
        digest.update(f"file {rel} {content}\n".encode())
        if show:
            show(f"{content[:12]} {rel}")
    for line in locked_closure(root):
        digest.update(f"crate {line}\n".encode())
        if show:
            show(f"crate {line}")
    return digest.hexdigest()


def main():
    if sys.argv[1:] not in ([], ["-v"]):
        sys.exit("usage: scripts/dashboard_inputs.py [-v]")
    print(fingerprint(ROOT, print if sys.argv[1:] == ["-v"] else None))


if __name__ == "__main__":
    main()
