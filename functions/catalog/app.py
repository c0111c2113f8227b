"""Catalog function: the public catalog, providers and their programs."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from catalog.models import ProgramIn, ProgramPatch, ProviderIn
from navigator.api.app import Api
from navigator.api.types import Direction, Funding, Limit, Municipality, SearchText
from navigator.domain.catalog import CatalogFilter
from navigator.service import catalog

api = Api()
OPERATORS = {"operators"}
PROVIDERS = {"providers"}
PROVIDERS_AND_OPERATORS = {"providers", "operators"}


@api.get("/programs")
def list_programs(
    direction: Annotated[Direction | None, Query()] = None,
    municipality: Annotated[Municipality | None, Query()] = None,
    age: Annotated[int | None, Query(ge=0, le=18)] = None,
    q: Annotated[SearchText | None, Query()] = None,
    provider_id: Annotated[str | None, Query(max_length=64)] = None,
    funding: Annotated[Funding | None, Query()] = None,
    has_seats: Annotated[bool | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> dict[str, Any]:
    flt = CatalogFilter(
        direction=direction,
        municipality=municipality,
        age=age,
        q=q,
        provider_id=provider_id,
        funding=funding,
        has_seats=has_seats or None,
    )
    return catalog.list_programs(flt, limit, cursor)


@api.get("/programs/<program_id>")
def get_program(program_id: str) -> dict[str, Any]:
    return catalog.get_published_program(program_id)


@api.post("/programs", PROVIDERS)
def create_program(body: ProgramIn) -> tuple[dict[str, Any], int]:
    return catalog.create_program(api.caller(), body.model_dump()), 201


@api.patch("/programs/<program_id>", PROVIDERS)
def update_program(program_id: str, body: ProgramPatch) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    return catalog.update_program(api.caller(), program_id, changes)


@api.post("/providers", OPERATORS)
def create_provider(body: ProviderIn) -> tuple[dict[str, Any], int]:
    return catalog.create_provider(body.model_dump()), 201


@api.get("/providers/<provider_id>")
def get_provider(provider_id: str) -> dict[str, Any]:
    return catalog.get_provider(provider_id)


@api.get("/providers/<provider_id>/programs", PROVIDERS_AND_OPERATORS)
def provider_programs(
    provider_id: str,
    limit: Annotated[Limit, Query()] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> dict[str, Any]:
    return catalog.provider_programs(api.caller(), provider_id, limit, cursor)


handler = api.lambda_handler()
