#!/usr/bin/env python3
"""Validates OCSF Detection Findings, one JSON document per line (what
`cspm export --format ocsf` and `GET /findings/export?format=ocsf` write).

    python check_ocsf.py FILE.ocsf.jsonl      # or '-' for stdin

Each line must load with py-ocsf-models' DetectionFinding (required attributes,
types, enum values), and every attribute it carries must be one the model knows:
pydantic ignores unknown names, so a misspelt attribute would otherwise pass.
`unmapped` is free-form by definition and is not walked. Needs
`py-ocsf-models==0.10.0` (scripts/with_moto.sh's venv has it). Prints the number of
valid lines; exits 1 at the first bad line, naming it.
"""

import json
import sys

from py_ocsf_models.events.findings.detection_finding import DetectionFinding


def unknown_keys(given, known, path=""):
    """Paths present in `given` but absent from the model's dump `known`."""
    out = []
    if isinstance(given, dict) and isinstance(known, dict):
        for key, value in given.items():
            where = f"{path}.{key}" if path else key
            if key not in known:
                out.append(where)
            elif key != "unmapped":
                out.extend(unknown_keys(value, known[key], where))
    elif isinstance(given, list) and isinstance(known, list):
        for i, (g, k) in enumerate(zip(given, known)):
            out.extend(unknown_keys(g, k, f"{path}[{i}]"))
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    stream = sys.stdin if argv[1] == "-" else open(argv[1], encoding="utf-8")
    count = 0
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                document = json.loads(line)
                model = DetectionFinding.model_validate(document)
            except Exception as error:  # pydantic's ValidationError or bad JSON
                print(f"line {number}: {error}", file=sys.stderr)
                return 1
            extra = unknown_keys(document, model.model_dump(exclude_none=True))
            if extra:
                print(f"line {number}: attributes unknown to DetectionFinding: {extra}", file=sys.stderr)
                return 1
            count += 1
    print(f"{count} valid OCSF Detection Findings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
