"""The only code that moves money: a certificate's update and its ledger entries, together.

Every movement joins a caller's transaction with (1) the certificate's update, conditioned on
the ledger position it was computed from, so concurrent movements serialize and `seq` has no
gaps, and on every term staying at or above zero; and (2) one ledger entry per movement, each
put only if its position is free.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from navigator.store.accounts import (
    CertificateItem,
    LedgerItem,
    cert_key,
    ledger_sk,
    put_listings,
)
from navigator.store.base import Transaction

# type -> (balance, reserved, spent, expired) direction of the amount
EFFECTS: dict[str, tuple[int, int, int, int]] = {
    "issue": (1, 0, 0, 0),
    "reserve": (-1, 1, 0, 0),
    "debit": (0, -1, 1, 0),
    "release": (1, -1, 0, 0),
    "expire": (-1, 0, 0, 1),
}
TERMS = ("balance", "reserved", "spent", "expired")


@dataclass(frozen=True)
class Movement:
    type: str
    amount: int
    enrollment_id: str | None = None
    month: str | None = None


def ledger_entry(certificate_id: str, seq: int, movement: Movement, now: str) -> LedgerItem:
    """The certificate's entry number `seq`, recording `movement`."""
    return LedgerItem(
        pk=cert_key(certificate_id),
        sk=ledger_sk(seq),
        entry_id=f"le-{uuid.uuid4().hex[:16]}",
        certificate_id=certificate_id,
        seq=seq,
        type=movement.type,
        amount_kopecks=movement.amount,
        enrollment_id=movement.enrollment_id,
        month=movement.month,
        created_at=now,
    )


def _entries(
    tx: Transaction, certificate_id: str, first_seq: int, movements: list[Movement], now: str
) -> None:
    for offset, movement in enumerate(movements):
        entry = ledger_entry(certificate_id, first_seq + offset, movement, now)
        tx.put("ledger", entry, LedgerItem.sk.does_not_exist())


def apply(state: dict[str, int], movements: list[Movement]) -> dict[str, int]:
    """The certificate's terms after the movements (the same arithmetic replay uses)."""
    out = dict(state)
    for movement in movements:
        for term, sign in zip(TERMS, EFFECTS[movement.type], strict=True):
            out[term] += sign * movement.amount
    return out


def issue_with(
    tx: Transaction, certificate: CertificateItem, movements: list[Movement], now: str
) -> CertificateItem:
    """A new certificate: `issue` of its nominal, then `movements`, put as its final state."""
    moves = [Movement("issue", int(certificate.nominal))] + [m for m in movements if m.amount]
    state = apply({t: 0 for t in TERMS}, moves)
    for term in TERMS:
        setattr(certificate, term, state[term])
    certificate.seq = len(moves)
    tx.put("certificate", certificate, CertificateItem.pk.does_not_exist())
    put_listings(tx, certificate)
    _entries(tx, certificate.certificate_id, 1, moves, now)
    return certificate


def move(
    tx: Transaction,
    certificate: CertificateItem,
    movements: list[Movement],
    now: str,
    expire: bool = False,
) -> dict[str, int]:
    """Movements on an existing certificate; returns its terms after them."""
    moves = [m for m in movements if m.amount]
    before = {t: int(getattr(certificate, t)) for t in TERMS}
    after = apply(before, moves)
    if any(value < 0 for value in after.values()):
        raise ValueError(f"movement would make a term negative: {after}")
    if not moves and not expire:
        return after
    seq = int(certificate.seq)
    # Expiry may write no entry (a zero balance), so the status is checked as well as `seq`.
    condition = (CertificateItem.seq == seq) & (CertificateItem.status == certificate.status)
    actions: list[Any] = [CertificateItem.seq.set(seq + len(moves))]
    for term in TERMS:
        delta = after[term] - before[term]
        if delta:
            attribute = getattr(CertificateItem, term)
            actions.append(attribute.add(delta))
            if delta < 0:
                condition &= attribute >= -delta
    if expire:
        actions.append(CertificateItem.status.set("expired"))
    tx.update("certificate", certificate, actions, condition)
    _entries(tx, certificate.certificate_id, seq + 1, moves, now)
    # The object now shows the state the transaction will leave (once it commits).
    for term in TERMS:
        setattr(certificate, term, after[term])
    certificate.seq = seq + len(moves)
    if expire:
        certificate.status = "expired"
    return after
