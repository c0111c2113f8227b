"""Payers and the municipalities they serve, in the operations table.

Keys (docs/decisions.md, 29, "Payers, and a budget's count in 32 slices"):
- payer         PAYER / {payer_id}: the card, with a version every write bumps
- municipality  MUNI#{key} / MUNI: which payer serves it (key: municipality_key of the name);
                its existence is what lets one payer only serve a municipality
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from navigator.domain.errors import Conflict
from navigator.domain.payers import DEFAULT_ADVANCE_PERCENT, REGION, REGION_NAME, municipality_key
from navigator.store.base import (
    Cancelled,
    TableMeta,
    Transaction,
    read_together,
    register,
    unavailable_on_failure,
)

PAYERS_PK = "PAYER"
MUNI_SK = "MUNI"


@register
class PayerItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "operations_table"

    pk = UnicodeAttribute(hash_key=True, default=PAYERS_PK)
    sk = UnicodeAttribute(range_key=True)
    payer_id = UnicodeAttribute()
    name = UnicodeAttribute()
    inn = UnicodeAttribute(null=True)
    municipalities = ListAttribute[str](default=list)  # a list of strings
    advance_percent = NumberAttribute(default=DEFAULT_ADVANCE_PERCENT)
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)


@register
class MunicipalityItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "operations_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=MUNI_SK)
    payer_id = UnicodeAttribute()
    name = UnicodeAttribute()


def region_payer() -> PayerItem:
    """The regional payer as it is before anyone sets it."""
    return PayerItem(sk=REGION, payer_id=REGION, name=REGION_NAME, inn=None, municipalities=[])


def municipality_pk(name: str) -> str:
    return f"MUNI#{municipality_key(name)}"


def claim_key(name: str) -> tuple[type[Model], str, str]:
    """The key of a municipality's claim, for reads together with other items."""
    return (MunicipalityItem, municipality_pk(name), MUNI_SK)


def is_claim_key(key: str) -> bool:
    """Whether a raw key (as the capacity meter records it) is a claim's."""
    return '"MUNI#' in key


def get_payer(payer_id: str) -> PayerItem | None:
    """The payer read consistently; `region` always exists."""
    with unavailable_on_failure():
        try:
            return PayerItem.get(PAYERS_PK, payer_id, consistent_read=True)
        except PayerItem.DoesNotExist:
            return region_payer() if payer_id == REGION else None


def list_payers() -> list[PayerItem]:
    """Every payer, `region` included, by id."""
    with unavailable_on_failure():
        found = {p.payer_id: p for p in PayerItem.query(PAYERS_PK, consistent_read=True)}
    found.setdefault(REGION, region_payer())
    return sorted(found.values(), key=lambda p: p.payer_id)


def serving_payers(names: list[str]) -> dict[str, str]:
    """municipality name -> the payer that serves it now, for the names some payer serves."""
    if not names:
        return {}
    items = read_together([claim_key(n) for n in names])
    return {name: item.payer_id for name, item in zip(names, items, strict=True) if item}


def payer_of(municipality: str | None) -> str:
    """The payer that serves a municipality now (read consistently); `region` if none names it."""
    if not municipality:
        return REGION
    return serving_payers([municipality]).get(municipality, REGION)


@dataclass(frozen=True)
class PayerChange:
    payer_id: str
    name: str
    inn: str | None
    municipalities: list[str]
    advance_percent: int


def write_payer(change: PayerChange, seen: PayerItem | None, now: str) -> None:
    """Replace the card if it is still as `seen`; claim the new municipalities, free the old.

    A municipality claimed by another payer: Conflict(municipality_taken). Cancelled: the card
    or a claim changed meanwhile, read again.
    """
    old = {municipality_key(n): n for n in (seen.municipalities if seen else [])}
    new = {municipality_key(n): n for n in change.municipalities}
    version = int(seen.version) if seen is not None and seen.version is not None else 0
    item = PayerItem(
        sk=change.payer_id,
        payer_id=change.payer_id,
        name=change.name,
        inn=change.inn,
        municipalities=change.municipalities,
        advance_percent=change.advance_percent,
        version=version + 1,
        updated_at=now,
    )
    tx = Transaction()
    exists = seen is not None and seen.updated_at is not None
    tx.put(
        "payer",
        item,
        (PayerItem.version == version) if exists else PayerItem.pk.does_not_exist(),
    )
    for key, name in new.items():
        if key in old:
            continue
        claim = MunicipalityItem(pk=municipality_pk(name), payer_id=change.payer_id, name=name)
        tx.put(f"claim:{name}", claim, MunicipalityItem.pk.does_not_exist())
    for key, name in old.items():
        if key in new:
            continue
        tx.delete(
            "release",
            MunicipalityItem(pk=municipality_pk(name)),
            MunicipalityItem.payer_id == change.payer_id,
        )
    try:
        tx.commit()
    except Cancelled as cancelled:
        taken = sorted(label.split(":", 1)[1] for label in cancelled.failed if ":" in label)
        if taken:
            raise Conflict(
                "Another payer serves this municipality.",
                code="municipality_taken",
                details={"municipalities": taken},
            ) from cancelled
        raise


_cache: dict[str, Any] = {"at": None, "serving": {}}
# Which payer serves which municipality, per container: only a guess, so that an enrollment can
# read the claim and the payer's budget together; the claim read fresh decides.
CACHE_SECONDS = 60.0


def guess_payer(municipality: str, refresh: bool = False) -> str:
    now = time.monotonic()
    if refresh or _cache["at"] is None or now - _cache["at"] > CACHE_SECONDS:
        serving: dict[str, str] = {}
        with unavailable_on_failure():
            for payer in PayerItem.query(PAYERS_PK):
                for name in payer.municipalities or []:
                    serving[municipality_key(name)] = payer.payer_id
        _cache.update(at=now, serving=serving)
    return str(_cache["serving"].get(municipality_key(municipality), REGION))


def forget_payers() -> None:
    _cache["at"] = None
