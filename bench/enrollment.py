"""What the money operations cost in DynamoDB: requests, read units and write units.

Runs the real handlers in-process against moto (with the project's transaction patch and the
template's tables) and meters every DynamoDB call with measure.meter.CapacityMeter. Units are
computed from item sizes by DynamoDB's billing rules (transactions count double); they do not
depend on the machine, so one run is enough. Reproduce:

    .venv/bin/python bench/enrollment.py
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
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
from infra.local.events import rest_event  # noqa: E402
from infra.local.workers import LocalLambdaContext  # noqa: E402
from infra.template import api_routes  # noqa: E402
from measure.meter import CapacityMeter  # noqa: E402

OPERATOR = {"sub": "op", "cognito:groups": "operators"}
PARENT = {"sub": "parent", "cognito:groups": "parents"}
CLERK = {"sub": "clerk", "cognito:groups": "providers", "custom:provider_id": "p1"}


def _handler(method: str, resource: str) -> Any:
    import importlib

    route = next(r for r in api_routes() if (r.method, r.path) == (method, resource))
    module, attr = route.handler.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr)


def call(method, resource, path, body=None, claims=None, params=None, headers=None, status=None):
    event = rest_event(
        method,
        resource,
        path,
        headers={"content-type": "application/json", **(headers or {})},
        path_parameters=params,
        body=None if body is None else json.dumps(body),
        claims=claims,
    )
    result = _handler(method, resource)(event, LocalLambdaContext("bench", "r"))
    assert result["statusCode"] == status if status else result["statusCode"] < 300, result
    return json.loads(result["body"])


def snils(n: int) -> str:
    from navigator.domain.snils import control_number

    number = f"{200000000 + n:09d}"
    return f"{number[:3]}-{number[3:6]}-{number[6:]} {control_number(number):02d}"


def measure(rows: list[tuple[str, Any]], name: str, action: Any) -> Any:
    with CapacityMeter() as meter:
        result = action()
    ops = Counter(c.operation for c in meter.calls)
    rows.append((name, len(meter.calls), meter.read_units, meter.write_units, dict(ops)))
    return result


def main() -> None:
    from infra.local.stack import ensure_tables
    from navigator.settings import reset_settings
    from navigator.store.base import reset_connections

    install_patches()
    with mock_aws():
        reset_settings()
        reset_connections()
        ensure_tables()
        rows: list[tuple[str, Any]] = []
        period = {"starts_on": "2026-09-01", "ends_on": "2027-08-31", "nominal_kopecks": 3000000}
        call("PUT", "/periods/{period_id}", "/periods/y", period, OPERATOR, {"period_id": "y"})
        provider = {
            "provider_id": "p1",
            "name": "Студия",
            "inn": "7707083893",
            "municipality": "Красноярск",
        }
        call("POST", "/providers", "/providers", provider, OPERATOR)
        program = {
            "title": "Шахматы",
            "description": "Шахматы для детей. " * 20,
            "direction": "technical",
            "municipality": "Красноярск",
            "age_min": 5,
            "age_max": 17,
            "price_per_month_kopecks": 200000,
            "start_month": "2026-09",
            "end_month": "2027-05",
            "capacity": 30,
            "funding": "certificate",
        }
        programs = [
            call("POST", "/programs", "/programs", {**program, "title": f"Кружок {n}"}, CLERK)[
                "program_id"
            ]
            for n in range(4)
        ]
        child = measure(
            rows,
            "POST /children",
            lambda: call(
                "POST",
                "/children",
                "/children",
                {"full_name": "Иванов Иван", "birth_date": "2016-01-01", "snils": snils(1)},
                PARENT,
            ),
        )["child_id"]

        def enroll(
            program_id: str, key: str | None = None, consent: bool = True, status: int = 201
        ) -> dict:
            return call(
                "POST",
                "/enrollments",
                "/enrollments",
                {"child_id": child, "program_id": program_id, "accept_copay": consent},
                PARENT,
                headers={"Idempotency-Key": key} if key else None,
                status=status,
            )

        first = measure(
            rows,
            "POST /enrollments, first (issues the certificate)",
            lambda: enroll(programs[0]),
        )
        measure(rows, "POST /enrollments, certificate exists", lambda: enroll(programs[1]))
        measure(rows, "POST /enrollments with Idempotency-Key", lambda: enroll(programs[2], "k"))
        measure(rows, "POST /enrollments, replayed key", lambda: enroll(programs[2], "k"))
        # A refusal is confirmed on one snapshot (TransactGetItems) before it is answered.
        measure(
            rows,
            "POST /enrollments, refused: already_enrolled",
            lambda: enroll(programs[0], status=409),
        )
        measure(
            rows,
            "POST /enrollments, refused: copay_required",
            lambda: enroll(programs[3], consent=False, status=409),
        )
        eid = first["enrollment_id"]
        measure(
            rows,
            "GET /enrollments/{id}",
            lambda: call(
                "GET",
                "/enrollments/{enrollment_id}",
                f"/enrollments/{eid}",
                None,
                PARENT,
                {"enrollment_id": eid},
            ),
        )
        measure(
            rows,
            "PUT completeness",
            lambda: call(
                "PUT",
                "/enrollments/{enrollment_id}/completeness/{month}",
                f"/enrollments/{eid}/completeness/2026-09",
                {"percent": 90},
                CLERK,
                {"enrollment_id": eid, "month": "2026-09"},
            ),
        )
        cid = first["certificate_id"]
        measure(
            rows,
            "GET /certificates/{id}/ledger",
            lambda: call(
                "GET",
                "/certificates/{certificate_id}/ledger",
                f"/certificates/{cid}/ledger",
                None,
                PARENT,
                {"certificate_id": cid},
            ),
        )
        os.environ["NAVIGATOR_TODAY"] = "2026-10-02"
        reset_settings()
        measure(
            rows,
            "POST /debit-runs, 3 due months (whole pass)",
            lambda: call("POST", "/debit-runs", "/debit-runs", {"month": "2026-09"}, OPERATOR),
        )
        measure(
            rows,
            "POST /enrollments/{id}/withdraw",
            lambda: call(
                "POST",
                "/enrollments/{enrollment_id}/withdraw",
                f"/enrollments/{eid}/withdraw",
                None,
                PARENT,
                {"enrollment_id": eid},
            ),
        )

    print("| operation | DynamoDB requests | read units | write units | requests by type |")
    print("|---|---:|---:|---:|---|")
    for name, requests, rcu, wcu, ops in rows:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(ops.items()))
        print(f"| {name} | {requests} | {rcu:g} | {wcu:g} | {kinds} |")


if __name__ == "__main__":
    main()
