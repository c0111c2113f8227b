"""The authorization matrix: every route of template.yaml against every kind of caller.

Each request goes through the whole chain: the local gateway's token check (401), then the
handler's role (403), validation, existence (404), ownership (403) and conflicts (409), in
API.md's order of checks. Bodies are valid, so a caller with the right role on its own
objects gets the route's success status.

The objects: two parents (each with a child, an enrollment and a certificate), two
providers (each with a published program), two payers (each with a budget) and an operator.
"parent", "provider" and "payer" own the objects a request names; "other parent", "other
provider" and "other payer" are real, registered parties who own objects of their own.
Each route's row is checked twice, against the objects of each owner in turn.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import pytest

from infra.local.gateway import GatewayApp
from infra.local.tokens import issue_token
from infra.local.workers import LocalLambdaContext
from infra.template import api_routes
from tests.support.api import OPERATOR, OTHER_PARENT, PARENT, provider, request
from tests.support.indexes import caught_up
from tests.support.money import (
    enroll,
    new_snils,
    open_period,
    publish,
    register_child,
    register_provider,
    set_today,
)
from tests.support.payers import put_budget, put_payer

TODAY = "2026-10-05"  # September 2026 has ended: a debit run of it is allowed.
PRICE = 100_000  # 8 months of two programs fit in one certificate: no copay.
PAYERS = ("payer-krsk", "payer-achinsk")
MUNICIPALITIES = ("Красноярск", "Ачинск")

CALLERS = (
    "no token",
    "bad signature",
    "expired token",
    "parent",
    "other parent",
    "provider",
    "other provider",
    "payer",
    "other payer",
    "operator",
)

# The expected status of each route for each caller, per API.md ("who" of each route,
# order of checks) and DESIGN.md ("Roles": anything not granted is 401 or 403).
# fmt: off
# Columns, in the order of CALLERS:
#   none = no token, bad = bad signature, exp = expired token, par = parent,
#   par2 = other parent, prov = provider, prv2 = other provider, pay = payer,
#   pay2 = other payer, oper = operator.
EXPECTED: dict[str, tuple[int, ...]] = {
  #                                            none bad  exp  par  par2 prov prv2 pay  pay2 oper
  "GET /programs":                              (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
  "GET /programs/{program_id}":                 (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
  "POST /programs":                             (401, 401, 401, 403, 403, 201, 201, 403, 403, 403),
  "PATCH /programs/{program_id}":               (401, 401, 401, 403, 403, 200, 403, 403, 403, 403),
  "GET /programs/{program_id}/enrollments":     (401, 401, 401, 403, 403, 200, 403, 403, 403, 200),
  "POST /providers":                            (401, 401, 401, 403, 403, 403, 403, 403, 403, 201),
  "GET /providers/{provider_id}":               (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
  "GET /providers/{provider_id}/programs":      (401, 401, 401, 403, 403, 200, 403, 403, 403, 200),
  "POST /children":                             (401, 401, 401, 201, 201, 403, 403, 403, 403, 403),
  "GET /children":                              (401, 401, 401, 200, 200, 403, 403, 403, 403, 403),
  "POST /enrollments":                          (401, 401, 401, 201, 403, 403, 403, 403, 403, 403),
  "GET /enrollments":                           (401, 401, 401, 200, 200, 403, 403, 403, 403, 403),
  "GET /enrollments/{enrollment_id}":           (401, 401, 401, 200, 403, 200, 403, 403, 403, 200),
  "POST /enrollments/{enrollment_id}/withdraw": (401, 401, 401, 200, 403, 403, 403, 403, 403, 403),
  "PUT /enrollments/{enrollment_id}/completeness/{month}":
                                                (401, 401, 401, 403, 403, 200, 403, 403, 403, 403),
  "GET /certificates":                          (401, 401, 401, 200, 200, 403, 403, 403, 403, 403),
  "GET /certificates/{certificate_id}":         (401, 401, 401, 200, 403, 403, 403, 403, 403, 403),
  "GET /certificates/{certificate_id}/ledger":  (401, 401, 401, 200, 403, 403, 403, 403, 403, 403),
  "PUT /periods/{period_id}":                   (401, 401, 401, 403, 403, 403, 403, 403, 403, 200),
  "GET /periods":                               (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
  "POST /debit-runs":                           (401, 401, 401, 403, 403, 403, 403, 403, 403, 202),
  "GET /debit-runs/{month}":                    (401, 401, 401, 403, 403, 403, 403, 403, 403, 200),
  "GET /reconciliation":                        (401, 401, 401, 403, 403, 403, 403, 403, 403, 200),
  "PUT /payers/{payer_id}":                     (401, 401, 401, 403, 403, 403, 403, 403, 403, 200),
  "GET /payers":                                (401, 401, 401, 403, 403, 403, 403, 403, 403, 200),
  "GET /payers/{payer_id}":                     (401, 401, 401, 403, 403, 403, 403, 200, 403, 200),
  "PUT /payers/{payer_id}/budgets/{period_id}": (401, 401, 401, 403, 403, 403, 403, 403, 403, 200),
  "GET /payers/{payer_id}/budgets":             (401, 401, 401, 403, 403, 403, 403, 200, 403, 200),
  "GET /payers/{payer_id}/budgets/{period_id}": (401, 401, 401, 403, 403, 403, 403, 200, 403, 200),
  "POST /invoice-runs":                         (401, 401, 401, 403, 403, 403, 403, 403, 403, 202),
  "GET /invoice-runs/{month}/{kind}":           (401, 401, 401, 403, 403, 403, 403, 403, 403, 200),
  "GET /invoices":                              (401, 401, 401, 403, 403, 200, 200, 200, 200, 200),
  "GET /invoices/{invoice_id}":                 (401, 401, 401, 403, 403, 200, 403, 200, 403, 200),
  "GET /invoices/{invoice_id}/lines":           (401, 401, 401, 403, 403, 200, 403, 200, 403, 200),
  "GET /invoices/{invoice_id}/register":        (401, 401, 401, 403, 403, 200, 403, 200, 403, 200),
  "POST /invoices/{invoice_id}/accept":         (401, 401, 401, 403, 403, 403, 403, 200, 403, 200),
  "POST /invoices/{invoice_id}/pay":            (401, 401, 401, 403, 403, 403, 403, 200, 403, 200),
}
# fmt: on

ROUTES = len(EXPECTED)  # 37
CELLS = ROUTES * len(CALLERS)  # 37 routes x 10 callers = 370 expected statuses


# ------------------------------------------------------------------- the objects


@dataclass
class World:
    """The objects of both owners; index 0 and 1 are the two parents' and providers'."""

    parents: tuple[dict[str, str], dict[str, str]]
    provider_ids: tuple[str, str]
    programs: tuple[str, str]  # programs[i] belongs to provider_ids[i]
    children: tuple[str, str]  # children[i] belongs to parents[i]
    enrollments: tuple[str, str]  # children[i] in programs[i]
    certificates: tuple[str, str]
    payers: tuple[str, str]  # payers[i] serves MUNICIPALITIES[i], with a budget for PERIOD


def build_world() -> World:
    open_period("2026-2027", "2026-09-01", "2027-08-31")
    for payer_id, municipality in zip(PAYERS, MUNICIPALITIES, strict=True):
        assert put_payer(payer_id, [municipality]).status == 200
        assert put_budget(payer_id, 100).status == 200
    register_provider("p1")
    register_provider("p2")
    programs = (
        publish("p1", price_per_month_kopecks=PRICE),
        publish("p2", title="Робототехника", price_per_month_kopecks=PRICE),
    )
    parents = (PARENT, OTHER_PARENT)
    # Each child lives where one payer serves: invoice i is payers[i]'s to provider_ids[i].
    children = tuple(
        register_child(parent, municipality=municipality)
        for parent, municipality in zip(parents, MUNICIPALITIES, strict=True)
    )
    enrollments = []
    for parent, child, program in zip(parents, children, programs, strict=True):
        reply = enroll(child, program, parent=parent)
        assert reply.status == 201, reply.body
        enrollments.append(reply.body)
    return World(
        parents=parents,
        provider_ids=("p1", "p2"),
        programs=programs,
        children=children,
        enrollments=(enrollments[0]["enrollment_id"], enrollments[1]["enrollment_id"]),
        certificates=(enrollments[0]["certificate_id"], enrollments[1]["certificate_id"]),
        payers=PAYERS,
    )


def run_september() -> None:
    """GET /debit-runs/{month} reads a run that exists (a run is slow: only for that route)."""
    ran = request("POST", "/debit-runs", body={"month": "2026-09"}, claims=OPERATOR)
    assert ran.status == 202, ran.body


def advance_october() -> None:
    """The invoice routes read October's advances: one invoice per payer and provider."""
    formed = request(
        "POST", "/invoice-runs", body={"month": "2026-10", "kind": "advance"}, claims=OPERATOR
    )
    assert formed.status == 202 and formed.body["invoices_count"] == 2, formed.body


