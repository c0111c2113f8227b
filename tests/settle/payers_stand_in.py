"""WAITS FOR ISSUE 14 (payers and budgets): a second payer, stood in for until it merges.

Once payers merge, `two_payers` becomes `PUT /payers/kansk` with `advance_percent: 0` and the
municipality «Канск», and `serve_by` becomes registering the child in that municipality; the
scenarios that use them stay as they are.
"""

from __future__ import annotations

from typing import Any

PAYERS = {"region": ("Краевой бюджет", 80), "kansk": ("Бюджет города Канска", 0)}


def two_payers(monkeypatch: Any) -> None:
    from navigator.service import settlement

    monkeypatch.setattr(settlement, "payer_terms", lambda payer_id: PAYERS[payer_id])


def serve_by(certificate_id: str, payer_id: str) -> None:
    """The certificate's payer, as issuing it in a municipality of that payer would set it."""
    from navigator.store.accounts import CertificateItem, get_certificate

    get_certificate(certificate_id).update(actions=[CertificateItem.payer_id.set(payer_id)])
