"""Settlement's arithmetic: advance lines, final amounts, roubles for accountants."""

from __future__ import annotations

KINDS = ("advance", "final")


def advance_line(certificate_kopecks: int, advance_percent: int) -> int:
    """floor(certificate_kopecks x advance_percent / 100), in whole kopecks."""
    return certificate_kopecks * advance_percent // 100


def final_amount(charged_total_kopecks: int, advance_kopecks: int) -> int:
    """What the payer still owes; below zero the provider returns the difference."""
    return charged_total_kopecks - advance_kopecks


def roubles(kopecks: int) -> str:
    """Kopecks as roubles with a decimal comma, as Russian accountants' Excel reads them."""
    sign = "-" if kopecks < 0 else ""
    whole, part = divmod(abs(kopecks), 100)
    return f"{sign}{whole},{part:02d}"
