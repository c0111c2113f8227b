"""The monthly debit at size: throughput, requests and units per charged item, and a model.

Against the embedded DynamoDB (moto's server over HTTP on loopback, the project's patches,
the template's tables), each size N runs in a fresh child process:

1. builds 2N funded enrollment-months for one closed month with BatchWriteItem, in the item
   shapes the enrollment code writes (enrollment head, the charged month's item in the
   `due` index, one certificate per enrollment at seq 2 with its issue and reserve ledger
   entries, the items that list the enrollment and the certificate, a seats item per
   program); half are for the debit, half for the floor;
2. checks reconcile() (timed);
3. "the floor": for the floor's N items, one bare conditional TransactWriteItems per item
   issued directly with boto3 (the month pending -> charged, the certificate under its seq,
   the ledger entry put if free: the same items and conditions as the worker), no reads;
4. the debit itself, in-process: navigator.service.debit.start_run(month, InProcess())
   dispatches from the due index and processes every batch inline;
5. checks the run's report and reconcile() again (timed).

Both 3 and 4 run under measure.meter.CapacityMeter. The timed sizes use probe=False (an update
is billed its minimum, 1 KB; every updated item here is under 1 KB); a small run with
probe=True checks that, and measures the 60 % completeness variant (part released).

Run from the repository root:

    .venv/bin/python bench/debit.py                      # sizes 10000,30000
    .venv/bin/python bench/debit.py --sizes 10000,100000

The model (AWS wall time and cost at 1M and 10M items) is computed from the measured
per-item requests and units and the assumptions printed with it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

TODAY = "2026-10-05"  # the month is closed
WRITE_BATCH = 25  # BatchWriteItem's limit

ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    # Without a namespace, Powertools raises once a metric holds 100 values (the inline
    # debit adds one per batch, so past 2,500 items): see the report's findings.
    "POWERTOOLS_METRICS_NAMESPACE": "NavigatorBench",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "NAVIGATOR_TODAY": TODAY,
}


# Before any navigator import: Powertools reads the metrics namespace when Metrics() is built.
os.environ.update(ENV)

from infra.local.seed import (  # noqa: E402
    AMOUNT,
    END_MONTH,
    MONTH,
    PERIOD,
)
from infra.local.seed import enrollment_items as _items  # noqa: E402

# ============================================================ one size, in a child process


def _setup(engine: str = "embedded") -> tuple[Any, Any]:
    for key in ("DYNAMODB_ENDPOINT", "DEBIT_QUEUE_URL", "DEBIT_DISPATCHER_FUNCTION"):
        os.environ.pop(key, None)
    import warnings

    warnings.filterwarnings("ignore")
    from infra.local.dynamodb import EmbeddedDynamoDB
    from infra.local.stack import dynamodb_client, ensure_tables, use_endpoint

    server = EmbeddedDynamoDB()
    use_endpoint(server.start())
    os.environ["DEBIT_DISPATCH_BACKGROUND"] = ""  # the pass runs in this process anyway
    ensure_tables()
    return server, dynamodb_client()


def _batch_write(client: Any, table: str, items: list[dict[str, Any]]) -> int:
    requests = 0
    for start in range(0, len(items), WRITE_BATCH):
        pending = [{"PutRequest": {"Item": item}} for item in items[start : start + WRITE_BATCH]]
        while pending:
            reply = client.batch_write_item(RequestItems={table: pending})
            requests += 1
            pending = (reply.get("UnprocessedItems") or {}).get(table, [])
    return requests


def build(client: Any, tag: str, n: int, percent: int) -> list[dict[str, Any]]:
    """N enrollment-months due in MONTH, with their certificates and ledgers."""
    from navigator.settings import get_settings
    from navigator.store.catalog import SeatsItem, program_key

    settings = get_settings()
    now = "2026-08-20T09:00:00.000Z"
    specs: list[dict[str, Any]] = []
    chunk: list[dict[str, Any]] = []
    for i in range(n):
        models, spec = _items(tag, i, percent, now)
        specs.append(spec)
        chunk += [m.serialize() for m in models]
        if len(chunk) >= 50 * WRITE_BATCH:
            _batch_write(client, settings.accounts_table, chunk)
            chunk = []
    _batch_write(client, settings.accounts_table, chunk)
    per_program = Counter(spec["program_id"] for spec in specs)
    seats = [
        SeatsItem(
            pk=program_key(pid), program_id=pid, capacity=30, taken=k, active=k, version=1
        ).serialize()
        for pid, k in sorted(per_program.items())
    ]
    _batch_write(client, settings.catalog_table, seats)
    return specs


def _period() -> None:
    from navigator.store.periods import PeriodItem, PeriodRegistry

    PeriodRegistry(version=1).save()
    PeriodItem(
        sk=PERIOD["period_id"], updated_at="2026-08-01T00:00:00.000Z", in_use=True, **PERIOD
    ).save()


def floor(client: Any, specs: list[dict[str, Any]], percent: int) -> None:
    """The same items and conditions as the worker's transaction, issued bare: no reads."""
    from navigator.domain.enrollment import charge_for
    from navigator.settings import get_settings
    from navigator.store import accounts

    table = get_settings().accounts_table
    charged = charge_for(AMOUNT, percent)
    released = AMOUNT - charged
    now = "2026-10-05T00:00:00.000Z"
    for spec in specs:
        eid, cid = spec["enrollment_id"], spec["certificate_id"]
        entries = [("debit", charged)] + ([("release", released)] if released else [])
        cert_values = {
            ":seq": {"N": "2"},
            ":next": {"N": str(2 + len(entries))},
            ":minus": {"N": str(-AMOUNT)},
            ":amount": {"N": str(AMOUNT)},
            ":spent": {"N": str(charged)},
        }
        update = "SET #seq = :next ADD reserved :minus, spent :spent"
        if released:
            update += ", balance :released"
            cert_values[":released"] = {"N": str(released)}
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": table,
                    "Key": {
                        "pk": {"S": accounts.enrollment_key(eid)},
                        "sk": {"S": accounts.month_sk(MONTH)},
                    },
                    "UpdateExpression": "SET #status = :charged, charged_kopecks = :c, "
                    "charged_pass = :p REMOVE duepk, duesk",
                    "ConditionExpression": "#status = :pending",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":charged": {"S": "charged"},
                        ":pending": {"S": "pending"},
                        ":c": {"N": str(charged)},
                        ":p": {"S": "floor"},
                    },
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": accounts.cert_key(cid)}, "sk": {"S": accounts.CERT_SK}},
                    "UpdateExpression": update,
                    "ConditionExpression": "#seq = :seq AND reserved >= :amount",
                    "ExpressionAttributeNames": {"#seq": "seq"},
                    "ExpressionAttributeValues": cert_values,
                }
            },
        ]
        for offset, (kind, amount) in enumerate(entries):
            seq = 3 + offset
            items.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            "pk": {"S": accounts.cert_key(cid)},
                            "sk": {"S": accounts.ledger_sk(seq)},
                            "entry_id": {"S": f"le-floor-{seq}-{eid[4:]}"},
                            "certificate_id": {"S": cid},
                            "seq": {"N": str(seq)},
                            "type": {"S": kind},
                            "amount_kopecks": {"N": str(amount)},
                            "enrollment_id": {"S": eid},
                            "month": {"S": MONTH},
                            "created_at": {"S": now},
                        },
                        "ConditionExpression": "attribute_not_exists(sk)",
                    }
                }
            )
        client.transact_write_items(TransactItems=items)


