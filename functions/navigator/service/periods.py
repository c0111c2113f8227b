"""Operator use cases for funding periods."""

from __future__ import annotations

from typing import Any

from navigator.domain.calendar import now_utc_iso
from navigator.domain.errors import Conflict
from navigator.domain.periods import check_period, overlapping
from navigator.paging import page_of
from navigator.service.views import period_view
from navigator.store import periods as store
from navigator.store.base import retrying


def list_periods(limit: int, cursor: str | None) -> dict[str, Any]:
    items, next_cursor = page_of(
        store.read_periods()[1], lambda period: period.period_id, limit, cursor, {"periods": 1}
    )
    return {"items": [period_view(p) for p in items], "next_cursor": next_cursor}


def put_period(period_id: str, starts_on: str, ends_on: str, nominal: int) -> dict[str, Any]:
    check_period(starts_on, ends_on)
    period = {
        "period_id": period_id,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "nominal_kopecks": nominal,
    }

    def attempt() -> dict[str, Any]:
        version, periods = store.read_periods()
        current = next((p for p in periods if p.period_id == period_id), None)
        dates_change = current is not None and (
            current.starts_on != starts_on or current.ends_on != ends_on
        )
        if current is not None and current.in_use and dates_change:
            raise Conflict(
                "Certificates exist in this period; its dates can't change.", code="period_in_use"
            )
        clash = overlapping(period_id, starts_on, ends_on, [period_view(p) for p in periods])
        if clash:
            raise Conflict(
                "The period overlaps another.", code="period_overlap", details={"periods": clash}
            )
        # Cancelled when another period write came first (or held an item): read again.
        store.write_period(
            {**period, "in_use": bool(current and current.in_use)}, version, now_utc_iso()
        )
        return period

    return retrying(attempt, what="The periods")
