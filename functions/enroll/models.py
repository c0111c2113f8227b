"""Request bodies of the enrollment routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from navigator.api.types import Strict

AnyId = Annotated[str, Field(min_length=1, max_length=64)]
Percent = Annotated[int, Field(ge=0, le=100)]


class EnrollmentIn(Strict):
    child_id: AnyId
    program_id: AnyId
    accept_copay: bool = False


class CompletenessIn(Strict):
    percent: Percent
