"""Request and response bodies of the catalog routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from navigator.api.types import (
    Address,
    Age,
    Capacity,
    Description,
    Identifier,
    Kopecks,
    Money,
    Month,
    Municipality,
    NextCursor,
    Reply,
    Strict,
    Title,
)
from navigator.domain.catalog import Direction, Funding, Status
from navigator.domain.inn import inn_is_valid


def _inn(value: str) -> str:
    if not inn_is_valid(value):
        raise ValueError("must be 10 or 12 digits with a valid checksum")
    return value


Inn = Annotated[str, AfterValidator(_inn)]


class ProviderIn(Strict):
    provider_id: Identifier
    name: Title
    inn: Inn
    municipality: Municipality


class ProgramIn(Strict):
    title: Title
    description: Description = ""
    direction: Direction
    municipality: Municipality
    address: Address = ""
    age_min: Age
    age_max: Age
    price_per_month_kopecks: Kopecks
    start_month: Month
    end_month: Month
    capacity: Capacity
    funding: Funding
    status: Status = "published"


class ProgramPatch(Strict):
    """Any writable field; an explicit null is refused like any other wrong type."""

    title: Title = None  # type: ignore[assignment]
    description: Description = None  # type: ignore[assignment]
    direction: Direction = None  # type: ignore[assignment]
    municipality: Municipality = None  # type: ignore[assignment]
    address: Address = None  # type: ignore[assignment]
    age_min: Age = None  # type: ignore[assignment]
    age_max: Age = None  # type: ignore[assignment]
    price_per_month_kopecks: Kopecks = None  # type: ignore[assignment]
    start_month: Month = None  # type: ignore[assignment]
    end_month: Month = None  # type: ignore[assignment]
    capacity: Capacity = None  # type: ignore[assignment]
    funding: Funding = None  # type: ignore[assignment]
    status: Status = None  # type: ignore[assignment]


class Provider(Reply):
    provider_id: str
    name: str
    inn: str
    municipality: str


class Program(Reply):
    program_id: str
    provider_id: str
    provider_name: str
    title: str
    description: str
    direction: Direction
    municipality: str
    address: str
    age_min: Age
    age_max: Age
    price_per_month_kopecks: Money
    start_month: Month
    end_month: Month
    capacity: Capacity
    seats_taken: int
    seats_left: int
    funding: Funding
    status: Status


class ProgramList(Reply):
    items: list[Program]
    next_cursor: NextCursor