def advance_and_accept_october() -> None:
    advance_october()
    for owner in (0, 1):
        accepted = request("POST", f"/invoices/{_invoice(owner)}/accept", claims=OPERATOR)
        assert accepted.status == 200, accepted.body


def _invoice(owner: int) -> str:
    from navigator.store.invoices import invoice_id_of

    return invoice_id_of("advance", "2026-10", PAYERS[owner], ("p1", "p2")[owner])


SETUP: dict[str, Callable[[], None]] = {
    "GET /debit-runs/{month}": run_september,
    "GET /invoice-runs/{month}/{kind}": advance_october,
    "GET /invoices": advance_october,
    "GET /invoices/{invoice_id}": advance_october,
    "GET /invoices/{invoice_id}/lines": advance_october,
    "GET /invoices/{invoice_id}/register": advance_october,
    "POST /invoices/{invoice_id}/accept": advance_october,
    "POST /invoices/{invoice_id}/pay": advance_and_accept_october,
}


# What each route names: its path parameters and a valid body, for the owner `o` (0 or 1).
Recipe = Callable[[World, int], dict[str, Any]]

PATH_PARAMETERS: dict[str, Recipe] = {
    "GET /programs/{program_id}": lambda w, o: {"program_id": w.programs[o]},
    "PATCH /programs/{program_id}": lambda w, o: {"program_id": w.programs[o]},
    "GET /programs/{program_id}/enrollments": lambda w, o: {"program_id": w.programs[o]},
    "GET /providers/{provider_id}": lambda w, o: {"provider_id": w.provider_ids[o]},
    "GET /providers/{provider_id}/programs": lambda w, o: {"provider_id": w.provider_ids[o]},
    "GET /enrollments/{enrollment_id}": lambda w, o: {"enrollment_id": w.enrollments[o]},
    "POST /enrollments/{enrollment_id}/withdraw": lambda w, o: {"enrollment_id": w.enrollments[o]},
    "PUT /enrollments/{enrollment_id}/completeness/{month}": lambda w, o: {
        "enrollment_id": w.enrollments[o],
        "month": "2026-10",
    },
    "GET /certificates/{certificate_id}": lambda w, o: {"certificate_id": w.certificates[o]},
    "GET /certificates/{certificate_id}/ledger": lambda w, o: {"certificate_id": w.certificates[o]},
    "PUT /periods/{period_id}": lambda w, o: {"period_id": "2027-2028"},
    "GET /debit-runs/{month}": lambda w, o: {"month": "2026-09"},
    "PUT /payers/{payer_id}": lambda w, o: {"payer_id": w.payers[o]},
    "GET /payers/{payer_id}": lambda w, o: {"payer_id": w.payers[o]},
    "PUT /payers/{payer_id}/budgets/{period_id}": lambda w, o: {
        "payer_id": w.payers[o],
        "period_id": "2026-2027",
    },
    "GET /payers/{payer_id}/budgets": lambda w, o: {"payer_id": w.payers[o]},
    "GET /payers/{payer_id}/budgets/{period_id}": lambda w, o: {
        "payer_id": w.payers[o],
        "period_id": "2026-2027",
    },
    "GET /invoice-runs/{month}/{kind}": lambda w, o: {"month": "2026-10", "kind": "advance"},
    "GET /invoices/{invoice_id}": lambda w, o: {"invoice_id": _invoice(o)},
    "GET /invoices/{invoice_id}/lines": lambda w, o: {"invoice_id": _invoice(o)},
    "GET /invoices/{invoice_id}/register": lambda w, o: {"invoice_id": _invoice(o)},
    "POST /invoices/{invoice_id}/accept": lambda w, o: {"invoice_id": _invoice(o)},
    "POST /invoices/{invoice_id}/pay": lambda w, o: {"invoice_id": _invoice(o)},
}

