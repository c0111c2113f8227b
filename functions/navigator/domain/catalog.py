"""Catalog rules: the program's fields and how a program matches the public filters.

Search (the `q` filter) is navigator.domain.search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from navigator.domain.calendar import month_count
from navigator.domain.errors import InvalidInput

# Each enumeration once: the Literal types the request and response models validate with,
# and the tuples the rules and the demo data iterate over.
Direction = Literal[
    "technical", "natural_science", "physical_sports", "arts", "tourism", "social_humanitarian"
]
Funding = Literal["certificate", "free"]
Status = Literal["draft", "published", "archived"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)
FUNDINGS: tuple[str, ...] = get_args(Funding)
STATUSES: tuple[str, ...] = get_args(Status)

PROGRAM_FIELDS = (
    "program_id",
    "provider_id",
    "provider_name",
    "title",
    "description",
    "direction",
    "municipality",
    "address",
    "age_min",
    "age_max",
    "price_per_month_kopecks",
    "start_month",
    "end_month",
    "capacity",
    "seats_taken",
    "seats_left",
    "funding",
    "status",
)
FROZEN_WHILE_ENROLLED = ("funding", "start_month", "end_month")
# A contract is one DynamoDB transaction with an item per month (at most 100 items in all).
MAX_MONTHS = 24


def check_program(program: Mapping[str, Any]) -> None:
    """The rules between fields; each field's own rule is checked by the request model."""
    problems = []
    if program["age_min"] > program["age_max"]:
        problems.append({"field": "age_min", "problem": "must not exceed age_max"})
    if program["start_month"] > program["end_month"]:
        problems.append({"field": "start_month", "problem": "must not be after end_month"})
    elif month_count(program["start_month"], program["end_month"]) > MAX_MONTHS:
        problems.append(
            {"field": "end_month", "problem": f"a program runs {MAX_MONTHS} months at most"}
        )
    price = program["price_per_month_kopecks"]
    if program["funding"] == "free" and price != 0:
        problems.append(
            {"field": "price_per_month_kopecks", "problem": "must be 0 for a free program"}
        )
    if program["funding"] == "certificate" and price <= 0:
        problems.append(
            {
                "field": "price_per_month_kopecks",
                "problem": "must be above 0 for a certificate program",
            }
        )
    if problems:
        raise InvalidInput(details={"fields": problems})


def public_view(program: Mapping[str, Any]) -> dict[str, Any]:
    """The Program as API.md shows it."""
    view = {name: program.get(name) for name in PROGRAM_FIELDS if name != "seats_left"}
    view["description"] = view["description"] or ""
    view["address"] = view["address"] or ""
    view["seats_left"] = max(0, program["capacity"] - program["seats_taken"])
    return view


@dataclass(frozen=True)
class CatalogFilter:
    direction: str | None = None
    municipality: str | None = None
    age: int | None = None
    q: str | None = None
    provider_id: str | None = None
    funding: str | None = None
    has_seats: bool | None = None

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the query (for binding cursors to it)."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def matches(self, program: Mapping[str, Any]) -> bool:
        """Every filter but `q` (which the search index answers)."""
        if program.get("status") != "published":
            return False
        for name in ("direction", "municipality", "provider_id", "funding"):
            wanted = getattr(self, name)
            if wanted is not None and program.get(name) != wanted:
                return False
        if self.age is not None and not (program["age_min"] <= self.age <= program["age_max"]):
            return False
        if self.has_seats and program["seats_taken"] >= program["capacity"]:
            return False
        return True
