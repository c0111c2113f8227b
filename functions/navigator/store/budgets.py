"""Budgets: a payer's count of certificates for a period, in slices that no enrollment waits on.

Keys (docs/decisions.md, 29, "Payers, and a budget's count in 32 slices"):
- budget  operations BUDGET#{payer_id} / {period_id}: nominal, limit, version, and the nominal
          of each version (what reconciliation checks a certificate's nominal against)
- slice   accounts BUDGET#{payer_id}#{period_id}#{n:02d} / SLICE, n < BUDGET_SHARDS: its part
          of the count: `left`, `issued`, `committed` (kopecks), and the budget's nominal and
          version. Each slice is its own partition key, so each is its own item for DynamoDB's
          per-item throughput.

An enrollment that issues a certificate under a budget takes one from one slice, in its own
transaction, only while that slice has one left and the nominal is the one it read. A budget
write changes every slice, relatively (`left += change`), in one transaction with the budget.
A refusal is decided on a snapshot that holds the budget items it depends on (`Wanted`,
`funder_in`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from navigator.domain.errors import Conflict, StoreUnavailable
from navigator.domain.payers import BUDGET_SHARDS, REGION, split_evenly, spread_change
from navigator.store import payers
from navigator.store.base import (
    Cancelled,
    TableMeta,
    Transaction,
    read_together,
    register,
    unavailable_on_failure,
)

SLICE_SK = "SLICE"
# Reads of a whole budget that may see slices of two versions (a budget write between them).
BUDGET_READS = 4


@register
class BudgetItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "operations_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    payer_id = UnicodeAttribute()
    period_id = UnicodeAttribute()
    nominal_kopecks = NumberAttribute()
    certificate_limit = NumberAttribute()
    version = NumberAttribute()
    nominals = MapAttribute[str, Any](default=dict)  # version -> the nominal it set
    updated_at = UnicodeAttribute()


@register
class SliceItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "accounts_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=SLICE_SK)
    left = NumberAttribute()
    issued = NumberAttribute()
    committed = NumberAttribute()
    nominal = NumberAttribute()
    version = NumberAttribute()


def budget_pk(payer_id: str) -> str:
    return f"BUDGET#{payer_id}"


def slice_pk(payer_id: str, period_id: str, n: int) -> str:
    return f"BUDGET#{payer_id}#{period_id}#{n:02d}"


def is_budget_key(key: str) -> bool:
    """Whether a raw key (as the capacity meter records it) is a budget's or a slice's."""
    return '"BUDGET#' in key


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Budget:
    payer_id: str
    period_id: str
    nominal_kopecks: int
    certificate_limit: int
    version: int
    issued: int
    left: int
    committed: int
    slices: tuple[SliceItem, ...]
    nominals: dict[int, int]  # version -> the nominal it set


def _slice_keys(payer_id: str, period_id: str) -> list[tuple[type[Model], str, str]]:
    return [(SliceItem, slice_pk(payer_id, period_id, n), SLICE_SK) for n in range(BUDGET_SHARDS)]


def read_budget(payer_id: str, period_id: str) -> Budget | None:
    """The budget with every slice, all of one version (each read consistently)."""
    for _ in range(BUDGET_READS):
        found = read_together(
            [(BudgetItem, budget_pk(payer_id), period_id), *_slice_keys(payer_id, period_id)]
        )
        head, slices = found[0], found[1:]
        if head is None:
            return None
        version = int(head.version)
        if any(s is None or int(s.version) != version for s in slices):
            continue  # a budget write landed between the reads: read again
        return Budget(
            payer_id=payer_id,
            period_id=period_id,
            nominal_kopecks=int(head.nominal_kopecks),
            certificate_limit=int(head.certificate_limit),
            version=version,
            issued=sum(int(s.issued) for s in slices),
            left=sum(int(s.left) for s in slices),
            committed=sum(int(s.committed) for s in slices),
            slices=tuple(slices),
            nominals={int(v): int(n) for v, n in _as_dict(head.nominals).items()},
        )
    raise StoreUnavailable("The budget is changing; please retry.")


def budgets_of(payer_id: str) -> list[str]:
    """The periods a payer has budgets for."""
    with unavailable_on_failure():
        return sorted(b.period_id for b in BudgetItem.query(budget_pk(payer_id)))


def _heads() -> list[BudgetItem]:
    with unavailable_on_failure():
        return list(BudgetItem.scan(BudgetItem.pk.startswith("BUDGET#")))


def every_budget() -> list[Budget]:
    """Every budget of every payer, each read whole (an operator's check, not a hot path)."""
    found = [read_budget(h.payer_id, h.period_id) for h in _heads()]
    return [b for b in found if b is not None]


def every_budget_nominals() -> dict[tuple[str, str], dict[int, int]]:
    """(payer, period) -> the nominal each version of its budget set, for reconciliation."""
    return {
        (h.payer_id, h.period_id): {int(v): int(n) for v, n in _as_dict(h.nominals).items()}
        for h in _heads()
    }


# ------------------------------------------------------------------ writing


def write_budget(
    payer_id: str, period_id: str, nominal: int, limit: int, seen: Budget | None, now: str
) -> None:
    """Create the budget, or change it from `seen`; Cancelled if it changed meanwhile.

    A limit below the certificates issued: Conflict(limit_below_issued). Each slice's count
    changes relatively, so the enrollments that take certificates meanwhile are not lost; a
    slice that must give some up holds at least as many as it gives, or the write retries.
    """
    version = seen.version + 1 if seen else 1
    nominals = {str(k): v for k, v in (seen.nominals if seen else {}).items()}
    nominals[str(version)] = nominal
    head = BudgetItem(
        pk=budget_pk(payer_id),
        sk=period_id,
        payer_id=payer_id,
        period_id=period_id,
        nominal_kopecks=nominal,
        certificate_limit=limit,
        version=version,
        nominals=nominals,
        updated_at=now,
    )
    tx = Transaction()
    if seen is None:
        tx.put("budget", head, BudgetItem.pk.does_not_exist())
        for n, left in enumerate(split_evenly(limit, BUDGET_SHARDS)):
            item = SliceItem(
                pk=slice_pk(payer_id, period_id, n),
                left=left,
                issued=0,
                committed=0,
                nominal=nominal,
                version=version,
            )
            tx.put("slice", item, SliceItem.pk.does_not_exist())
    else:
        if limit < seen.issued:
            raise Conflict(
                "The limit can't go below the certificates already issued.",
                code="limit_below_issued",
                details={"certificates_issued": seen.issued},
            )
        tx.put("budget", head, BudgetItem.version == seen.version)
        changes = spread_change([int(s.left) for s in seen.slices], limit - seen.certificate_limit)
        for item, change in zip(seen.slices, changes, strict=True):
            condition = SliceItem.version == seen.version
            if change < 0:
                condition &= SliceItem.left >= -change
            tx.update(
                "slice",
                item,
                [
                    SliceItem.left.add(change),
                    SliceItem.nominal.set(nominal),
                    SliceItem.version.set(version),
                ],
                condition,
            )
    tx.commit()


# -------------------------------------------------------- issuing certificates


@dataclass(frozen=True)
class Funder:
    """Who funds a new certificate, and from which slice of which budget (None: no budget)."""

    payer_id: str
    period_id: str
    slice_no: int
    nominal: int | None  # the budget's nominal; None: the period's, without a limit
    version: int | None

    @property
    def under_budget(self) -> bool:
        return self.nominal is not None


def _no_certificates_left(payer_id: str, period_id: str) -> Conflict:
    return Conflict(
        "The payer's budget has no certificates left for this period.",
        code="no_certificates_left",
        details={"payer_id": payer_id, "period_id": period_id},
    )


def funder_for(municipality: str | None, period_id: str) -> Funder:
    """The payer serving the municipality now, and a slice of its budget with one left.

    Reads the municipality's claim and one slice together (the payer guessed from a cache, the
    claim deciding). The slice empty: every slice is read; none left in any:
    Conflict(no_certificates_left). These are consistent batch reads, not one moment: what goes
    ahead is conditioned in the enrollment's transaction, and a refusal is decided again on a
    snapshot (`Wanted`, `funder_in`).
    """
    n = random.randrange(BUDGET_SHARDS)
    guess = payers.guess_payer(municipality) if municipality else REGION
    wanted: list[tuple[type[Model], str, str]] = [
        (SliceItem, slice_pk(guess, period_id, n), SLICE_SK)
    ]
    if municipality:
        wanted.append(payers.claim_key(municipality))
    found = read_together(wanted)
    chosen = found[0]
    payer_id = found[1].payer_id if len(found) > 1 and found[1] is not None else REGION
    if payer_id != guess:
        payers.guess_payer(municipality or "", refresh=True)
        chosen = read_together([(SliceItem, slice_pk(payer_id, period_id, n), SLICE_SK)])[0]
    if chosen is None:
        return Funder(payer_id, period_id, n, None, None)
    if int(chosen.left) <= 0:
        n, chosen = _slice_with_one_left(payer_id, period_id)
    return Funder(payer_id, period_id, n, int(chosen.nominal), int(chosen.version))


def _slice_with_one_left(payer_id: str, period_id: str) -> tuple[int, SliceItem]:
    """A slice with a certificate left, or the refusal once none is left in any."""
    slices = read_together(_slice_keys(payer_id, period_id))
    open_slices = [n for n, s in enumerate(slices) if s is not None and int(s.left) > 0]
    if open_slices:
        n = random.choice(open_slices)
        return n, slices[n]
    if any(s is None for s in slices):
        raise Cancelled(set(), conflicted=True)  # cannot happen: the slices are written together
    raise _no_certificates_left(payer_id, period_id)


# ------------------------------------------------- deciding on a snapshot


@dataclass(frozen=True)
class Wanted:
    """The budget items an enrollment's snapshot reads: the claim of the child's municipality
    and some slices of one payer's budget for one period."""

    municipality: str | None
    payer_id: str
    period_id: str
    slice_nos: tuple[int, ...]

    @classmethod
    def one_slice(cls, municipality: str | None, payer_id: str, period_id: str) -> Wanted:
        return cls(municipality, payer_id, period_id, (random.randrange(BUDGET_SHARDS),))

    @classmethod
    def every_slice(cls, municipality: str | None, payer_id: str, period_id: str) -> Wanted:
        return cls(municipality, payer_id, period_id, tuple(range(BUDGET_SHARDS)))

    def keys(self) -> list[tuple[type[Model], str, str]]:
        keys: list[tuple[type[Model], str, str]] = [
            (SliceItem, slice_pk(self.payer_id, self.period_id, n), SLICE_SK)
            for n in self.slice_nos
        ]
        if self.municipality:
            keys.append(payers.claim_key(self.municipality))
        return keys


@dataclass(frozen=True)
class Seen:
    """The items of a `Wanted`, as a snapshot found them."""

    wanted: Wanted
    claimed_by: str  # the payer the claim names; `region` when there is no claim
    slices: tuple[SliceItem | None, ...]

    @classmethod
    def of(cls, wanted: Wanted, found: list[Any]) -> Seen:
        slices = tuple(found[: len(wanted.slice_nos)])
        claim = found[len(wanted.slice_nos)] if wanted.municipality else None
        return cls(wanted, claim.payer_id if claim is not None else REGION, slices)


class Unread(Exception):
    """A decision on a snapshot needs budget items the snapshot did not hold: read these."""

    def __init__(self, wanted: Wanted) -> None:
        super().__init__(f"{wanted.payer_id}/{wanted.period_id}: {len(wanted.slice_nos)} slices")
        self.wanted = wanted


def funder_in(seen: Seen | None, municipality: str | None, period_id: str) -> Funder:
    """`funder_for`, decided on items that all stood at one moment.

    At one moment a budget's slices all exist or none does (they are created together), and
    all carry the budget's version and nominal (a budget write changes every slice in one
    transaction). So one slice with a certificate left shows the budget open at its nominal,
    one absent slice shows no budget, and only all of them empty is no_certificates_left.
    Unread when the snapshot lacks what that takes: the right payer's slices of the period,
    every slice for a refusal.
    """
    wanted = seen.wanted if seen is not None else None
    if (
        seen is None
        or wanted is None
        or wanted.period_id != period_id
        or (wanted.municipality != municipality)
    ):
        payer_id = payers.guess_payer(municipality) if municipality else REGION
        raise Unread(Wanted.one_slice(municipality, payer_id, period_id))
    if seen.claimed_by != wanted.payer_id:
        raise Unread(Wanted.one_slice(municipality, seen.claimed_by, period_id))
    payer_id = wanted.payer_id
    present = [(n, s) for n, s in zip(wanted.slice_nos, seen.slices, strict=True) if s is not None]
    if not present:
        return Funder(payer_id, period_id, wanted.slice_nos[0], None, None)
    if len(present) != len(wanted.slice_nos):
        raise Cancelled(set(), conflicted=True)  # cannot happen: the slices are written together
    open_slices = [(n, s) for n, s in present if int(s.left) > 0]
    if open_slices:
        n, chosen = random.choice(open_slices)
        return Funder(payer_id, period_id, n, int(chosen.nominal), int(chosen.version))
    if len(wanted.slice_nos) < BUDGET_SHARDS:
        raise Unread(Wanted.every_slice(municipality, payer_id, period_id))
    raise _no_certificates_left(payer_id, period_id)


def take_certificate(tx: Transaction, funder: Funder) -> None:
    """Join an enrollment's transaction: one certificate from the funder's slice, at the nominal
    read; or, without a budget, only while there is still none."""
    item = SliceItem(pk=slice_pk(funder.payer_id, funder.period_id, funder.slice_no))
    if funder.nominal is None:
        tx.check("budget", SliceItem, (item.pk, SLICE_SK), SliceItem.pk.does_not_exist())
        return
    tx.update(
        "budget",
        item,
        [
            SliceItem.left.add(-1),
            SliceItem.issued.add(1),
            SliceItem.committed.add(funder.nominal),
        ],
        (SliceItem.left > 0) & (SliceItem.nominal == funder.nominal),
    )


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return dict(value.as_dict()) if hasattr(value, "as_dict") else dict(value)
