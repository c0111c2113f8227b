"""A whole period's settlement, to the kopeck: two payers (80 % and 0 % advances), two
providers, co-payments, 100 %, 50 % and 0 % completeness, a withdrawal in the middle, and an
enrollment made in the middle of a month.

The regional payer advances 80 %; Канск's payer (no budget: certificates at the period's
nominal) advances nothing."""

from __future__ import annotations

from tests.settle.helpers import by_group, debit, form, invoices, lines
from tests.support.api import OPERATOR, PARENT, provider, request
from tests.support.money import enroll, publish, register_child, set_today
from tests.support.payers import put_payer

MUNICIPALITY = {"region": "Красноярск", "kansk": "Канск"}

A_PRICE = 200_000  # p1's program: 9 months of 200,000, no co-payment
B_PRICE = 350_000  # p2's program: 9 x 350,000 > the nominal, so a co-payment
# B's certificate amounts: 3,000,000 over 9 months, the first 3 months one kopeck more.
B_FIRST = 333_334


def _enroll(program: str, payer: str, copay: bool = False) -> dict:
    child = register_child(municipality=MUNICIPALITY[payer])
    reply = enroll(child, program, accept_copay=True if copay else None)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def _percent(enrollment: dict, month: str, percent: int, provider_id: str) -> None:
    path = f"/enrollments/{enrollment['enrollment_id']}/completeness/{month}"
    reply = request("PUT", path, body={"percent": percent}, claims=provider(provider_id))
    assert reply.status == 200, reply.body


def _amounts(month: str, kind: str) -> dict[tuple[str, str], tuple]:
    out = {}
    for (k, payer, prov), invoice in by_group(invoices(month=month, kind=kind)).items():
        assert k == kind
        out[(payer, prov)] = (
            invoice["lines_count"],
            invoice["amount_kopecks"],
            invoice["charged_total_kopecks"],
            invoice["advance_kopecks"],
        )
    return out


def _lines(month: str, kind: str, payer: str, prov: str) -> dict[str, tuple]:
    invoice_id = by_group(invoices(month=month, kind=kind))[(kind, payer, prov)]["invoice_id"]
    return {
        line["enrollment_id"]: (
            line["certificate_kopecks"],
            line["completeness_percent"],
            line["amount_kopecks"],
        )
        for line in lines(invoice_id)
    }


def test_a_whole_period_settles_to_the_kopeck(world):
    kansk = put_payer("kansk", ["Канск"], name="Бюджет города Канска", advance_percent=0)
    assert kansk.status == 200, kansk.body
    a = publish("p1", price_per_month_kopecks=A_PRICE, capacity=20)
    b = publish("p2", price_per_month_kopecks=B_PRICE, capacity=20)
    c1 = _enroll(a, "region")
    c2 = _enroll(b, "region", copay=True)
    c3 = _enroll(a, "kansk")
    c4 = _enroll(b, "region", copay=True)
    c6 = _enroll(b, "kansk", copay=True)
    assert c2["copay_total_kopecks"] == 9 * B_PRICE - 3_000_000

    # 15 September: the advances. The 0 % payer gets none.
    september = form("2026-09", "advance")
    assert september.status == 202
    assert september.body["status"] == "completed"
    assert _amounts("2026-09", "advance") == {
        ("region", "p1"): (1, 160_000, None, None),
        ("region", "p2"): (2, 2 * 266_667, None, None),  # floor(333,334 x 0.8) each
    }
    assert (september.body["invoices_count"], september.body["amount_kopecks"]) == (
        2,
        160_000 + 2 * 266_667,
    )
    assert _lines("2026-09", "advance", "region", "p2") == {
        c2["enrollment_id"]: (B_FIRST, None, 266_667),
        c4["enrollment_id"]: (B_FIRST, None, 266_667),
    }

    # 20 September: an enrollment starts mid-month (after the advance), c4 withdraws (from
    # October on), c2 gets 50 % and c6 0 % for September.
    set_today(world, "2026-09-20")
    c5 = _enroll(a, "region")
    assert (
        request("POST", f"/enrollments/{c4['enrollment_id']}/withdraw", claims=PARENT).status == 200
    )
    _percent(c2, "2026-09", 50, "p2")
    _percent(c6, "2026-09", 0, "p2")

    # 2 October: September is charged and its final invoices formed.
    set_today(world, "2026-10-02")
    debit("2026-09")
    final = form("2026-09", "final").body
    assert final["status"] == "completed"
    assert _amounts("2026-09", "final") == {
        ("region", "p1"): (2, 400_000 - 160_000, 400_000, 160_000),
        # 166,667 (50 %) + 333,334 = 500,001 charged against 533,334 advanced: a refund.
        ("region", "p2"): (2, 500_001 - 533_334, 500_001, 533_334),
        ("kansk", "p1"): (1, 200_000, 200_000, 0),
        ("kansk", "p2"): (1, 0, 0, 0),  # charged 0 at 0 %: a line of 0
    }
    assert _lines("2026-09", "final", "region", "p1") == {
        c1["enrollment_id"]: (A_PRICE, 100, A_PRICE),
        c5["enrollment_id"]: (A_PRICE, 100, A_PRICE),
    }
    assert _lines("2026-09", "final", "region", "p2") == {
        c2["enrollment_id"]: (B_FIRST, 50, 166_667),
        c4["enrollment_id"]: (B_FIRST, 100, B_FIRST),
    }
    assert _lines("2026-09", "final", "kansk", "p1") == {
        c3["enrollment_id"]: (A_PRICE, 100, A_PRICE)
    }
    assert _lines("2026-09", "final", "kansk", "p2") == {c6["enrollment_id"]: (B_FIRST, 0, 0)}
    assert final["amount_kopecks"] == 240_000 - 33_333 + 200_000 + 0
    assert final["lines_count"] == 6

    # October's advances: the withdrawn c4 is gone (its October is cancelled).
    form("2026-10", "advance")
    assert _amounts("2026-10", "advance") == {
        ("region", "p1"): (2, 2 * 160_000, None, None),
        ("region", "p2"): (1, 266_667, None, None),
    }

    # 2 November: October is charged (100 % for everyone) and settled.
    set_today(world, "2026-11-02")
    debit("2026-10")
    form("2026-10", "final")
    assert _amounts("2026-10", "final") == {
        ("region", "p1"): (2, 400_000 - 320_000, 400_000, 320_000),
        ("region", "p2"): (1, B_FIRST - 266_667, B_FIRST, 266_667),
        ("kansk", "p1"): (1, A_PRICE, A_PRICE, 0),
        ("kansk", "p2"): (1, B_FIRST, B_FIRST, 0),
    }
    reconciliation = request("GET", "/reconciliation", claims=OPERATOR).body
    assert reconciliation["mismatches"] == []
    from navigator.service.settlement import invoice_mismatches

    assert invoice_mismatches("2026-09") == [] and invoice_mismatches("2026-10") == []
