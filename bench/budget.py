"""The budget's count at the September peak: write units on the busiest item at 2,000 issues/s.

Krasnoyarsk's payer may issue 2,000 certificates a second, and one DynamoDB item takes 1,000
write units a second. This runs N first enrollments of one payer's children (the real
service code, in-process against moto with the project's transaction patch) and meters every
DynamoDB call per item with measure.meter.CapacityMeter. The N issues stand for one second of
the peak, so an item's units per second at 2,000 issues/s are its units x 2,000 / N.

Side by side, in one run:
- `32 slices`: the budget as built (its count in BUDGET_SHARDS items), far from spent;
- `1 item`: the same code with one slice, i.e. a budget whose count is one item;
- `32 slices, last ones`: a budget with only N certificates left for N x 1.1 enrollments, so
  the slices run dry during the second (the fallback reads and the refusals);
- `no budget`: the payer has none (the regional payer's default), for the reads it still adds.

Units are computed from item sizes by DynamoDB's billing rules (transactions count double);
they do not depend on the machine, but which slice each issue picks is random (seeded here).
Reproduce:

    .venv/bin/python bench/budget.py --issues 2000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
for key, value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "NAVIGATOR_TODAY": "2026-09-15",
}.items():
    os.environ.setdefault(key, value)
os.environ.pop("DYNAMODB_ENDPOINT", None)

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

from moto import mock_aws  # noqa: E402

from infra.local.dynamodb import install_patches  # noqa: E402
from measure.meter import CapacityMeter  # noqa: E402

PEAK = 2_000  # issues per second, DESIGN.md's September peak for one payer
ITEM_LIMIT = 1_000  # write units per second one item takes
PROGRAMS = 50  # the children spread over this many programs, so no seat counter is the hot item


def _snils(n: int) -> str:
    from navigator.domain.snils import control_number

    number = f"{300000000 + n:09d}"
    return f"{number[:3]}-{number[3:6]}-{number[6:]} {control_number(number):02d}"


def _programs() -> list[str]:
    from navigator.identity import Caller
    from navigator.service import catalog

    clerk = Caller("clerk", frozenset({"providers"}), "bench-provider")
    catalog.create_provider(
        {
            "provider_id": "bench-provider",
            "name": "Студия",
            "inn": "7707083893",
            "municipality": "Красноярск",
        }
    )
    fields = {
        "title": "Шахматы",
        "direction": "technical",
        "municipality": "Красноярск",
        "age_min": 5,
        "age_max": 17,
        "price_per_month_kopecks": 100_000,
        "start_month": "2026-09",
        "end_month": "2027-05",
        "capacity": 10_000,
        "funding": "certificate",
    }
    return [
        str(catalog.create_program(clerk, {**fields, "title": f"Кружок {n}"})["program_id"])
        for n in range(PROGRAMS)
    ]


def scenario(
    name: str,
    slices: int,
    issues: int,
    limit: int | None,
    attempts: int,
    programs: list[str],
    serial: list[int],
) -> dict[str, Any]:
    from navigator.domain.errors import Conflict
    from navigator.identity import Caller
    from navigator.service import children, enrollments, payers
    from navigator.store import budgets
    from navigator.store.payers import is_claim_key

    budgets.BUDGET_SHARDS = slices
    n = len(serial)
    payer_id, municipality = f"payer-{n}", f"Город {n}"
    serial.append(0)
    payers.put_payer(payer_id, "Управление образования", "2466012340", [municipality], 80)
    if limit is not None:
        payers.put_budget(payer_id, "2026-2027", 3_000_000, limit)
    parent = Caller(f"parent-{n}", frozenset({"parents"}), None)
    kids = [
        children.register_child(
            parent, "Иванов Иван", "2016-01-01", _snils(n * 100_000 + i), municipality
        )["child_id"]
        for i in range(attempts)
    ]
    outcomes: dict[str, int] = {}
    began = time.perf_counter()
    with CapacityMeter() as meter:
        for i, child in enumerate(kids):
            try:
                enrollments.enroll(parent, child, programs[i % len(programs)], True)
                outcome = "issued"
            except Conflict as refusal:
                outcome = refusal.code
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    seconds = time.perf_counter() - began
    budgets.BUDGET_SHARDS = 32
    per_item = meter.per_item()

    def is_budget(key: str) -> bool:
        return budgets.is_budget_key(key) or is_claim_key(key)

    busiest_key, (_, busiest_wcu) = max(per_item.items(), key=lambda kv: kv[1][1])
    slice_wcu = max(
        (w for (t, k), (_, w) in per_item.items() if budgets.is_budget_key(k)), default=0
    )
    claim_rcu = max((r for (t, k), (r, _) in per_item.items() if is_claim_key(k)), default=0)
    budget_rcu = sum(r for (t, k), (r, _) in per_item.items() if is_budget(k))
    budget_wcu = sum(w for (t, k), (_, w) in per_item.items() if is_budget(k))
    scale = PEAK / issues
    return {
        "scenario": name,
        "slices": slices,
        "enrollments": attempts,
        "outcomes": outcomes,
        "busiest_item": busiest_key[1],
        "busiest_item_wcu_per_s": busiest_wcu * scale,
        "busiest_slice_wcu_per_s": slice_wcu * scale,
        "claim_item_rcu_per_s": claim_rcu * scale,
        "budget_rcu_per_enrollment": budget_rcu / attempts,
        "budget_wcu_per_enrollment": budget_wcu / attempts,
        "rcu_per_enrollment": meter.read_units / attempts,
        "wcu_per_enrollment": meter.write_units / attempts,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--issues", type=int, default=PEAK, help="issues standing for 1 s")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    random.seed(args.seed)
    from infra.local.stack import ensure_tables
    from navigator.service import periods
    from navigator.settings import reset_settings
    from navigator.store.base import reset_connections

    install_patches()
    issues = args.issues
    with mock_aws():
        reset_settings()
        reset_connections()
        ensure_tables()
        periods.put_period("2026-2027", "2026-09-01", "2027-08-31", 3_000_000)
        programs = _programs()
        serial: list[int] = []
        rows = [
            scenario("32 slices", 32, issues, 250_000, issues, programs, serial),
            scenario("1 item", 1, issues, 250_000, issues, programs, serial),
            scenario(
                "32 slices, last ones", 32, issues, issues, issues + issues // 10, programs, serial
            ),
            scenario("no budget", 32, issues, None, issues, programs, serial),
        ]
    print(json.dumps({"issues": issues, "peak": PEAK, "rows": rows}, ensure_ascii=False, indent=1))
    print()
    print(
        "| scenario | enrollments | outcomes | busiest slice, WCU/s at 2,000 issues/s | "
        "busiest item, WCU/s | budget RCU per enrollment | budget WCU per enrollment |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
        print(
            f"| {r['scenario']} | {r['enrollments']} | {outcomes} | "
            f"{r['busiest_slice_wcu_per_s']:,.0f} | {r['busiest_item_wcu_per_s']:,.0f} | "
            f"{r['budget_rcu_per_enrollment']:.2f} | {r['budget_wcu_per_enrollment']:.2f} |"
        )


if __name__ == "__main__":
    main()