# Called once per caller, so that two parents registering children use two SNILS.
BODIES: dict[str, Recipe] = {
    "POST /programs": lambda w, o: {
        "title": "Рисование",
        "description": "Акварель и гуашь.",
        "direction": "arts",
        "municipality": "Красноярск",
        "address": "ул. Мира, 2",
        "age_min": 6,
        "age_max": 10,
        "price_per_month_kopecks": PRICE,
        "start_month": "2026-09",
        "end_month": "2027-05",
        "capacity": 12,
        "funding": "certificate",
    },
    "PATCH /programs/{program_id}": lambda w, o: {"title": "Шахматы: второй год"},
    "POST /providers": lambda w, o: {
        "provider_id": f"p{3 + o}",
        "name": "Студия p3",
        "inn": "7707083893",
        "municipality": "Красноярск",
    },
    "POST /children": lambda w, o: {
        "full_name": "Петрова Анна",
        "birth_date": "2017-03-14",
        "municipality": MUNICIPALITIES[o],
        "snils": new_snils(),
    },
    # The owner's child, into the other provider's program (where it is not yet enrolled).
    "POST /enrollments": lambda w, o: {"child_id": w.children[o], "program_id": w.programs[1 - o]},
    "PUT /enrollments/{enrollment_id}/completeness/{month}": lambda w, o: {"percent": 80},
    "PUT /periods/{period_id}": lambda w, o: {
        "starts_on": "2027-09-01",
        "ends_on": "2028-08-31",
        "nominal_kopecks": 3_000_000,
    },
    "POST /debit-runs": lambda w, o: {"month": "2026-09"},
    "PUT /payers/{payer_id}": lambda w, o: {
        "name": "Управление образования",
        "inn": "2466012340",
        "municipalities": [MUNICIPALITIES[o]],
    },
    "PUT /payers/{payer_id}/budgets/{period_id}": lambda w, o: {
        "nominal_kopecks": 2_500_000,
        "certificate_limit": 120,
    },
    "POST /invoice-runs": lambda w, o: {"month": "2026-10", "kind": "advance"},
    "POST /invoices/{invoice_id}/pay": lambda w, o: {
        "paid_on": "2026-10-05",
        "payment_order": f"ПП-{o + 1}",
    },
}


