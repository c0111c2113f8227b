"""Invoices are formed once whatever dies, is delivered twice, runs concurrently or re-runs:
no invoice and no line twice, and the amounts never change."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.settle.helpers import by_group, form, invoices, lines
from tests.support.api import OPERATOR, request
from tests.support.money import enroll, publish, register_child, set_today
from tests.support.races import PARENT, race_child, race_program

PRICE = 200_000
ADVANCE = PRICE * 80 // 100


@pytest.fixture
def queue(world):
    """Batches go to a list instead of being processed: the tests play the queue."""
    from navigator.service import settlement

    messages: list[dict] = []
    world.setattr(settlement, "send", lambda batch, progress=None: messages.extend(batch))
    return messages


def _three_and_two() -> None:
    """Three enrollments in p1's program and two in p2's: two advance invoices."""
    for provider_id, count in (("p1", 3), ("p2", 2)):
        program = publish(provider_id, price_per_month_kopecks=PRICE, capacity=10)
        for _ in range(count):
            assert enroll(register_child(), program).status == 201


def _books() -> dict:
    """Every invoice with its lines: what must never change."""
    out = {}
    for invoice in invoices():
        out[invoice["invoice_id"]] = (invoice, lines(invoice["invoice_id"]))
    return out


def _run() -> dict:
    return dict(request("GET", "/invoice-runs/2026-09/advance", claims=OPERATOR).body)


def _expected_amounts(books: dict) -> dict:
    return {
        i["provider_id"]: (i["lines_count"], i["amount_kopecks"], len(ls))
        for i, ls in books.values()
    }


FORMED = {"p1": (3, 3 * ADVANCE, 3), "p2": (2, 2 * ADVANCE, 2)}


def test_workers_dying_midway_then_retried_form_every_invoice_once(world, queue):
    from navigator.service import settlement
    from navigator.store import invoices as store

    _three_and_two()
    assert form("2026-09", "advance").body["status"] == "running"
    (line_batch,) = queue
    real_put = store.put_line
    calls = {"n": 0}

    def dies_after_two(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("the worker's container died")
        return real_put(*args, **kwargs)

    world.setattr(store, "put_line", dies_after_two)
    with pytest.raises(RuntimeError):
        settlement.process_batch(line_batch)
    assert _run()["status"] == "running" and invoices() == []
    world.setattr(store, "put_line", real_put)
    settlement.process_batch(line_batch)  # SQS delivers it again
    (invoice_batch,) = queue[1:]
    assert invoice_batch["phase"] == "invoices" and len(invoice_batch["items"]) == 2

    real_form = store.form_invoice
    formed = {"n": 0}

    def dies_after_the_first(invoice):
        if formed["n"] == 1:
            raise RuntimeError("the worker's container died")
        formed["n"] += 1
        return real_form(invoice)

    world.setattr(store, "form_invoice", dies_after_the_first)
    with pytest.raises(RuntimeError):
        settlement.process_batch(invoice_batch)
    assert len(invoices()) == 1
    world.setattr(store, "form_invoice", real_form)
    settlement.process_batch(invoice_batch)
    books = _books()
    assert _expected_amounts(books) == FORMED
    run = _run()
    assert run["status"] == "completed"
    assert (run["invoices_count"], run["lines_count"], run["amount_kopecks"]) == (
        2,
        5,
        5 * ADVANCE,
    )
    # Duplicate deliveries of both batches, after the run completed: nothing changes.
    settlement.process_batch(line_batch)
    settlement.process_batch(invoice_batch)
    assert _books() == books and _run() == run


def test_a_post_during_a_run_joins_it(world, queue):
    from navigator.service import settlement

    _three_and_two()
    first = form("2026-09", "advance").body
    assert form("2026-09", "advance").body == first
    assert len(queue) == 1  # the second POST dispatched nothing
    settlement.process_batch(queue[0])
    settlement.process_batch(queue[1])
    assert _run()["invoices_count"] == 2


def test_a_late_batch_of_a_replaced_pass_forms_nothing(world, queue):
    from navigator.service import settlement

    _three_and_two()
    form("2026-09", "advance")
    settlement.process_batch(queue[0])
    stale_invoices = queue[1]
    # The first pass stopped showing progress (its worker vanished): a new pass replaces it.
    world.setattr(settlement, "STALE_PASS", settlement.STALE_PASS * 0)
    second = form("2026-09", "advance").body
    assert second["status"] == "running"
    world.setattr(settlement, "STALE_PASS", settlement.STALE_PASS * 1)
    settlement.process_batch(queue[2])
    settlement.process_batch(queue[3])
    books = _books()
    assert _expected_amounts(books) == FORMED
    settlement.process_batch(stale_invoices)  # delivered late: refused by the run's pass
    # Even if it had slipped past that check, forming again forms nothing.
    counts = settlement.form_invoices(
        "2026-09", "advance", stale_invoices["pass_id"], ["region~p1"]
    )
    assert counts["invoices_count"] == 0
    assert _books() == books


def test_a_re_run_after_completion_forms_only_what_is_missing(world):
    _three_and_two()
    first = form("2026-09", "advance").body
    books = _books()
    # A child enrolls in p1's program and another at a new provider, p3, mid-month.
    from tests.support.money import register_provider

    set_today(world, "2026-09-25")
    register_provider("p3")
    p3 = publish("p3", price_per_month_kopecks=PRICE)
    assert enroll(register_child(), p3).status == 201
    p1 = publish("p1", price_per_month_kopecks=PRICE)
    assert enroll(register_child(), p1).status == 201
    again = form("2026-09", "advance").body
    assert again["status"] == "completed" and again["started_at"] != first["started_at"]
    after = _books()
    assert {k: v for k, v in after.items() if k in books} == books  # nothing formed changed
    (new,) = [v for k, v in after.items() if k not in books]
    assert (new[0]["provider_id"], new[0]["amount_kopecks"], len(new[1])) == ("p3", ADVANCE, 1)
    assert (again["invoices_count"], again["lines_count"]) == (3, 6)
    assert again["amount_kopecks"] == 6 * ADVANCE
    assert form("2026-09", "advance").body["invoices_count"] == 3


def test_simultaneous_runs_form_one_pass_and_each_invoice_once(server, monkeypatch):
    from navigator.service import enrollments, settlement
    from navigator.settings import reset_settings
    from navigator.store import invoices as store

    program = race_program(capacity=20)
    for _ in range(7):
        enrollments.enroll(PARENT, race_child(), program, accept_copay=True)
    monkeypatch.delenv("DEBIT_DISPATCH_BACKGROUND", raising=False)  # the winner dispatches
    reset_settings()
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(lambda _: settlement.start_run("2026-09", "advance"), range(4)))
    assert len({r["started_at"] for r in reports}) == 1  # everyone joined the one pass
    run = settlement.get_run("2026-09", "advance")
    assert (run["status"], run["invoices_count"], run["lines_count"]) == ("completed", 1, 7)
    (invoice,) = store.month_invoices("2026-09", "advance")
    assert int(invoice.amount_kopecks) == 7 * (100_000 * 80 // 100)
    assert len(list(store.lines_of(invoice.invoice_id, invoice.pass_id))) == 7


def test_the_sqs_worker_reports_partial_batch_failures(world, queue):
    import json

    from infra.local.workers import LocalLambdaContext
    from settle.worker import handler

    _three_and_two()
    form("2026-09", "advance")
    records = [
        {
            "messageId": message_id,
            "body": body,
            "receiptHandle": "h",
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "x",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-central-1:000000000000:invoices",
            "awsRegion": "eu-central-1",
        }
        for message_id, body in (("m-1", json.dumps(queue[0])), ("m-2", "{not json"))
    ]
    result = handler({"Records": records}, LocalLambdaContext("worker", "w"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "m-2"}]
    assert queue[1]["phase"] == "invoices"


def test_the_schedule_settles_last_month_and_advances_this_one_once(world):
    from infra.local.workers import LocalLambdaContext
    from settle.dispatch import handler
    from tests.settle.helpers import debit

    _three_and_two()
    set_today(world, "2026-10-01")
    # 03:00 on 1 October in Krasnoyarsk, before the debit of September: only advances.
    event = {"settle": "2026-09-30T20:00:00Z"}
    first = handler(event, LocalLambdaContext("dispatcher", "a"))
    assert set(first) == {"advance"} and first["advance"]["month"] == "2026-10"
    debit("2026-09")
    second = handler(event, LocalLambdaContext("dispatcher", "b"))
    assert set(second) == {"final"} and second["final"]["invoices_count"] == 2
    books = _books()
    assert handler(event, LocalLambdaContext("dispatcher", "c")) == {}
    assert _books() == books
    # On the 5th the watch finds September's final invoices formed.
    assert handler({"watch": "2026-10-05T05:00:00Z"}, LocalLambdaContext("d", "w")) == {
        "formed": True
    }
    assert handler({"watch": "2026-11-05T05:00:00Z"}, LocalLambdaContext("d", "w")) == {
        "formed": False
    }
    # No advance of September was formed (the schedule began in October): all is final.
    final = by_group(invoices(kind="final"))[("final", "region", "p1")]
    assert (final["amount_kopecks"], final["advance_kopecks"]) == (3 * PRICE, 0)


def test_the_command_forms_a_months_invoices_with_progress(server, capsys):
    import json

    from infra.cli import main
    from navigator.service import enrollments

    program = race_program(capacity=5)
    for _ in range(3):
        enrollments.enroll(PARENT, race_child(), program, accept_copay=True)
    assert main(["invoices", "--month", "2026-09", "--kind", "advance"]) == 0
    out = capsys.readouterr()
    run = json.loads(out.out)
    assert (run["status"], run["invoices_count"], run["lines_count"]) == ("completed", 1, 3)
    assert "3/?" in out.err or "3 months" in out.err  # the progress bar counted the months
    assert main(["invoices", "--month", "2026-10", "--kind", "advance"]) == 1  # not begun
    assert "month_not_started" in capsys.readouterr().err
