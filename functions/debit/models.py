"""Request bodies of the operator routes."""

from __future__ import annotations

from navigator.api.types import IsoDate, Month, PositiveKopecks, Strict


class PeriodIn(Strict):
    starts_on: IsoDate
    ends_on: IsoDate
    nominal_kopecks: PositiveKopecks


class DebitRunIn(Strict):
    month: Month
