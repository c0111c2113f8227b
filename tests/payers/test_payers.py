"""Payers and budgets through their routes, and the certificates they fund, each ending with
the invariant checker."""

from __future__ import annotations

import pytest

from navigator.domain.payers import municipality_key, split_evenly, spread_change
from tests.support.api import OPERATOR, PARENT, request
from tests.support.money import NOMINAL, enroll, publish, register_child
from tests.support.payers import (
    NORILSK_INN,
    budget,
    payer_claims,
    put_budget,
    put_payer,
)

# ------------------------------------------------------------------ the domain


def test_municipality_names_compare_without_case_with_yo_as_ye_and_trimmed():
    assert municipality_key("  Красноярск ") == municipality_key("КРАСНОЯРСК")
    assert municipality_key("Ёлкино") == municipality_key("елкино")
    assert municipality_key("Ачинск") != municipality_key("Канск")


@pytest.mark.parametrize(
    "lefts, delta",
    [([3, 3, 3], 5), ([5, 0, 2], -4), ([1, 1, 1, 0], -3), ([10, 2], -9), ([0, 0], 0)],
)
def test_a_budget_change_moves_the_slices_by_exactly_the_change_and_none_below_zero(lefts, delta):
    changes = spread_change(lefts, delta)
    assert sum(changes) == delta
    assert all(left + change >= 0 for left, change in zip(lefts, changes, strict=True))


def test_a_limit_splits_evenly_over_the_slices():
    assert split_evenly(25, 4) == [7, 6, 6, 6]
    assert sum(split_evenly(250_000, 32)) == 250_000


# ------------------------------------------------------------------- payers


def test_the_regional_payer_always_exists(world):
    listed = request("GET", "/payers", claims=OPERATOR)
    assert listed.status == 200, listed.body
    assert listed.body["items"] == [
        {
            "payer_id": "region",
            "name": "Краевой бюджет",
            "inn": None,
            "municipalities": [],
            "advance_percent": 80,
        }
    ]
    renamed = put_payer("region", None, name="Министерство образования края", inn=None)
    assert renamed.status == 200, renamed.body
    assert request("GET", "/payers/region", claims=OPERATOR).body["name"] == (
        "Министерство образования края"
    )


def test_a_payer_is_created_and_replaced_and_advance_percent_defaults_to_80(world):
    created = put_payer("krsk", ["Красноярск"], advance_percent=50)
    assert created.status == 200, created.body
    assert created.body["advance_percent"] == 50
    replaced = put_payer("krsk", ["Красноярск", "Сосновоборск"])
    assert replaced.body == {
        "payer_id": "krsk",
        "name": "Управление образования krsk",
        "inn": "2466012340",
        "municipalities": ["Красноярск", "Сосновоборск"],
        "advance_percent": 80,
    }
    assert request("GET", "/payers/krsk", claims=OPERATOR).body == replaced.body
    ids = [p["payer_id"] for p in request("GET", "/payers", claims=OPERATOR).body["items"]]
    assert ids == ["krsk", "region"]


def test_one_municipality_is_served_by_one_payer_whatever_its_spelling(world):
    assert put_payer("krsk", ["Красноярск"]).status == 200
    taken = put_payer("other", ["  красноярск "], inn=NORILSK_INN)
    assert (taken.status, taken.code) == (409, "municipality_taken")
    assert put_payer("yolkino", ["Ёлкино"]).status == 200
    assert put_payer("other", ["ЕЛКИНО"], inn=NORILSK_INN).code == "municipality_taken"
    # Freed by its payer, the municipality can be served by another.
    assert put_payer("krsk", ["Сосновоборск"]).status == 200
    assert put_payer("other", ["Красноярск"], inn=NORILSK_INN).status == 200


@pytest.mark.parametrize(
    "payer_id, municipalities, overrides",
    [
        ("region", ["Красноярск"], {}),  # the regional payer's municipalities can't be set
        ("krsk", None, {}),  # another payer needs them
        ("krsk", [], {}),
        ("krsk", ["Канск", " канск"], {}),  # not distinct
        ("krsk", ["Канск"], {"inn": "2466012341"}),  # a bad checksum
        ("krsk", ["Канск"], {"inn": None}),
        ("krsk", ["Канск"], {"advance_percent": 81}),
        ("krsk", ["Канск"], {"name": ""}),
    ],
)
def test_a_bad_payer_card_is_422(world, payer_id, municipalities, overrides):
    reply = put_payer(payer_id, municipalities, **overrides)
    assert (reply.status, reply.code) == (422, "validation_error"), reply.body


