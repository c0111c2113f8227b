"""Loads the demo catalog and period into the store; safe to run again."""

from __future__ import annotations

from infra.local.demo_catalog import (
    DEMO_PERIOD,
    demo_budgets,
    demo_payers,
    demo_programs,
    demo_providers,
)
from navigator.domain.calendar import now_utc_iso
from navigator.domain.errors import Conflict, NotFound
from navigator.service import payers, periods
from navigator.store import budgets
from navigator.store import catalog as store

DEMO_PARENT_SUB = "demo-parent"
DEMO_OPERATOR_SUB = "demo-operator"
DEMO_PROVIDER_SUB = "demo-provider"
DEMO_PAYER_SUB = "demo-payer"
DEMO_PAYER_ID = "krasnoyarsk"


def demo_provider_id() -> str:
    return str(demo_providers()[0]["provider_id"])


def load_demo() -> dict[str, int]:
    now = now_utc_iso()
    providers = {p["provider_id"]: p for p in demo_providers()}
    created_providers = created_programs = 0
    for provider in providers.values():
        try:
            store.create_provider(dict(provider), now)
            created_providers += 1
        except Conflict:
            pass
    for program in demo_programs():
        if _program_exists(program["program_id"]):
            continue
        fields = dict(program)
        fields["provider_name"] = providers[program["provider_id"]]["name"]
        store.put_new_program(fields, now)
        created_programs += 1
    period = DEMO_PERIOD
    try:
        periods.put_period(
            period["period_id"], period["starts_on"], period["ends_on"], period["nominal_kopecks"]
        )
    except Conflict:
        pass  # an operator changed the periods meanwhile; theirs stand
    created_payers, created_budgets = _load_payers()
    return {
        "providers": created_providers,
        "programs": created_programs,
        "payers": created_payers,
        "budgets": created_budgets,
    }


def _load_payers() -> tuple[int, int]:
    """The demo payers and budgets, each only where there is none yet (the operator's stand)."""
    created_payers = created_budgets = 0
    for payer in demo_payers():
        if payers.store.get_payer(payer["payer_id"]) is not None:
            continue
        try:
            payers.put_payer(
                payer["payer_id"],
                payer["name"],
                payer["inn"],
                payer["municipalities"],
                payer["advance_percent"],
            )
            created_payers += 1
        except Conflict:
            pass  # the operator gave the municipality to another payer
    for budget in demo_budgets():
        if budgets.read_budget(budget["payer_id"], budget["period_id"]) is not None:
            continue
        try:
            payers.put_budget(
                budget["payer_id"],
                budget["period_id"],
                budget["nominal_kopecks"],
                budget["certificate_limit"],
            )
            created_budgets += 1
        except (Conflict, NotFound):
            pass
    return created_payers, created_budgets


def _program_exists(program_id: str) -> bool:
    try:
        store.get_program(program_id)
    except NotFound:
        return False
    return True