def _meter_figures(meter: Any, n: int) -> dict[str, Any]:
    from navigator.settings import get_settings

    accounts_table = get_settings().accounts_table
    by_op: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    tx = {"charge": [0, 0.0, 0], "bookkeeping": [0, 0.0, 0]}
    errors: Counter[str] = Counter()
    seconds = 0.0
    for call in meter.calls:
        row = by_op[call.operation]
        row[0] += 1
        row[1] += call.rcu
        row[2] += call.wcu
        seconds += call.seconds
        if call.error:
            errors[f"{call.operation} {call.error}"] += 1
        if call.operation == "TransactWriteItems":
            kind = "charge" if call.table == accounts_table else "bookkeeping"
            tx[kind][0] += 1
            tx[kind][1] += call.wcu
            tx[kind][2] += call.items
    rcu, wcu = meter.read_units, meter.write_units
    tx_wcu = tx["charge"][1] + tx["bookkeeping"][1]
    return {
        "requests": len(meter.calls),
        "requests_per_item": len(meter.calls) / n,
        "by_operation": {
            op: {"calls": c, "per_item": c / n, "rcu_per_item": r / n, "wcu_per_item": w / n}
            for op, (c, r, w) in sorted(by_op.items())
        },
        "rcu": rcu,
        "wcu": wcu,
        "rcu_per_item": rcu / n,
        "wcu_per_item": wcu / n,
        "tx_wcu_per_item": tx_wcu / n,
        "other_wcu_per_item": (wcu - tx_wcu) / n,
        "charge_tx": {
            "calls": tx["charge"][0],
            "wcu_per_item": tx["charge"][1] / n,
            "items_per_tx": tx["charge"][2] / max(1, tx["charge"][0]),
        },
        "bookkeeping_tx": {"calls": tx["bookkeeping"][0], "wcu_per_item": tx["bookkeeping"][1] / n},
        "errors": dict(errors),
        "request_seconds": seconds,
    }


