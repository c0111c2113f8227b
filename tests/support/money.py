"""Givens for the money scenarios: a period, providers, programs, children, a date."""

from __future__ import annotations

import itertools
from typing import Any

from navigator.domain.snils import control_number
from navigator.settings import reset_settings
from tests.support.api import OPERATOR, PARENT, program_body, provider, request
from tests.support.indexes import caught_up

NOMINAL = 3_000_000
_serial = itertools.count(100_000_001)


def new_snils() -> str:
    number = f"{next(_serial):09d}"
    return f"{number[:3]}-{number[3:6]}-{number[6:]} {control_number(number):02d}"


def set_today(monkeypatch: Any, day: str) -> None:
    """The calendar moves to `day`: the time between lets every index catch up."""
    caught_up()
    monkeypatch.setenv("NAVIGATOR_TODAY", day)
    reset_settings()


def open_period(period_id: str = "2026-2027", start: str = "2026-09-01", end: str = "2027-08-31"):
    body = {"starts_on": start, "ends_on": end, "nominal_kopecks": NOMINAL}
    reply = request("PUT", f"/periods/{period_id}", body=body, claims=OPERATOR)
    assert reply.status == 200, reply.body


def register_provider(provider_id: str = "p1") -> None:
    body = {
        "provider_id": provider_id,
        "name": f"Студия {provider_id}",
        "inn": "7707083893",
        "municipality": "Красноярск",
    }
    assert request("POST", "/providers", body=body, claims=OPERATOR).status == 201


def publish(provider_id: str = "p1", **overrides: Any) -> str:
    reply = request(
        "POST", "/programs", body=program_body(**overrides), claims=provider(provider_id)
    )
    assert reply.status == 201, reply.body
    return str(reply.body["program_id"])


def register_child(
    parent: dict[str, str] = PARENT,
    birth_date: str = "2016-05-20",
    municipality: str = "Красноярск",
) -> str:
    body = {
        "full_name": "Иванов Пётр",
        "birth_date": birth_date,
        "municipality": municipality,
        "snils": new_snils(),
    }
    reply = request("POST", "/children", body=body, claims=parent)
    assert reply.status == 201, reply.body
    return str(reply.body["child_id"])


def enroll(child_id: str, program_id: str, parent=PARENT, accept_copay=None, key=None):
    body: dict[str, Any] = {"child_id": child_id, "program_id": program_id}
    if accept_copay is not None:
        body["accept_copay"] = accept_copay
    headers = {"Idempotency-Key": key} if key else None
    return request("POST", "/enrollments", body=body, claims=parent, headers=headers)
