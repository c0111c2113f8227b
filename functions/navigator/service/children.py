"""Children: a parent registers them (once per SNILS, across all parents) and lists them."""

from __future__ import annotations

import secrets
from typing import Any

from navigator.domain import snils as snils_rules
from navigator.domain.calendar import now_utc_iso
from navigator.domain.errors import Forbidden, InvalidInput, StoreUnavailable
from navigator.identity import Caller
from navigator.paging import page_of
from navigator.service.views import child_view
from navigator.settings import DEV_SNILS_HMAC_KEY, get_settings
from navigator.store import people as store
from navigator.store.people import ChildItem

ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower-cased
ID_LENGTH = 10
PARAMETER_MAX_AGE_SECONDS = 300


def new_child_id() -> str:
    return "ch-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def snils_key() -> bytes:
    """The HMAC key of SNILS hashes: SNILS_HMAC_KEY, else the SSM parameter, else the dev key."""
    settings = get_settings()
    if settings.snils_hmac_key:
        return settings.snils_hmac_key.encode()
    if settings.snils_hmac_parameter:
        # Imported here: only the functions that hash a SNILS in AWS pay for it.
        from aws_lambda_powertools.utilities import parameters

        try:
            value = parameters.get_parameter(
                settings.snils_hmac_parameter,
                decrypt=True,
                max_age=PARAMETER_MAX_AGE_SECONDS,
            )
        except parameters.exceptions.GetParameterError as error:
            raise StoreUnavailable() from error
        return str(value).encode()
    return DEV_SNILS_HMAC_KEY.encode()


def check_snils(snils: str) -> None:
    """422 invalid_snils for a bad format or checksum (the other fields are valid by now)."""
    problem = snils_rules.problem(snils)
    if problem is not None:
        raise InvalidInput(
            "The SNILS is not valid.",
            code="invalid_snils",
            details={"fields": [{"field": "snils", "problem": problem}]},
        )


def register_child(caller: Caller, full_name: str, birth_date: str, snils: str) -> dict[str, Any]:
    check_snils(snils)
    item = store.register_child(
        new_child_id,
        parent_sub=caller.sub,
        full_name=full_name,
        birth_date=birth_date,
        snils_hmac=snils_rules.snils_hash(snils, snils_key()),
        snils_masked=snils_rules.mask(snils),
        created_at=now_utc_iso(),
    )
    return child_view(item)


def list_children(caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
    """The caller's children, oldest registration first (a parent has few: read whole)."""
    items, next_cursor = page_of(
        store.children_of(caller.sub),
        lambda child: child.child_id,
        limit,
        cursor,
        {"children": caller.sub},
    )
    return {"items": [child_view(item) for item in items], "next_cursor": next_cursor}


def get_owned_child(caller: Caller, child_id: str) -> ChildItem:
    """The child, for its parent or an operator: 404 if absent, 403 if another parent's."""
    item = store.get_child(child_id)
    if not caller.is_operator and item.parent_sub != caller.sub:
        raise Forbidden("This child is registered by another parent.")
    return item