def _reconcile(sample: int | None, specs: list[dict[str, Any]]) -> dict[str, Any]:
    from navigator.service.reconciliation import certificate_problems, reconcile

    began = time.perf_counter()
    if not sample:
        report = reconcile()
        return {
            "mode": "full",
            "certificates": report["certificates_checked"],
            "mismatches": len(report["mismatches"]),
            "examples": report["mismatches"][:3],
            "seconds": time.perf_counter() - began,
        }
    # A sample: the same checks, on certificates read one by one.
    import random

    from navigator.store import accounts

    chosen = random.Random(7).sample(specs, min(sample, len(specs)))
    mismatches = []
    for spec in chosen:
        cert = accounts.get_certificate(spec["certificate_id"])
        entries, _ = accounts.ledger_page(spec["certificate_id"], 1_000, None)
        pending: dict[str, int] = defaultdict(int)
        for month in accounts.get_enrollment(spec["enrollment_id"])[1]:
            if month.status == "pending" and month.certificate_id:
                pending[month.certificate_id] += int(month.certificate_kopecks)
        for problem in certificate_problems(cert, entries, pending):
            mismatches.append({"certificate_id": cert.certificate_id, "problem": problem})
    return {
        "mode": f"sample of {len(chosen)}",
        "certificates": len(chosen),
        "mismatches": len(mismatches),
        "examples": mismatches[:3],
        "seconds": time.perf_counter() - began,
    }


