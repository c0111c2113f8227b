"""Request bodies of the children routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator

from navigator.api.types import FullName, IsoDate, Strict
from navigator.domain.calendar import today


def _not_in_future(text: str) -> str:
    if date.fromisoformat(text) > today():
        raise ValueError("must not be in the future")
    return text


BirthDate = Annotated[IsoDate, AfterValidator(_not_in_future)]


class ChildIn(Strict):
    full_name: FullName
    birth_date: BirthDate
    # Any string here: its format and checksum are checked by the service once every other
    # field is valid, so that a bad SNILS alone answers 422 invalid_snils (API.md). The body's
    # 64 KB limit bounds it.
    snils: str
