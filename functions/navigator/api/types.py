"""Field types shared by the request models: API.md's validation table, once."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from navigator.paging import MAX_CURSOR_CHARS

Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
Address = Annotated[str, Field(max_length=300)]
Municipality = Annotated[str, Field(min_length=1, max_length=100)]
FullName = Annotated[str, Field(min_length=1, max_length=200)]
Age = Annotated[int, Field(ge=0, le=18)]
Kopecks = Annotated[int, Field(ge=0, le=10**12)]
PositiveKopecks = Annotated[int, Field(ge=1, le=10**12)]
Capacity = Annotated[int, Field(ge=1, le=10_000)]
# A real month from 1900 on (the calendar's floor; parse_month in the domain agrees).
Month = Annotated[str, Field(pattern=r"^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])$")]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
# A new object's id in a path (PUT /periods/{period_id}); reads take any string and 404.
NewIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Limit = Annotated[int, Field(ge=1, le=100)]
# The paging parameters that every list route takes (API.md, "Lists").
PageLimit = Annotated[Limit, Query()]
PageCursor = Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)]
SearchText = Annotated[str, Field(max_length=200)]


def _real_date(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError as error:
        raise ValueError("must be a real date YYYY-MM-DD") from error
    return text


IsoDate = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), AfterValidator(_real_date)]


class Strict(BaseModel):
    """Request bodies: no coercion, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid")


# Responses. These models only document what the routes answer (Api.route's `returns`); the
# handlers return plain dicts, so no request pays for validating its own answer.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Money = Annotated[int, Field(ge=0, description="Kopecks")]
NextCursor = Annotated[
    str | None, Field(description="Pass as ?cursor= for the next page; null at the end")
]


class Reply(BaseModel):
    """A response body: exactly these fields."""

    model_config = ConfigDict(extra="forbid")
