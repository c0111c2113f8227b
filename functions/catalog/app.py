"""Catalog function: the public catalog, providers and their programs."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from catalog.models import Program, ProgramIn, ProgramList, ProgramPatch, Provider, ProviderIn
from navigator.api.app import Api
from navigator.api.types import (
    Municipality,
    PageCursor,
    PageLimit,
    SearchText,
)
from navigator.domain.catalog import CatalogFilter, Direction, Funding
from navigator.service import catalog

api = Api()
OPERATORS = {"operators"}
PROVIDERS = {"providers"}
PROVIDERS_AND_OPERATORS = {"providers", "operators"}


@api.get(
    "/programs",
    returns=ProgramList,
    refusals={400: ["invalid_cursor"]},
    summary="Published programs, filtered and searched, paged",
)
def list_programs(
    direction: Annotated[Direction | None, Query()] = None,
    municipality: Annotated[Municipality | None, Query()] = None,
    age: Annotated[int | None, Query(ge=0, le=18)] = None,
    q: Annotated[SearchText | None, Query()] = None,
    provider_id: Annotated[str | None, Query(max_length=64)] = None,
    funding: Annotated[Funding | None, Query()] = None,
    has_seats: Annotated[bool | None, Query()] = None,
    limit: PageLimit = 20,
    cursor: PageCursor = None,
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


@api.get(
    "/programs/<program_id>",
    returns=Program,
    refusals={404: ["not_found"]},
    summary="One published program",
)
def get_program(program_id: str) -> dict[str, Any]:
    return catalog.get_published_program(program_id)


@api.post(
    "/programs",
    PROVIDERS,
    returns=Program,
    status=201,
    refusals={403: ["provider_not_registered"]},
    summary="Create a program of the caller's provider",
)
def create_program(body: ProgramIn) -> tuple[dict[str, Any], int]:
    return catalog.create_program(api.caller(), body.model_dump()), 201


@api.patch(
    "/programs/<program_id>",
    PROVIDERS,
    returns=Program,
    refusals={404: ["not_found"], 409: ["capacity_below_taken", "program_has_enrollments"]},
    summary="Change a program's writable fields",
)
def update_program(program_id: str, body: ProgramPatch) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    return catalog.update_program(api.caller(), program_id, changes)


@api.post(
    "/providers",
    OPERATORS,
    returns=Provider,
    status=201,
    refusals={409: ["provider_exists"]},
    summary="Register a provider",
)
def create_provider(body: ProviderIn) -> tuple[dict[str, Any], int]:
    return catalog.create_provider(body.model_dump()), 201


@api.get(
    "/providers/<provider_id>",
    returns=Provider,
    refusals={404: ["not_found"]},
    summary="One provider",
)
def get_provider(provider_id: str) -> dict[str, Any]:
    return catalog.get_provider(provider_id)


@api.get(
    "/providers/<provider_id>/programs",
    PROVIDERS_AND_OPERATORS,
    returns=ProgramList,
    refusals={400: ["invalid_cursor"], 404: ["not_found"]},
    summary="A provider's programs in every status, paged",
)
def provider_programs(
    provider_id: str,
    limit: PageLimit = 20,
    cursor: PageCursor = None,
) -> dict[str, Any]:
    return catalog.provider_programs(api.caller(), provider_id, limit, cursor)


handler = api.lambda_handler()