def one(
    n: int, percent: int, probe: bool, with_floor: bool, sample: int | None, engine: str
) -> dict[str, Any]:
    from measure.meter import CapacityMeter
    from navigator.service import debit
    from navigator.service.dispatchers import InProcess

    server, client = _setup(engine)
    out: dict[str, Any] = {"n": n, "percent": percent, "probe": probe, "engine": engine}
    began = time.perf_counter()
    _period()
    specs = build(client, "d", n, percent)
    floor_specs = build(client, "f", n, percent) if with_floor else []
    out["build_seconds"] = time.perf_counter() - began
    out["items_built"] = sum(spec["items"] for spec in specs + floor_specs)
    out["reconcile_before"] = _reconcile(sample, specs + floor_specs)
    _log(f"n={n} built in {out['build_seconds']:.1f}s; reconcile before: {out['reconcile_before']}")

    if with_floor:
        with CapacityMeter(probe=False) as meter:
            began = time.perf_counter()
            floor(client, floor_specs, percent)
            seconds = time.perf_counter() - began
        out["floor"] = {
            "seconds": seconds,
            "items_per_second": n / seconds,
            **_meter_figures(meter, n),
        }
        _log(f"n={n} floor {seconds:.1f}s, {n / seconds:.0f} items/s")

    done = {"n": 0, "next": 0}

    def progress(k: int) -> None:
        done["n"] += k
        if done["n"] >= done["next"]:
            _log(f"  charged {done['n']}/{n} at {time.perf_counter() - began:.0f}s")
            done["next"] += max(1000, n // 10)

    # The dispatcher's enumeration ends when it hands its batches over: note that moment.
    sent: dict[str, float] = {}

    class Noted(InProcess):
        def send(self, messages: list[dict[str, Any]]) -> None:
            sent.setdefault("at", time.perf_counter())
            super().send(messages)

    with CapacityMeter(probe=probe) as meter:
        began = time.perf_counter()
        report = debit.start_run(MONTH, Noted(progress=progress))
        seconds = time.perf_counter() - began
    enumerate_s = sent.get("at", began) - began
    out["debit"] = {
        "seconds": seconds,
        "items_per_second": n / seconds,
        "enumerate_seconds": enumerate_s,
        "charge_seconds": seconds - enumerate_s,
        "charge_items_per_second": n / (seconds - enumerate_s),
        **_meter_figures(meter, n),
    }
    out["report"] = report
    _log(f"n={n} debit {seconds:.1f}s, {n / seconds:.0f} items/s; report {report}")
    out["reconcile_after"] = _reconcile(sample, specs + floor_specs)
    _log(f"n={n} reconcile after: {out['reconcile_after']}")
    server.stop()
    return out


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ==================================================================== the parent: runs


def _child(
    n: int, percent: int, probe: bool, with_floor: bool, sample: int | None, engine: str
) -> dict[str, Any]:
    args = [sys.executable, __file__, "--one", str(n), "--percent", str(percent)]
    args += ["--engine", engine]
    if probe:
        args.append("--probe")
    if not with_floor:
        args.append("--no-floor")
    if sample:
        args += ["--sample", str(sample)]
    done = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ==================================================================== the model

# Each assumption: (value, source). Prices: eu-central-1, as published in 2025 - verify.
ASSUME: dict[str, tuple[float, str]] = {
    "wru_usd_per_million": (
        0.7625,
        "DynamoDB on-demand write request units, eu-central-1, after the 1 Nov 2024 50 % cut "
        "(was 1.525): aws.amazon.com/dynamodb/pricing/on-demand, as published in 2025 - verify",
    ),
    "rru_usd_per_million": (
        0.1525,
        "DynamoDB on-demand read request units, eu-central-1 (was 0.305 before Nov 2024), "
        "same page - verify",
    ),
    "sqs_usd_per_million": (
        0.40,
        "SQS standard queue, per million requests (64 KB chunks), beyond the free tier: "
        "aws.amazon.com/sqs/pricing - verify",
    ),
    "lambda_usd_per_gb_s": (
        0.0000166667,
        "Lambda x86, per GB-second, eu-central-1: aws.amazon.com/lambda/pricing - verify",
    ),
    "lambda_usd_per_million_requests": (0.20, "Lambda, per million invocations - verify"),
    "worker_gb": (0.5, "template.yaml Globals MemorySize 512 (the worker sets none)"),
    "workers": (
        50,
        "template.yaml DebitWorkerFunction ReservedConcurrentExecutions 50 / MaximumConcurrency 50",
    ),
    "messages_per_invocation": (10, "template.yaml SQS event BatchSize 10"),
    "get_ms": (4.0, "assumed: consistent GetItem/Query in-region, warm connection, 3-5 ms"),
    "tx_ms_low": (10.0, "assumed: a 3-4 item TransactWriteItems, 10-20 ms"),
    "tx_ms_high": (20.0, "assumed, upper end"),
    "cpu_ms": (1.5, "assumed: Python/PynamoDB per item in the worker (serialize, parse)"),
    "send_batch_ms": (15.0, "assumed: one SQS SendMessageBatch from the dispatcher"),
    "partition_wcu": (1000, "DynamoDB per-partition limit, 1,000 WCU/s (developer guide)"),
}


def _v(name: str) -> float:
    return ASSUME[name][0]


def model(d: dict[str, Any], d60: dict[str, Any] | None) -> dict[str, Any]:
    """AWS wall time and cost at 1M and 10M items from the measured per-item figures."""
    ops = d["by_operation"]
    reads_per_item = sum(
        ops.get(op, {}).get("per_item", 0) for op in ("GetItem", "Query", "Scan", "BatchGetItem")
    )
    # The dispatcher's 32 due/end queries and the run's reads are per pass; at scale the
    # worker's per-item reads are what remain. Subtract the pass's fixed reads (< 50).
    tx_per_item = ops.get("TransactWriteItems", {}).get("per_item", 0)
    charge_tx_per_item = d["charge_tx"]["calls"] / d["n_items"]
    other_tx_per_item = tx_per_item - charge_tx_per_item
    other_writes_per_item = sum(
        ops.get(op, {}).get("per_item", 0) for op in ("PutItem", "UpdateItem", "DeleteItem")
    )
    # GSI writes the meter does not see (1 WRU per KB per index item written, not doubled):
    # the month moves from its DUE# to its DONE# entry in the `due` index (a delete and a
    # put: 2), and the certificate's ALL-projection gsi1 (owner) entry is rewritten because
    # its balance/reserved/spent/seq change (1). Its keys-only `period` entry is not.
    gsi_wru = 3.0
    base_wru = d["wcu_per_item"]
    wru = base_wru + gsi_wru
    rru = d["rcu_per_item"]
    out: dict[str, Any] = {
        "reads_per_item": reads_per_item,
        "tx_per_item": tx_per_item,
        "charge_tx_per_item": charge_tx_per_item,
        "bookkeeping_tx_per_item": other_tx_per_item,
        "gsi_wru_per_item": gsi_wru,
        "wru_per_item": wru,
        "rru_per_item": rru,
    }
    if d60 is not None:
        out["wru_per_item_60"] = d60["wcu_per_item"] + gsi_wru
    # Serial latency of one item in a worker, and per batch of 25 (record_batch and
    # complete_if_done transactions) spread over its items.
    batch_overhead_tx = other_tx_per_item + other_writes_per_item
    scenarios = {}
    for label, reads, tx_ms in (
        ("current worker, tx 10 ms", reads_per_item, _v("tx_ms_low")),
        ("current worker, tx 20 ms", reads_per_item, _v("tx_ms_high")),
        ("no reads (floor-like), tx 10 ms", 0, _v("tx_ms_low")),
        ("no reads (floor-like), tx 20 ms", 0, _v("tx_ms_high")),
    ):
        per_item_ms = reads * _v("get_ms") + charge_tx_per_item * tx_ms + batch_overhead_tx * tx_ms
        per_item_ms += _v("cpu_ms")
        rate = _v("workers") * 1000 / per_item_ms
        rows = {}
        for total in (1_000_000, 10_000_000):
            batches = total / 25
            dispatch_s = (batches / 10) * _v("send_batch_ms") / 1000
            charge_s = total / rate
            # The dispatcher enumerates everything before it sends anything, then workers
            # start while it sends: wall ~ enumeration + max(sending, charging).
            pages = 32 + total * 100 / 1_000_000  # keys-only entries ~100 B, 1 MB pages
            enumerate_s = pages * 0.05
            wall = enumerate_s + max(dispatch_s, charge_s)
            scenario_rru = rru if reads else 0.0  # no reads: only the enumeration's, ~0
            dynamo = (
                total
                * (wru * _v("wru_usd_per_million") + scenario_rru * _v("rru_usd_per_million"))
                / 1e6
            )
            # Worker GB-seconds: busy time of all items across workers.
            gb_s = total * per_item_ms / 1000 * _v("worker_gb")
            invocations = batches / _v("messages_per_invocation")
            lam = (
                gb_s * _v("lambda_usd_per_gb_s")
                + invocations * _v("lambda_usd_per_million_requests") / 1e6
            )
            # SQS: send batches of 10, receive and delete batches of up to 10, and empty polls
            # (assume as many as useful receives).
            sqs_requests = batches / 10 * 4
            sqs = sqs_requests * _v("sqs_usd_per_million") / 1e6
            rows[total] = {
                "wall_minutes": wall / 60,
                "enumerate_s": enumerate_s,
                "dispatch_send_s": dispatch_s,
                "charge_s": charge_s,
                "usd_dynamodb": dynamo,
                "usd_lambda": lam,
                "usd_sqs": sqs,
                "usd_total": dynamo + lam + sqs,
                "workers_for_goal": (
                    total / ((10 if total == 1_000_000 else 60) * 60 - enumerate_s)
                )
                * per_item_ms
                / 1000,
            }
        scenarios[label] = {
            "per_item_ms": per_item_ms,
            "items_per_second": rate,
            # The due index: each charge deletes a DUE# entry and puts a DONE# one, each spread
            # over 16 shards, 1 WRU each.
            "due_shard_wcu_s": rate / 16,
            # The certificate's owner index key is PARENT#{sub}: a family's few certificates,
            # so the busiest key sees a handful of writes per run, not a share of the rate.
            "period_gsi2_wcu_s": 0.0,
            # RUN#{month}: per batch, the report put and the run update (2 WRU each, in a
            # transaction) and complete_if_done's cancelled transaction (2 WRU).
            "run_partition_wcu_s": rate / 25 * 6,
            "rows": rows,
        }
    out["scenarios"] = scenarios
    return out


# ==================================================================== output


def _fmt_ops(figures: dict[str, Any]) -> str:
    return ", ".join(f"{op} {row['per_item']:.3f}" for op, row in figures["by_operation"].items())


def render(results: list[dict[str, Any]], variants: list[dict[str, Any]], command: str) -> str:
    results = [r for r in results if r["n"]]
    base = max(results, key=lambda r: r["n"])  # the model's per-item figures: the largest run
    base["debit"]["n_items"] = base["n"]
    v60 = next((v["debit"] for v in variants if v["percent"] == 60), None)
    m = model(base["debit"], v60)
    lines = [
        "# Monthly debit at size: throughput, requests, units, and an AWS model",
        "",
        "Reproduce from the repository root:",
        "",
        "```",
        command,
        "```",
        "",
        f"- Date: {datetime.now(UTC).date().isoformat()}; nproc {os.cpu_count()}; "
        f"Python {platform.python_version()}",
        f"- Month {MONTH} charged with NAVIGATOR_TODAY={TODAY}; every enrollment ends "
        f"{END_MONTH}, so nothing completes: pure charges. One certificate per enrollment "
        f"(nominal {PERIOD['nominal_kopecks']:,}, reserved = the month's {AMOUNT:,}, seq 2).",
        "",
        "## Throughput (embedded DynamoDB, HTTP on loopback, one process)",
        "",
        "| engine | N | build s | debit s (enumerate + charge) | debit items/s | "
        "charge-phase items/s | floor s | floor items/s | debit/floor time | "
        "charged | failed | status |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        d, f, rep = r["debit"], r["floor"], r["report"]
        ratio = d["seconds"] / f["seconds"]
        lines.append(
            f"| {r['engine']} | {r['n']:,} | {r['build_seconds']:.0f} | {d['seconds']:.1f} "
            f"({d['enumerate_seconds']:.1f} + {d['charge_seconds']:.1f}) | "
            f"{d['items_per_second']:.1f} | {d['charge_items_per_second']:.1f} | "
            f"{f['seconds']:.1f} | {f['items_per_second']:.0f} | "
            f"{ratio:.2f}x | {rep['charged_count']:,} | {rep['failed_count']} | {rep['status']} |"
        )
    for engine in ("moto", "partition", "embedded"):
        runs_ = sorted((r for r in results if r["engine"] == engine), key=lambda r: r["n"])
        if len(runs_) >= 2:
            a, b = runs_[0], runs_[-1]
            da, db = a["debit"], b["debit"]
            lines += [
                "",
                f"Growth, {engine}, {a['n']:,} -> {b['n']:,} (x{b['n'] / a['n']:.1f} items): "
                f"debit time x{b['debit']['seconds'] / a['debit']['seconds']:.2f} "
                f"(enumeration x{db['enumerate_seconds'] / da['enumerate_seconds']:.2f}, "
                f"charging x{b['debit']['charge_seconds'] / a['debit']['charge_seconds']:.2f}), "
                f"floor time x{b['floor']['seconds'] / a['floor']['seconds']:.2f}.",
            ]
    lines += [
        "",
        "## Reconciliation",
        "",
        "| N | before | after | mode | certificates | mismatches after |",
        "|---:|---:|---:|---|---:|---:|",
    ]
    for r in results + variants:
        lines.append(
            f"| {r['engine']} {r['n']:,} ({r['percent']} %) | "
            f"{r['reconcile_before']['seconds']:.1f} s | "
            f"{r['reconcile_after']['seconds']:.1f} s | {r['reconcile_after']['mode']} | "
            f"{r['reconcile_after']['certificates']:,} | {r['reconcile_after']['mismatches']} |"
        )
    lines += [
        "",
        "## Requests and units per charged item (the meter; GSI writes not included)",
        "",
        "| run | probe | requests/item | by operation (per item) | RCU/item | WCU/item | "
        "tx WCU/item (charge + bookkeeping) | other WCU/item | items per charge tx |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results + variants:
        for name in ("debit", "floor"):
            x = r.get(name)
            if not x:
                continue
            lines.append(
                f"| {name} {r['engine']} N={r['n']:,} {r['percent']} % | "
                f"{r['probe'] and name == 'debit'} | "
                f"{x['requests_per_item']:.3f} | {_fmt_ops(x)} | {x['rcu_per_item']:.3f} | "
                f"{x['wcu_per_item']:.3f} | {x['tx_wcu_per_item']:.3f} "
                f"({x['charge_tx']['wcu_per_item']:.3f} + "
                f"{x['bookkeeping_tx']['wcu_per_item']:.3f}) | "
                f"{x['other_wcu_per_item']:.3f} | {x['charge_tx']['items_per_tx']:.2f} |"
            )
    errs = {
        f"{r['engine']} {r['n']} {r['percent']} %": r["debit"]["errors"] for r in results + variants
    }
    lines += ["", f"Failed calls during the debit (billed): `{json.dumps(errs)}`", ""]
    lines += ["## Model: AWS", "", "Assumptions:", ""]
    for name, (value, source) in ASSUME.items():
        lines.append(f"- `{name}` = {value:g}: {source}")
    lines += [
        "",
        f"Per charged item: {m['reads_per_item']:.2f} reads, {m['charge_tx_per_item']:.2f} "
        f"charge transactions + {m['bookkeeping_tx_per_item']:.3f} bookkeeping transactions; "
        f"{m['rru_per_item']:.2f} RRU; {m['wru_per_item']:.2f} WRU with "
        f"{m['gsi_wru_per_item']:.0f} GSI WRU"
        + (
            f"; at 60 % completeness {m['wru_per_item_60']:.2f} WRU"
            if "wru_per_item_60" in m
            else ""
        )
        + ".",
        "",
        "| scenario | ms/item/worker | items/s (50 workers) | due shard WCU/s | "
        "period index WCU/s | RUN# WCU/s | 1M: min | 1M: $ | 10M: min | 10M: $ | "
        "workers for 10M in 60 min |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, s in m["scenarios"].items():
        r1, r10 = s["rows"][1_000_000], s["rows"][10_000_000]
        lines.append(
            f"| {label} | {s['per_item_ms']:.1f} | {s['items_per_second']:.0f} | "
            f"{s['due_shard_wcu_s']:.0f} | {s['period_gsi2_wcu_s']:.0f} | "
            f"{s['run_partition_wcu_s']:.0f} | {r1['wall_minutes']:.1f} | {r1['usd_total']:.2f} | "
            f"{r10['wall_minutes']:.1f} | {r10['usd_total']:.2f} | "
            f"{r10['workers_for_goal']:.0f} |"
        )
    s = next(iter(m["scenarios"].values()))
    r1, r10 = s["rows"][1_000_000], s["rows"][10_000_000]
    lines += [
        "",
        "Cost split (current worker, tx 10 ms): "
        f"1M: DynamoDB ${r1['usd_dynamodb']:.2f}, Lambda ${r1['usd_lambda']:.2f}, "
        f"SQS ${r1['usd_sqs']:.3f}; 10M: DynamoDB ${r10['usd_dynamodb']:.2f}, "
        f"Lambda ${r10['usd_lambda']:.2f}, SQS ${r10['usd_sqs']:.3f}. "
        f"Dispatcher at 10M: enumeration ~{r10['enumerate_s']:.0f} s, sending "
        f"~{r10['dispatch_send_s']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,30000")
    parser.add_argument(
        "--engine",
        choices=("embedded",),
        default="embedded",
        help="the embedded DynamoDB with its ordered storage (the one engine since issue 16)",
    )
    parser.add_argument("--variants", type=int, default=0, help="probe runs at 100 %% and 60 %%")
    parser.add_argument("--sample", type=int, default=0, help="reconcile a sample, not all")
    parser.add_argument("--json", help="write the raw figures here")
    parser.add_argument("--render", nargs="+", help="print the report from --json files")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--percent", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        result = one(
            args.one, args.percent, args.probe, not args.no_floor, args.sample or None, args.engine
        )
        print(json.dumps(result, default=str))
        return
    if args.render:
        results, variants = [], []
        for name in args.render:
            data = json.loads(Path(name).read_text())
            results += data["results"]
            variants += data["variants"]
        command = " && ".join(
            data.get("command", "")
            for data in (json.loads(Path(name).read_text()) for name in args.render)
        )
        print(render(results, variants, command))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s and int(s)]
    results = []
    for n in sizes:
        # Reconcile everything up to 4,000 certificates; beyond, a sample of 500.
        sample = args.sample or (None if 2 * n <= 4000 else 500)
        results.append(_child(n, 100, False, True, sample, args.engine))
    variants = []
    if args.variants:
        variants = [
            _child(args.variants, percent, True, True, None, args.engine) for percent in (100, 60)
        ]
    command = ".venv/bin/python bench/debit.py " + " ".join(sys.argv[1:])
    data = {"command": command.strip(), "results": results, "variants": variants}
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1, default=str))
    print(render(results, variants, data["command"]))


if __name__ == "__main__":
    main()