def test_a_payer_reads_only_its_own_card_and_budgets(world):
    put_payer("krsk", ["Красноярск"])
    put_payer("norilsk", ["Норильск"], inn=NORILSK_INN)
    put_budget("krsk", 10)
    mine = payer_claims("krsk")
    assert request("GET", "/payers/krsk", claims=mine).status == 200
    assert request("GET", "/payers/krsk/budgets", claims=mine).status == 200
    assert request("GET", "/payers/krsk/budgets/2026-2027", claims=mine).status == 200
    assert request("GET", "/payers/norilsk", claims=mine).status == 403
    assert request("GET", "/payers/norilsk/budgets", claims=mine).status == 403
    assert request("GET", "/payers/nobody", claims=mine).status == 404
    assert request("GET", "/payers", claims=mine).status == 403
    assert put_budget("krsk", 20).status == 200
    change = {"nominal_kopecks": 1, "certificate_limit": 1}
    assert request("PUT", "/payers/krsk/budgets/2026-2027", body=change, claims=mine).status == 403


# ------------------------------------------------------------------ budgets


def test_a_budget_needs_a_known_payer_and_period(world):
    assert put_budget("nobody", 10).status == 404
    put_payer("krsk", ["Красноярск"])
    assert put_budget("krsk", 10, period="2030-2031").status == 404
    assert request("GET", "/payers/krsk/budgets/2026-2027", claims=OPERATOR).status == 404
    created = put_budget("krsk", 10)
    assert created.status == 200, created.body
    assert created.body == {
        "payer_id": "krsk",
        "period_id": "2026-2027",
        "nominal_kopecks": 2_500_000,
        "certificate_limit": 10,
        "certificates_issued": 0,
        "certificates_left": 10,
        "nominal_committed_kopecks": 0,
    }
    listed = request("GET", "/payers/krsk/budgets", claims=OPERATOR)
    assert listed.body == {"items": [created.body], "next_cursor": None}


def test_a_child_whose_payer_has_a_budget_gets_its_nominal_and_takes_one(world):
    """Given Krasnoyarsk's budget of 3 certificates at 2,500,000, when a child of Krasnoyarsk
    first enrolls, then the certificate is the budget's, and one fewer is left."""
    put_payer("krsk", ["Красноярск"])
    put_budget("krsk", 3)
    child = register_child(municipality=" красноярск")
    reply = enroll(child, publish(price_per_month_kopecks=200_000))
    assert reply.status == 201, reply.body
    certificate = reply.body["certificate"]
    assert (certificate["payer_id"], certificate["nominal_kopecks"]) == ("krsk", 2_500_000)
    assert certificate["balance_kopecks"] == 2_500_000 - 9 * 200_000
    after = budget("krsk")
    assert (after["certificates_issued"], after["certificates_left"]) == (1, 2)
    assert after["nominal_committed_kopecks"] == 2_500_000
    ledger = request("GET", f"/certificates/{certificate['certificate_id']}/ledger", claims=PARENT)
    assert ledger.body["items"][0]["amount_kopecks"] == 2_500_000
    # The second program uses the same certificate: the budget is not touched again.
    assert enroll(child, publish(title="Рисование", price_per_month_kopecks=50_000)).status == 201
    assert budget("krsk")["certificates_issued"] == 1


def test_a_child_whose_municipality_no_payer_serves_is_funded_by_the_region(world):
    put_payer("krsk", ["Красноярск"])
    put_budget("krsk", 1)
    child = register_child(municipality="Тайга")
    reply = enroll(child, publish())
    assert reply.status == 201, reply.body
    certificate = reply.body["certificate"]
    assert (certificate["payer_id"], certificate["nominal_kopecks"]) == ("region", NOMINAL)
    assert (
        request("GET", f"/certificates/{certificate['certificate_id']}", claims=PARENT).body[
            "payer_id"
        ]
        == "region"
    )
    assert budget("krsk")["certificates_issued"] == 0


