"""Funding periods, in the operations table, written under one registry item's version."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from navigator.store.base import (
    TableMeta,
    Transaction,
    register,
    unavailable_on_failure,
)

PERIODS_PK = "PERIOD"
REGISTRY_PK = "PERIODS"
REGISTRY_SK = "REGISTRY"


@register
class PeriodItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "operations_table"

    pk = UnicodeAttribute(hash_key=True, default=PERIODS_PK)
    sk = UnicodeAttribute(range_key=True)
    period_id = UnicodeAttribute()
    starts_on = UnicodeAttribute()
    ends_on = UnicodeAttribute()
    nominal_kopecks = NumberAttribute()
    in_use = BooleanAttribute(default=False)
    updated_at = UnicodeAttribute()


@register
class PeriodRegistry(Model):
    """One item whose version every period write bumps, so overlaps can't race in."""

    class Meta(metaclass=TableMeta):
        settings_field = "operations_table"

    pk = UnicodeAttribute(hash_key=True, default=REGISTRY_PK)
    sk = UnicodeAttribute(range_key=True, default=REGISTRY_SK)
    version = NumberAttribute(default=0)


def read_periods() -> tuple[int, list[PeriodItem]]:
    """The registry's version and every period, read consistently."""
    with unavailable_on_failure():
        try:
            version = int(
                PeriodRegistry.get(REGISTRY_PK, REGISTRY_SK, consistent_read=True).version
            )
        except PeriodRegistry.DoesNotExist:
            version = 0
        periods = list(PeriodItem.query(PERIODS_PK, consistent_read=True))
    return version, sorted(periods, key=lambda p: p.starts_on)


def write_period(period: dict[str, Any], registry_version: int, now: str) -> None:
    """Put the period if no period changed since `registry_version` was read; else Cancelled."""
    registry = PeriodRegistry(version=registry_version)
    item = PeriodItem(sk=period["period_id"], updated_at=now, **period)
    registry_condition: Condition
    if registry_version == 0:
        registry_condition = PeriodRegistry.pk.does_not_exist()
    else:
        registry_condition = PeriodRegistry.version == registry_version
    # in_use only ever turns true, by the first certificate: the write keeps the value it read,
    # so a certificate issued meanwhile makes it retry (and then refuse new dates).
    item_condition = (
        PeriodItem.in_use == True  # noqa: E712 - a DynamoDB condition, not a comparison
        if period["in_use"]
        else PeriodItem.pk.does_not_exist() | (PeriodItem.in_use == False)  # noqa: E712
    )
    tx = Transaction()
    tx.update(
        "registry",
        registry,
        [PeriodRegistry.version.set(registry_version + 1)],
        registry_condition,
    )
    tx.put("period", item, item_condition)
    tx.commit()


def mark_in_use(tx: Transaction, period: dict[str, Any]) -> None:
    """The first certificate of a period fixes its dates (only that one writes the period)."""
    item = PeriodItem(sk=period["period_id"])
    tx.update(
        "period",
        item,
        [PeriodItem.in_use.set(True)],
        (PeriodItem.starts_on == period["starts_on"]) & (PeriodItem.ends_on == period["ends_on"]),
    )


_cache: dict[str, Any] = {"at": None, "periods": []}
# The periods' date ranges, per container: they change rarely, and a period in use never
# changes its dates; whoever uses a period reads its item fresh (nominal, in_use).
CACHE_SECONDS = 60.0


def known_periods(refresh: bool = False) -> list[PeriodItem]:
    import time

    now = time.monotonic()
    if refresh or _cache["at"] is None or now - _cache["at"] > CACHE_SECONDS:
        with unavailable_on_failure():
            _cache["periods"] = list(PeriodItem.query(PERIODS_PK))
        _cache["at"] = now
    return list(_cache["periods"])


def forget_periods() -> None:
    _cache["at"] = None
