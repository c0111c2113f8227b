"""Cold start: the import time of every handler in template.yaml, in fresh processes, side by
side with a bare `import boto3` in the same venv (median of N runs each, interleaved so the
machine's noise falls on both alike). Reproduce:

    .venv/bin/python bench/coldstart.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from infra.template import load_template  # noqa: E402

PROBE = """
import os, sys, time
sys.path[:0] = [{functions!r}]
started = time.perf_counter()
{statement}
print(time.perf_counter() - started)
"""


def handlers() -> list[tuple[str, str]]:
    resources = load_template()["Resources"]
    out = []
    for name, res in resources.items():
        if res["Type"] == "AWS::Serverless::Function":
            out.append((name, res["Properties"]["Handler"]))
    return sorted(out)


def measure(statement: str) -> float:
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_SERVICE_NAME": "coldstart",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    code = PROBE.format(functions=str(ROOT / "functions"), statement=statement)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    targets = [("import boto3 (the yardstick)", "import boto3")] + [
        (f"{name} ({spec})", "import " + spec.rsplit(".", 1)[0]) for name, spec in handlers()
    ]
    samples: dict[str, list[float]] = {label: [] for label, _ in targets}
    for _ in range(args.runs):  # interleaved: each round measures every target once
        for label, statement in targets:
            samples[label].append(measure(statement))
    base = statistics.median(samples[targets[0][0]])
    print(f"| import | median ms (n={args.runs}) | x import boto3 |")
    print("|---|---:|---:|")
    for label, _ in targets:
        median = statistics.median(samples[label])
        print(f"| {label} | {median * 1000:.0f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
