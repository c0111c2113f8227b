"""Catalog use cases: providers, their programs, and the public list."""

from __future__ import annotations

import secrets
from typing import Any

from navigator.domain import catalog as rules
from navigator.domain.calendar import now_utc_iso
from navigator.domain.errors import Conflict, Forbidden, NotFound
from navigator.identity import Caller
from navigator.paging import decode_cursor, encode_cursor
from navigator.service.views import provider_view
from navigator.store import catalog as store
from navigator.store.base import retrying
from navigator.store.catalog_snapshot import snapshot


def create_provider(provider: dict[str, Any]) -> dict[str, Any]:
    return provider_view(store.create_provider(provider, now_utc_iso()))


def get_provider(provider_id: str) -> dict[str, Any]:
    return provider_view(store.get_provider(provider_id))


def create_program(caller: Caller, fields: dict[str, Any]) -> dict[str, Any]:
    program = {"status": "published", "description": "", "address": "", **fields}
    rules.check_program(program)
    if not caller.provider_id:
        raise Forbidden("Your account is not linked to a provider.", code="provider_not_registered")
    try:
        provider = store.get_provider(caller.provider_id)
    except NotFound as error:
        raise Forbidden(
            "Your provider is not registered.", code="provider_not_registered"
        ) from error
    program["program_id"] = "prg-" + secrets.token_hex(6)
    program["provider_id"] = provider.provider_id
    program["provider_name"] = provider.name
    item = store.put_new_program(program, now_utc_iso())
    return rules.public_view(store.program_data(item, None))


def get_published_program(program_id: str) -> dict[str, Any]:
    item, seats = store.get_program_with_seats(program_id)
    if item.status != "published":
        raise NotFound("No such program.")
    return rules.public_view(store.program_data(item, seats))


def update_program(caller: Caller, program_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        item, seats = store.get_program_with_seats(program_id)
        if item.provider_id != caller.provider_id:
            raise Forbidden("This program belongs to another provider.")
        current = store.program_data(item, seats)
        merged = {**current, **changes}
        rules.check_program(merged)
        frozen = _check_conflicts(current, seats, changes)
        real_changes = {k: v for k, v in changes.items() if current.get(k) != v}
        if real_changes:  # Cancelled when someone changed it since: read again
            store.update_program(item, seats, real_changes, frozen, now_utc_iso())
        return rules.public_view({**current, **real_changes})

    return retrying(attempt, what="The program")


def _check_conflicts(current: dict[str, Any], seats: Any, changes: dict[str, Any]) -> bool:
    """Refuse what the seats forbid; True if a field frozen by enrollments would change."""
    if "capacity" in changes and changes["capacity"] < int(seats.taken):
        raise Conflict(
            "Capacity can't go below the seats already taken.",
            code="capacity_below_taken",
            details={"seats_taken": int(seats.taken)},
        )
    frozen = [
        name
        for name in rules.FROZEN_WHILE_ENROLLED
        if name in changes and changes[name] != current[name]
    ]
    if frozen and int(seats.active) > 0:
        raise Conflict(
            "The program has active enrollments; its funding and months can't change.",
            code="program_has_enrollments",
            details={"fields": frozen},
        )
    return bool(frozen)


def provider_programs(
    caller: Caller, provider_id: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    query = {"provider_programs": provider_id}
    after = decode_cursor(cursor, query) if cursor else None  # validation before existence
    store.get_provider(provider_id)
    if not caller.is_operator and caller.provider_id != provider_id:
        raise Forbidden("These are another provider's programs.")
    items, next_after = store.provider_programs_page(provider_id, limit, after)
    seats = store.seats_of([item.program_id for item in items])
    return {
        "items": [rules.public_view(store.program_data(i, seats.get(i.program_id))) for i in items],
        "next_cursor": encode_cursor(query, next_after) if next_after else None,
    }


def list_programs(flt: rules.CatalogFilter, limit: int, cursor: str | None) -> dict[str, Any]:
    query = {"catalog": flt.fingerprint()}
    after = decode_cursor(cursor, query) if cursor else None
    words = rules.query_words(flt.q) if flt.q else []
    programs, next_after = snapshot().page(flt, words, limit, after)
    return {
        "items": [rules.public_view(p) for p in programs],
        "next_cursor": encode_cursor(query, next_after) if next_after else None,
    }