# ------------------------------------------------------------------- the callers


def tokens(world: World, owner: int) -> dict[str, str | None]:
    """Each caller's Authorization header; the token problems are an operator's tokens."""
    other = 1 - owner

    def provider_token(i: int) -> str:
        pid = world.provider_ids[i]
        return issue_token("provider", provider(pid)["sub"], provider_id=pid)

    def payer_token(i: int) -> str:
        return issue_token("payer", f"clerk-{world.payers[i]}", payer_id=world.payers[i])

    headers = {
        "no token": None,
        "bad signature": issue_token(
            "operator", OPERATOR["sub"], secret="not-the-secret-the-gateway-verifies-with"
        ),
        "expired token": issue_token("operator", OPERATOR["sub"], lifetime=-3600),
        "parent": issue_token("parent", world.parents[owner]["sub"]),
        "other parent": issue_token("parent", world.parents[other]["sub"]),
        "provider": provider_token(owner),
        "other provider": provider_token(other),
        "payer": payer_token(owner),
        "other payer": payer_token(other),
        "operator": issue_token("operator", OPERATOR["sub"]),
    }
    assert tuple(headers) == CALLERS
    return {caller: None if t is None else f"Bearer {t}" for caller, t in headers.items()}


# ------------------------------------------------------------------- the gateway


class InProcessPool:
    """The gateway's worker pool, stood in for by this process (and its moto)."""

    def submit(self, spec: str, event: dict[str, Any]) -> Future[dict[str, Any]]:
        module_name, attr = spec.rsplit(".", 1)
        future: Future[dict[str, Any]] = Future()
        try:
            handler = getattr(importlib.import_module(module_name), attr)
            context = LocalLambdaContext(function_name=module_name, aws_request_id="req-matrix")
            future.set_result(dict(handler(event, context)))
        except Exception as error:  # handed back through the future, as the pool would
            future.set_exception(error)
        return future


