#!/usr/bin/env bash
# Checks the infrastructure code offline (terraform init/validate need provider
# downloads, which this environment cannot do):
#   1. terraform fmt -check -recursive terraform
#   2. checkov on terraform/ with zero failed checks (skips are inline, with reasons)
#   3. scripts/check_terraform.py: our consistency checks on the parsed HCL, against
#      backend/lambdas.json -- and its own tests first, so a checker that cannot fail
#      fails here.
# Tools are installed once into ~/.cache/cspm-tools (see scripts/tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
export PYTHONDONTWRITEBYTECODE=1  # keep scripts/ free of __pycache__

CHECKOV_VERSION=3.3.30
HCL2_VERSION=8.1.4

step() { printf -- '--> %s\n' "$*"; }

# terraform warns without a CLI config file; an empty one is enough.
[ -e "$HOME/.terraformrc" ] || touch "$HOME/.terraformrc"
command -v terraform >/dev/null || { echo "terraform CLI not found (need 1.6+)" >&2; exit 1; }

step "terraform fmt -check -recursive terraform"
if ! terraform fmt -check -recursive -diff terraform; then
  echo "terraform files are not formatted: run 'terraform fmt -recursive terraform'" >&2
  exit 1
fi
# terraform fmt only takes .tf/.tfvars names; check the example through a copy.
example_copy="${TMPDIR:-/tmp}/tfvars-example-$$.tfvars"
cp terraform/terraform.tfvars.example "$example_copy"
if ! terraform fmt -check "$example_copy" >/dev/null; then
  rm -f "$example_copy"
  echo "terraform/terraform.tfvars.example is not formatted (terraform fmt it through a .tfvars copy)" >&2
  exit 1
fi
rm -f "$example_copy"

# Separate venvs: checkov ships its own, clashing, hcl2 module.
checkov_bin=$(venv_tool "checkov-$CHECKOV_VERSION" "checkov==$CHECKOV_VERSION")
hcl2_bin=$(venv_tool "python-hcl2-$HCL2_VERSION" "python-hcl2==$HCL2_VERSION")

step "checkov $CHECKOV_VERSION (zero failed checks allowed)"
# One run, JSON report; the summary, every failure and every skip with its reason are
# printed from it below.
report="${TMPDIR:-/tmp}/checkov-$$.json"
trap 'rm -f "$report" "$report.log"' EXIT
set +e
"$checkov_bin/checkov" -d terraform --framework terraform --skip-download --output json >"$report" 2>"$report.log"
checkov_rc=$?
set -e
if ! "$hcl2_bin/python" - "$report" <<'PY'
import json, sys
try:
    data = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit("checkov produced no JSON report")
reports = data if isinstance(data, list) else [data]
s = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
failed, skips = [], []
for r in reports:
    for k in s:
        s[k] += r.get("summary", {}).get(k, 0)
    res = r.get("results", {})
    for c in res.get("failed_checks", []):
        lines = "-".join(str(n) for n in c.get("file_line_range", []))
        failed.append(f"    FAILED {c['check_id']} {c['resource']} ({c['file_path']}:{lines}): {c['check_name']}")
    for c in res.get("skipped_checks", []):
        reason = (c.get("check_result") or {}).get("suppress_comment", "")
        skips.append(f"    skipped {c['check_id']} {c['resource']}: {reason}")
print(f"    checkov: passed {s['passed']}, failed {s['failed']}, skipped {s['skipped']}, "
      f"parsing errors {s['parsing_errors']}, resources scanned {s['resource_count']}")
print("\n".join(sorted(skips) + failed))
bad = [x for x in skips if x.endswith(": ")]
if bad:
    print("    every checkov skip needs a written reason: # checkov:skip=CKV_AWS_xx:why", file=sys.stderr)
sys.exit(1 if s["failed"] or s["parsing_errors"] or bad else 0)
PY
then
  echo "checkov: fix the failed checks above or skip inline with a reason: # checkov:skip=CKV_AWS_xx:why" >&2
  exit 1
fi
if [ "$checkov_rc" -ne 0 ]; then
  echo "checkov exited $checkov_rc; its log:" >&2
  cat "$report.log" >&2
  exit 1
fi
rm -f "$report.log"

step "scripts/test_check_terraform.py (the checker can fail)"
"$hcl2_bin/python" -m unittest -q scripts/test_check_terraform.py

step "scripts/check_terraform.py (references, module calls, Lambdas vs backend/lambdas.json, tables, WebSocket API)"
"$hcl2_bin/python" scripts/check_terraform.py
