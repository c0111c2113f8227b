"""Funding periods: a period runs from the 1st of a month to the last day of a month."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from navigator.domain.catalog import MAX_MONTHS
from navigator.domain.errors import InvalidInput


def check_period(starts_on: str, ends_on: str) -> None:
    start, end = date.fromisoformat(starts_on), date.fromisoformat(ends_on)
    problems = []
    if start.day != 1:
        problems.append({"field": "starts_on", "problem": "must be the 1st of a month"})
    if end.day != calendar.monthrange(end.year, end.month)[1]:
        problems.append({"field": "ends_on", "problem": "must be the last day of a month"})
    if start > end:
        problems.append({"field": "starts_on", "problem": "must not be after ends_on"})
    elif (end.year - start.year) * 12 + end.month - start.month + 1 > MAX_MONTHS:
        problems.append(
            {"field": "ends_on", "problem": f"a period lasts {MAX_MONTHS} months at most"}
        )
    if problems:
        raise InvalidInput(details={"fields": problems})


def overlapping(
    period_id: str, starts_on: str, ends_on: str, others: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Ids of the other periods that share a day with this one."""
    return [
        p["period_id"]
        for p in others
        if p["period_id"] != period_id and p["starts_on"] <= ends_on and starts_on <= p["ends_on"]
    ]


def period_of_month(month: str, periods: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The period that covers the month's first day, if any."""
    first = f"{month}-01"
    for period in periods:
        if period["starts_on"] <= first <= period["ends_on"]:
            return period
    return None