@pytest.fixture(scope="module")
def gateway() -> GatewayApp:
    return GatewayApp(api_routes(), InProcessPool())  # type: ignore[arg-type]


def through_gateway(
    app: GatewayApp,
    route: str,
    params: dict[str, str],
    body: Any,
    authorization: str | None,
) -> tuple[int, Any]:
    """A Chalice-style local event, as the local server hands it to the gateway."""
    method, resource = route.split(" ", 1)
    headers = {"content-type": "application/json"}
    if authorization is not None:
        headers["authorization"] = authorization
    event = {
        "requestContext": {
            "httpMethod": method,
            "resourcePath": resource,
            "path": resource.format(**params),
        },
        "headers": headers,
        "pathParameters": params or None,
        "multiValueQueryStringParameters": None,
        "body": None if body is None else json.dumps(body).encode("utf-8"),
    }
    result = app(event, LocalLambdaContext(function_name="gateway", aws_request_id="req-gw"))
    body = result.get("body")
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if body and body.startswith("\ufeff"):  # a register: CSV text, not JSON
        return result["statusCode"], body
    payload = json.loads(body) if body else None
    return result["statusCode"], payload


# ------------------------------------------------------------------- the tests


def test_the_table_has_every_route_of_the_template_and_no_other():
    template = {f"{r.method} {r.path}" for r in api_routes()}
    assert set(EXPECTED) == template, (
        f"routes missing from the table: {sorted(template - set(EXPECTED))}; "
        f"in the table but not in template.yaml: {sorted(set(EXPECTED) - template)}"
    )
    assert all(len(row) == len(CALLERS) for row in EXPECTED.values())
    assert CELLS == len(template) * len(CALLERS)
    # Each route's request is written down too: its path parameters, and a body where it takes one.
    assert {route for route in EXPECTED if "{" in route} == set(PATH_PARAMETERS)
    writes = {route for route in EXPECTED if route.split(" ")[0] in ("POST", "PUT", "PATCH")}
    bodiless = {"POST /enrollments/{enrollment_id}/withdraw", "POST /invoices/{invoice_id}/accept"}
    assert writes - bodiless == set(BODIES)


def test_public_routes_are_the_templates_unauthorized_ones():
    public = {route for route, row in EXPECTED.items() if row[:3] == (200, 200, 200)}
    assert public == _public_routes()


@pytest.mark.parametrize("route", list(EXPECTED))
def test_authorization_matrix(aws, monkeypatch, gateway, route):
    """The route's row, for all 10 callers, against the objects of each owner in turn."""
    set_today(monkeypatch, TODAY)
    world = build_world()
    if route in SETUP:
        SETUP[route]()
    if route == "GET /programs":
        caught_up()  # the one list that may lag (API.md): every caller reads it caught up
    mismatches: list[str] = []
    for owner in (0, 1):
        got = _row(gateway, world, route, owner)
        expected = dict(zip(CALLERS, EXPECTED[route], strict=True))
        mismatches += [
            f"{route} as {caller} (objects of owner {owner + 1}): "
            f"expected {expected[caller]}, got {status} {payload}"
            for caller, (status, payload) in got.items()
            if status != expected[caller]
        ]
        if route in _public_routes():
            # Public routes ignore tokens: every caller, with any token or none, reads the same.
            mismatches += [
                f"{route} as {caller}: answers differently from no token"
                for caller, (_, payload) in got.items()
                if payload != got["no token"][1]
            ]
    assert not mismatches, "\n".join(mismatches)


def _row(app: GatewayApp, world: World, route: str, owner: int) -> dict[str, tuple[int, Any]]:
    params = PATH_PARAMETERS[route](world, owner) if route in PATH_PARAMETERS else {}
    authorization = tokens(world, owner)
    got = {}
    for caller in CALLERS:
        body = BODIES[route](world, owner) if route in BODIES else None
        got[caller] = through_gateway(app, route, params, body, authorization[caller])
    return got


def _public_routes() -> set[str]:
    return {f"{r.method} {r.path}" for r in api_routes() if not r.authorized}
