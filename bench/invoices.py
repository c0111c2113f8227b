"""Settlement at size: forming a month's final invoices, and a 100,000-line register.

1. forming (each size N in a fresh child process, on the embedded DynamoDB: moto's server
   over HTTP on loopback with the project's patches and the template's tables): N charged
   enrollment-months of one month, spread over PROVIDERS providers, are written with
   BatchWriteItem in the shapes the enrollment and debit code write (bench/debit.py's
   items, the month charged and moved to its DONE shard), with the month's debit run
   completed. Then, side by side:
   - "bare writes": the same N line items put once each (conditional PutItem, as the
     forming writes them), nothing read, nothing summed;
   - forming: navigator.service.settlement.start_run(month, "final", dispatch_here=True),
     both phases in-process (the same batch code the SQS workers run);
   then the invoices are checked: one per provider, lines adding up to N x AMOUNT.
2. register: a 100,000-line invoice's CSV and XLSX written by service/registers.py in a
   fresh child process, from lines held in memory (DynamoDB's reading is modelled, not
   timed: moto is no guide to it); time, peak RSS and file sizes.

Run from the repository root:

    .venv/bin/python bench/invoices.py                        # sizes 10000, register 100000
    .venv/bin/python bench/invoices.py --sizes 10000,100000 --register 100000

The AWS model (minutes and dollars for 1,000,000 charged months, the busiest partition's
units per second) is computed from the measured requests per item and the assumptions
printed with it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

MONTH = "2026-09"
TODAY = "2026-10-05"
PROVIDERS = 200
AMOUNT = 200_000


def _debit_bench() -> Any:
    """bench/debit.py (the enrollment code's item shapes); `debit` alone is the function."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("debit_bench", ROOT / "bench" / "debit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seed(client: Any, n: int) -> None:
    debit_bench = _debit_bench()
    from navigator.settings import get_settings
    from navigator.store import accounts
    from navigator.store.catalog import ProviderItem, provider_key
    from navigator.store.runs import RunItem, run_key

    settings = get_settings()
    now = "2026-08-20T09:00:00.000Z"
    chunk: list[dict[str, Any]] = []
    for i in range(n):
        models, spec = debit_bench._items("inv", i, 100, now)
        head, month = models[0], models[1]
        head.provider_id = f"prov-{i % PROVIDERS:04d}"
        month.status, month.charged_kopecks = "charged", AMOUNT
        month.duepk = accounts.done_key(debit_bench.MONTH, spec["enrollment_id"])
        chunk += [m.serialize() for m in models]
        if len(chunk) >= 1250:
            debit_bench._batch_write(client, settings.accounts_table, chunk)
            chunk = []
    debit_bench._batch_write(client, settings.accounts_table, chunk)
    providers = [
        ProviderItem(
            pk=provider_key(f"prov-{p:04d}"),
            provider_id=f"prov-{p:04d}",
            name=f"Студия {p}",
            inn="7707083893",
            municipality="Красноярск",
            created_at=now,
        ).serialize()
        for p in range(PROVIDERS)
    ]
    debit_bench._batch_write(client, settings.catalog_table, providers)
    run = RunItem(pk=run_key(MONTH), month=MONTH, status="completed", pass_id="seed")
    run.started_at = run.finished_at = run.updated_at = now
    run.save()


class Counting:
    """Counts the DynamoDB requests made through botocore, by operation."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __enter__(self) -> Counting:
        from botocore.client import BaseClient

        self._original = BaseClient._make_api_call
        counting = self

        def counted(client: Any, operation: str, params: Any) -> Any:
            counting.calls[operation] = counting.calls.get(operation, 0) + 1
            return counting._original(client, operation, params)

        BaseClient._make_api_call = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: Any) -> None:
        from botocore.client import BaseClient

        BaseClient._make_api_call = self._original  # type: ignore[method-assign]


def forming(n: int) -> dict[str, Any]:
    debit_bench = _debit_bench()

    os.environ["NAVIGATOR_TODAY"] = TODAY
    for key in ("INVOICE_QUEUE_URL", "INVOICE_DISPATCHER_FUNCTION"):
        os.environ.pop(key, None)
    server, client = debit_bench._setup("partition")
    from navigator.service import settlement
    from navigator.settings import get_settings
    from navigator.store import invoices as store

    load = os.getloadavg()[0]
    started = time.perf_counter()
    _seed(client, n)
    seeded = time.perf_counter() - started

    # Bare writes: the same number of line items, put once each, in a partition of their own.
    table = get_settings().invoices_table
    started = time.perf_counter()
    for i in range(n):
        client.put_item(
            TableName=table,
            Item={
                "pk": {"S": f"BARE#{i % 8}"},
                "sk": {"S": f"enr-{i:012d}"},
                "enrollment_id": {"S": f"enr-{i:012d}"},
                "certificate_number": {"S": "24-2026-0123456789AB"},
                "program_id": {"S": "prg-inv-000001"},
                "program_title": {"S": "Шахматы для начинающих"},
                "month": {"S": MONTH},
                "certificate_kopecks": {"N": str(AMOUNT)},
                "completeness_percent": {"N": "100"},
                "amount_kopecks": {"N": str(AMOUNT)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    bare = time.perf_counter() - started

    with Counting() as counting:
        started = time.perf_counter()
        run = settlement.start_run(MONTH, "final", dispatch_here=True)
        formed = time.perf_counter() - started
    invoices = store.month_invoices(MONTH, "final")
    assert run["status"] == "completed", run
    assert len(invoices) == PROVIDERS and run["invoices_count"] == PROVIDERS, run
    assert run["lines_count"] == n and run["amount_kopecks"] == n * AMOUNT, run
    assert sum(int(i.lines_count) for i in invoices) == n
    again = settlement.start_run(MONTH, "final", dispatch_here=True)
    assert (again["invoices_count"], again["amount_kopecks"]) == (PROVIDERS, n * AMOUNT)
    server.stop()
    return {
        "n": n,
        "load": round(load, 1),
        "seed_s": round(seeded, 1),
        "bare_s": round(bare, 2),
        "bare_per_s": round(n / bare),
        "form_s": round(formed, 2),
        "form_per_s": round(n / formed),
        "ratio": round(formed / bare, 2),
        "calls": counting.calls,
        "calls_per_item": round(sum(counting.calls.values()) / n, 3),
    }


def register(n: int, fmt: str) -> dict[str, Any]:
    """Write an n-line register from lines in memory; time, peak RSS, file size."""
    from navigator.service import registers
    from navigator.store.invoices import InvoiceItem

    invoice = InvoiceItem(
        pk="INV#x",
        invoice_id="final~2026-09~region~prov-0001",
        number="ОК/2026-09/region/prov-0001",
        kind="final",
        month=MONTH,
        payer_id="region",
        payer_name="Краевой бюджет",
        provider_id="prov-0001",
        provider_name="Спортивная школа",
        provider_inn="7707083893",
        pass_id="p",
    )

    def lines(_: Any) -> Any:
        for i in range(n):
            # What a page of DynamoDB's answer holds, without PynamoDB's per-item model cost
            # (the reading is modelled apart).
            yield SimpleNamespace(
                enrollment_id=f"enr-{i:016x}",
                certificate_number=f"24-202609-{i:010d}",
                program_id=f"prg-{i % 300:012x}",
                program_title="Спортивная гимнастика, группа начальной подготовки",
                month=MONTH,
                certificate_kopecks=333_334,
                completeness_percent=50 + i % 51,
                amount_kopecks=333_334 * (50 + i % 51) // 100,
            )

    registers.all_lines = lines  # type: ignore[assignment]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    body = registers.register(invoice, fmt).body  # no registers bucket: the file inline
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "n": n,
        "format": fmt,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),  # what the machine's load does not inflate
        "load": round(os.getloadavg()[0], 1),
        "rss_before_mb": round(before / 1024, 1),
        "rss_peak_mb": round(peak / 1024, 1),
        "bytes": len(body),
        "base64_bytes": (len(body) + 2) // 3 * 4,
    }


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


# Assumptions of the AWS model (eu-central-1 on-demand list prices, December 2026).
WRITE_PRICE = 1.525 / 1_000_000  # per write request unit
READ_PRICE = 0.305 / 1_000_000  # per read request unit
LAMBDA_GB_S = 0.0000133334  # arm64
WORKERS = 50  # the worker function's reserved concurrency
BATCH_SECONDS = 0.7  # a 100-month batch: 2 BatchGets, 1 BatchGet, 100 PutItems at ~5 ms
BIGGEST_SHARE = 0.02  # the biggest provider holds 2 % of a month's lines


def model(months: int = 1_000_000) -> dict[str, Any]:
    batches = months / 100
    minutes = batches * BATCH_SECONDS / WORKERS / 60
    # Per month: head + month + certificate read consistently (1 RRU each, < 4 KB); a line
    # put (1 WRU, < 1 KB); per batch a report and a run update (2 WRU for a transaction each).
    writes = months + batches * 4
    reads = months * 3
    dollars = writes * WRITE_PRICE + reads * READ_PRICE
    dollars += batches * BATCH_SECONDS * 0.5 * LAMBDA_GB_S
    lines_per_second = months / (minutes * 60)
    return {
        "months": months,
        "minutes": round(minutes, 1),
        "dollars": round(dollars, 2),
        "lines_per_second": round(lines_per_second),
        "busiest_line_partition_wcu_s": round(lines_per_second * BIGGEST_SHARE / 8, 1),
        "run_item_updates_s": round(batches / (minutes * 60), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--register", type=int, default=100_000)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(forming(int(args.one))))
        return
    if args.file:
        print(json.dumps(register(args.register, args.file)))
        return
    results = [_child(["--one", size]) for size in args.sizes.split(",")]
    files = [_child(["--register", str(args.register), "--file", f]) for f in ("csv", "xlsx")]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}",
        "forming": results,
        "registers": files,
        "model": model(),
        "assumptions": {
            "write_price": WRITE_PRICE,
            "read_price": READ_PRICE,
            "workers": WORKERS,
            "batch_seconds": BATCH_SECONDS,
            "biggest_provider_share": BIGGEST_SHARE,
        },
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
