#!/usr/bin/env python3
"""Prints the fingerprint of everything the dashboard's build reads, so that a stored
build (frontend/prebuilt/) is used only for the sources it was built from.

    scripts/dashboard_inputs.py        the SHA-256 fingerprint
    scripts/dashboard_inputs.py -v     and, before it, every file and locked crate in it

The inputs: every file under frontend/ (but its build outputs dist/ and prebuilt/),
shared-types/ and tools/bindgen/, the workspace Cargo.toml (profiles), the build
script, and the Cargo.lock entries (name, version, checksum) of every crate the
dashboard or its bindings tool can reach, so a dependency of the backend alone does
not make the stored build stale. An extra file (an editor's backup) only makes it
stale: the safe direction, a build from source. Not in it: the Rust toolchain and
RUSTFLAGS; CI rebuilds from source and compares bytes (scripts/prebuilt_dashboard.sh
check), which catches a stored build that another toolchain would not reproduce.
"""
import hashlib
import os
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREES = ["frontend", "shared-types", "tools/bindgen"]
SKIPPED = {"frontend/dist", "frontend/prebuilt"}
FILES = ["Cargo.toml", "scripts/build_dashboard.sh"]
LOCK_ROOTS = ["frontend", "cspm-bindgen"]


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
    with open(os.path.join(root, "Cargo.lock"), "rb") as f:
        packages = tomllib.load(f)["package"]
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
        todo.extend(resolve(d) for d in p.get("dependencies", []))
    return sorted(
        f'{p["name"]} {p["version"]} {p.get("checksum", "path")}' for p in seen.values()
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