def test_none_left_refuses_a_new_certificate_but_not_a_free_program_or_an_issued_one(world):
    put_payer("krsk", ["Красноярск"])
    put_budget("krsk", 1)
    first = register_child()
    program = publish(price_per_month_kopecks=100_000)
    assert enroll(first, program).status == 201
    second = register_child()
    refused = enroll(second, program)
    assert (refused.status, refused.code) == (409, "no_certificates_left")
    assert refused.body["error"]["details"] == {"payer_id": "krsk", "period_id": "2026-2027"}
    free = publish(title="Футбол", price_per_month_kopecks=0, funding="free")
    assert enroll(second, free).status == 201
    # The first child's certificate exists: its next program needs none of the budget.
    assert enroll(first, publish(title="Лепка", price_per_month_kopecks=50_000)).status == 201
    assert budget("krsk")["certificates_left"] == 0


def test_no_certificates_left_comes_after_no_seats_and_before_copay_required(world):
    put_payer("krsk", ["Красноярск"])
    put_budget("krsk", 1)
    assert enroll(register_child(), publish()).status == 201  # the budget's only certificate
    full = publish(title="Полный", capacity=1)
    assert enroll(register_child(municipality="Тайга"), full).status == 201
    child = register_child()
    assert enroll(child, full).code == "no_seats"
    expensive = publish(title="Дорогой", price_per_month_kopecks=900_000)
    assert enroll(child, expensive).code == "no_certificates_left"  # not copay_required


def test_the_limit_never_goes_below_the_issued_and_a_new_nominal_is_for_new_certificates(world):
    put_payer("krsk", ["Красноярск"])
    put_budget("krsk", 3)
    program = publish(price_per_month_kopecks=100_000)
    for _ in range(2):
        assert enroll(register_child(), program).status == 201
    below = put_budget("krsk", 1)
    assert (below.status, below.code) == (409, "limit_below_issued")
    at_issued = put_budget("krsk", 2, nominal=2_000_000)
    assert at_issued.body["certificates_left"] == 0
    assert enroll(register_child(), program).code == "no_certificates_left"
    raised = put_budget("krsk", 5, nominal=2_000_000)
    assert (raised.body["certificates_issued"], raised.body["certificates_left"]) == (2, 3)
    third = enroll(register_child(), program)
    assert third.body["certificate"]["nominal_kopecks"] == 2_000_000
    assert budget("krsk") == {
        "payer_id": "krsk",
        "period_id": "2026-2027",
        "nominal_kopecks": 2_000_000,
        "certificate_limit": 5,
        "certificates_issued": 3,
        "certificates_left": 2,
        "nominal_committed_kopecks": 2 * 2_500_000 + 2_000_000,
    }


def test_certificates_issued_before_the_budget_keep_their_nominal_and_do_not_count(world):
    put_payer("krsk", ["Красноярск"])
    child = register_child()
    program = publish(price_per_month_kopecks=100_000)
    before = enroll(child, program)
    assert before.body["certificate"]["nominal_kopecks"] == NOMINAL
    assert before.body["certificate"]["payer_id"] == "krsk"
    put_budget("krsk", 1)
    assert budget("krsk")["certificates_issued"] == 0
    assert enroll(register_child(), program).body["certificate"]["nominal_kopecks"] == 2_500_000


# ------------------------------------------------------------ reconciliation


def test_reconciliation_finds_a_budget_count_or_a_nominal_that_does_not_hold(world):
    from navigator.service.reconciliation import budget_mismatches, reconcile
    from navigator.store.accounts import CertificateItem, cert_key
    from navigator.store.budgets import SliceItem, slice_pk

    put_payer("krsk", ["Красноярск"])
    put_budget("krsk", 5)
    certificate = enroll(register_child(), publish()).body["certificate"]
    assert budget_mismatches() == [] and reconcile()["mismatches"] == []
    # Given a slice that counts one certificate too many...
    slices = [SliceItem.get(slice_pk("krsk", "2026-2027", n), "SLICE") for n in range(32)]
    spare = next(s for s in slices if int(s.left) > 0)
    spare.update(actions=[SliceItem.left.add(-1), SliceItem.issued.add(1)])
    assert [m["problem"] for m in budget_mismatches()] == [
        "2 certificates counted, 1 issued under it"
    ]
    spare.update(actions=[SliceItem.left.add(1), SliceItem.issued.add(-1)])
    # ...and a certificate whose nominal is not its budget's at issue (its terms still add up).
    item = CertificateItem.get(cert_key(certificate["certificate_id"]), "CERT")
    item.update(actions=[CertificateItem.nominal.add(1), CertificateItem.balance.add(1)])
    problems = [m["problem"] for m in reconcile()["mismatches"]]
    assert any("budget then gave 2500000" in p for p in problems), problems
    item.update(actions=[CertificateItem.nominal.add(-1), CertificateItem.balance.add(-1)])
