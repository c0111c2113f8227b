"""`navigator seed`: a region's worth of data, written with BatchWriteItem into a running stack.

Every item is built by one small function per kind (:func:`region_items`), through the store's
named constructors (`new_provider`, `new_program`, `new_child`, `new_certificate`,
`new_enrollment`, `ledger_entry`), so a seeded item has the shape the API writes.
Writes go 25 at a time, unprocessed items are resent.

Navigator modules are imported inside functions: the debit bench imports this module before
it has set the environment that Powertools reads at import.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

WRITE_BATCH = 25  # BatchWriteItem's limit
SEEDED_AT = "2026-08-20T09:00:00.000Z"

MONTH = "2026-09"
END_MONTH = "2027-05"  # later than MONTH: no enrollment completes, the charges are pure
PERIOD: dict[str, Any] = {
    "period_id": "y2026",
    "starts_on": "2026-09-01",
    "ends_on": "2027-08-31",
    "nominal_kopecks": 3_000_000,
}
AMOUNT = 200_000  # the month's certificate amount
PER_PROGRAM = 25  # enrollments per program in the debit bench (seats item capacity 30)


def _hex(tag: str, i: int, what: str) -> str:
    return hashlib.blake2b(f"{tag}|{i}|{what}".encode(), digest_size=8).hexdigest()


def enrollment_items(
    tag: str,
    i: int,
    percent: int,
    now: str,
    *,
    child_id: str | None = None,
    parent_sub: str | None = None,
    program_id: str | None = None,
    period: dict[str, Any] | None = None,
) -> tuple[list[Any], dict[str, Any]]:
    """One enrollment's items, built by the store's own constructors as an enrollment builds
    them (head, only the month due in MONTH, its certificate at seq 2 with the issue and
    reserve entries, the items that list both), and what the debit bench's floor needs.
    Child, parent and program default to ones derived from ``tag`` and ``i``."""
    from navigator.store import accounts, money
    from navigator.store.money import Movement

    enrollment_id = f"enr-{_hex(tag, i, 'enr')}"
    period = period or PERIOD
    child_id = child_id or f"chd-{_hex(tag, i, 'child')}"
    parent_sub = parent_sub or f"parent-{_hex(tag, i, 'parent')}"
    program_id = program_id or f"prg-{tag}-{i // PER_PROGRAM:06d}"
    certificate = accounts.new_certificate(child_id, parent_sub, period, now)
    certificate_id = certificate.certificate_id
    head, months = accounts.new_enrollment(
        enrollment_id,
        child_id=child_id,
        parent_sub=parent_sub,
        program_id=program_id,
        provider_id="p1",
        certificate_id=certificate_id,
        price=AMOUNT,
        schedule=[
            {
                "month": MONTH,
                "certificate_kopecks": AMOUNT,
                "copay_kopecks": 0,
                "completeness_percent": percent,
                "status": "pending",
                "charged_kopecks": 0,
            }
        ],
        certificate_total=AMOUNT,  # only the charged month is built
        copay_total=0,
        created_at=now,
    )
    head.end_month = END_MONTH  # later than MONTH: the charge does not complete it
    head.duepk = accounts.end_key(END_MONTH, enrollment_id)
    moves = [
        Movement("issue", int(period["nominal_kopecks"])),
        Movement("reserve", AMOUNT, enrollment_id),
    ]
    for term, value in money.apply({t: 0 for t in money.TERMS}, moves).items():
        setattr(certificate, term, value)
    certificate.seq = len(moves)
    ledger = [
        money.ledger_entry(certificate_id, seq, move, now) for seq, move in enumerate(moves, 1)
    ]
    models = [
        head,
        *months,
        *accounts.listings(head),
        certificate,
        *ledger,
        *accounts.listings(certificate),
    ]
    spec = {
        "enrollment_id": enrollment_id,
        "certificate_id": certificate_id,
        "program_id": program_id,
        "items": len(models),
    }
    return models, spec


def _program_items(
    i: int, sizes: dict[str, int], providers: list[dict[str, Any]], templates: list[Any]
) -> list[Any]:
    from navigator.store import catalog

    # Enrollment j is in program j % programs: this program's seats taken.
    taken = sizes["enrollments"] // sizes["programs"] + (
        i < sizes["enrollments"] % sizes["programs"]
    )
    template = templates[i % len(templates)]
    provider = providers[i % len(providers)]
    fields = dict(template)
    fields.update(
        program_id=f"prg-seed-{i:06d}",
        provider_id=provider["provider_id"],
        provider_name=provider["name"],
        capacity=max(template["capacity"], taken),
    )
    program, seats = catalog.new_program(fields, SEEDED_AT, taken=taken)
    return [program, seats, *catalog.listings(program)]


def _child_ids(i: int) -> tuple[str, str]:
    return f"chd-{_hex('seed', i, 'child')}", f"parent-seed-{i // 2:06d}"  # two per parent


def _child_items(i: int) -> list[Any]:
    from navigator.store import people

    child_id, parent_sub = _child_ids(i)
    child, snils = people.new_child(
        child_id,
        parent_sub,
        full_name=f"Ребёнок {i}",
        birth_date=f"{2010 + i % 10}-0{1 + i % 9}-1{i % 10}",
        municipality="Красноярск",  # the region's own payer, at the period's nominal
        snils_hmac=_hex("seed", i, "snils"),
        snils_masked=f"***-***-{i % 1000:03d} {i % 100:02d}",
        created_at=SEEDED_AT,
    )
    return [child, snils, *people.listings(child)]


def region_items(kind: str, i: int, sizes: dict[str, int], demo: dict[str, Any]) -> list[Any]:
    """The items of the i-th program, child or enrollment of the seeded region."""
    if kind == "providers":
        from navigator.store import catalog

        provider = demo["providers"][i]
        return [catalog.new_provider(provider, SEEDED_AT)]
    if kind == "programs":
        return _program_items(i, sizes, demo["providers"], demo["programs"])
    if kind == "children":
        return _child_items(i)
    child_id, parent_sub = _child_ids(i % sizes["children"])
    program_id = f"prg-seed-{i % sizes['programs']:06d}"
    models, _ = enrollment_items(
        "seed",
        i,
        100,
        SEEDED_AT,
        child_id=child_id,
        parent_sub=parent_sub,
        program_id=program_id,
        period=demo["period"],
    )
    return models


def _batches(
    kind: str, sizes: dict[str, int], demo: dict[str, Any]
) -> Iterator[tuple[str, list[dict[str, Any]], int]]:
    """(table, up to 25 serialized items, how many of ``kind`` they finish)."""
    pending: dict[str, list[dict[str, Any]]] = {}
    done = 0
    count = len(demo["providers"]) if kind == "providers" else sizes[kind]
    for i in range(count):
        for model in region_items(kind, i, sizes, demo):
            pending.setdefault(type(model).Meta.table_name, []).append(model.serialize())
        done += 1
        for table, items in pending.items():
            while len(items) >= WRITE_BATCH:
                yield table, items[:WRITE_BATCH], done
                done = 0
                del items[:WRITE_BATCH]
    for table, items in pending.items():
        if items:
            yield table, items, done
            done = 0


def write_batch(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    pending = [{"PutRequest": {"Item": item}} for item in items]
    delay = 0.05
    while pending:
        try:
            reply = client.batch_write_item(RequestItems={table: pending})
        except client.exceptions.ProvisionedThroughputExceededException:
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
            continue
        pending = (reply.get("UnprocessedItems") or {}).get(table, [])
        if pending:
            time.sleep(delay)


def seed(sizes: dict[str, int], progress: Callable[[str, int, int], None]) -> dict[str, Any]:
    """Write the region; ``progress(kind, total, finished)`` after each batch."""
    from infra.local.demo import load_demo
    from infra.local.demo_catalog import DEMO_PERIOD, demo_programs, demo_providers
    from infra.local.stack import dynamodb_client

    load_demo()  # the demo period, providers and programs
    demo = {"providers": demo_providers(), "programs": demo_programs(), "period": DEMO_PERIOD}
    client = dynamodb_client()
    began = time.perf_counter()
    for kind in ("providers", "programs", "children", "enrollments"):
        total = len(demo["providers"]) if kind == "providers" else sizes[kind]
        for table, items, finished in _batches(kind, sizes, demo):
            write_batch(client, table, items)
            progress(kind, total, finished)
    return {**sizes, "seconds": round(time.perf_counter() - began, 1), "python": sys.version}
