"""`make audit`: cfn-lint with its informational rules, checkov on the transformed template and
bandit, each finding compared with the committed baseline of accepted ones (infra/audit.json).

It fails on a finding the baseline does not accept, on a baseline entry that no longer matches
anything (remove it, and its line in docs/security.md), and on an accepted check that
docs/security.md does not explain. Standard library only: it runs the tools from their venvs.
Usage: python3.11 infra/audit.py [--sam-venv .venv-sam] [--audit-venv .venv-audit]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "infra" / "audit.json"
SECURITY_DOC = ROOT / "docs" / "security.md"
TEMPLATE = "template.yaml"
TRANSFORMED = ".audit/template.json"
BANDIT_PATHS = ["functions", "infra", "measure"]


@dataclass(frozen=True)
class Finding:
    tool: str
    check: str
    where: str  # a resource's logical id, or a file
    what: str


def _run(command: list[str]) -> str:
    """A tool's JSON report. Its exit code only says it found something: the report tells."""
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode and not done.stdout.strip():
        sys.stderr.write(done.stderr)
        raise SystemExit(f"audit: {command[0]} failed ({done.returncode}) with no report")
    return done.stdout


def cfn_lint(sam_venv: str) -> list[Finding]:
    out = _run(
        [f"{sam_venv}/bin/cfn-lint", "--include-checks", "I", "--format", "json", "--", TEMPLATE]
    )
    found = []
    for match in json.loads(out or "[]"):
        path = match.get("Location", {}).get("Path") or []
        where = path[1] if len(path) > 1 and path[0] == "Resources" else "/".join(map(str, path))
        found.append(Finding("cfn-lint", match["Rule"]["Id"], str(where), match["Message"]))
    return found


def checkov(sam_venv: str, audit_venv: str) -> tuple[list[Finding], int]:
    (ROOT / TRANSFORMED).parent.mkdir(exist_ok=True)
    _run([f"{sam_venv}/bin/python", "infra/sam_transform.py", TEMPLATE, TRANSFORMED])
    out = _run(
        [
            f"{audit_venv}/bin/checkov",
            *("--file", TRANSFORMED, "--framework", "cloudformation"),
            *("--output", "json", "--quiet", "--compact", "--skip-download"),
        ]
    )
    report = json.loads(out)
    failed = report.get("results", {}).get("failed_checks", [])
    found = [
        Finding("checkov", c["check_id"], c["resource"].split(".", 1)[-1], c["check_name"])
        for c in failed
    ]
    return found, int(report.get("summary", {}).get("passed", 0))


def bandit(audit_venv: str) -> list[Finding]:
    out = _run([f"{audit_venv}/bin/bandit", "--quiet", "-r", *BANDIT_PATHS, "--format", "json"])
    return [
        Finding("bandit", r["test_id"], r["filename"], f"{r['issue_severity']}: {r['issue_text']}")
        for r in json.loads(out)["results"]
    ]


def accepted(finding: Finding, entry: dict[str, str]) -> bool:
    return (
        entry["tool"] == finding.tool
        and entry["check"] == finding.check
        and fnmatch.fnmatchcase(finding.where, entry["where"])
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sam-venv", default=".venv-sam")
    parser.add_argument("--audit-venv", default=".venv-audit")
    args = parser.parse_args()

    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))["accepted"]
    lint = cfn_lint(args.sam_venv)
    checks, passed = checkov(args.sam_venv, args.audit_venv)
    code = bandit(args.audit_venv)
    findings = lint + checks + code

    new = [f for f in findings if not any(accepted(f, e) for e in baseline)]
    stale = [e for e in baseline if not any(accepted(f, e) for f in findings)]
    doc = SECURITY_DOC.read_text(encoding="utf-8")
    unexplained = sorted(
        {e["check"] for e in baseline if not re.search(rf"\b{re.escape(e['check'])}\b", doc)}
    )

    for tool, found in (("cfn-lint -I", lint), ("checkov", checks), ("bandit", code)):
        fresh = sum(1 for f in new if f in found)
        print(f"{tool}: {len(found)} findings, {len(found) - fresh} accepted, {fresh} new")
    print(f"checkov: {passed} passed, {len(checks)} failed")
    for f in new:
        print(f"NEW {f.tool} {f.check} {f.where}: {f.what}")
    for e in stale:
        print(f"STALE baseline entry {e['tool']} {e['check']} {e['where']}: matches nothing")
    for check in unexplained:
        print(f"UNEXPLAINED {check}: accepted in {BASELINE.name} but not in docs/security.md")
    if new or stale or unexplained:
        print("audit failed: fix the finding, or accept it with its reason (docs/security.md)")
        return 1
    print("audit passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
