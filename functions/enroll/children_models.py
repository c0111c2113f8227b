"""Request and response bodies of the children routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

from navigator.api.types import FullName, IsoDate, Municipality, NextCursor, Reply, Strict
from navigator.domain.calendar import today


def _not_in_future(text: str) -> str:
    if date.fromisoformat(text) > today():
        raise ValueError("must not be in the future")
    return text


BirthDate = Annotated[IsoDate, AfterValidator(_not_in_future)]


class ChildIn(Strict):
    # Powertools logs a route's arguments at DEBUG: personal data stays out of the repr.
    full_name: Annotated[FullName, Field(repr=False)]
    birth_date: Annotated[BirthDate, Field(repr=False)]
    # Where the child lives: it decides which payer funds the certificate.
    municipality: Municipality
    # Any string here: its format and checksum are checked by the service once every other
    # field is valid, so that a bad SNILS alone answers 422 invalid_snils (API.md). The body's
    # 64 KB limit bounds it.
    snils: Annotated[str, Field(repr=False)]


class Child(Reply):
    child_id: str
    full_name: str
    birth_date: IsoDate
    municipality: str
    snils_masked: str = Field(description="Like ***-***-*** 64", examples=["***-***-*** 64"])


class ChildList(Reply):
    items: list[Child]
    next_cursor: NextCursor
