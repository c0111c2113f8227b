"""The domain's calendar: Asia/Krasnoyarsk, with "today" overridable for the local stack."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from navigator.settings import get_settings

DOMAIN_TZ = ZoneInfo("Asia/Krasnoyarsk")


def today() -> date:
    """Today in the domain's calendar; NAVIGATOR_TODAY overrides it (never the clock)."""
    override = get_settings().today_override
    if override:
        return date.fromisoformat(override)
    return datetime.now(DOMAIN_TZ).date()


def current_month() -> str:
    return month_of(today())


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def now_utc_iso() -> str:
    """A record timestamp: the real clock, UTC, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_month(text: str) -> tuple[int, int]:
    """(year, month) of a real YYYY-MM month, or ValueError."""
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit():
        raise ValueError("must be a month YYYY-MM")
    year, month = int(text[:4]), int(text[5:])
    if not (1 <= month <= 12 and year >= 1900):
        raise ValueError("must be a real month YYYY-MM")
    return year, month


def _index(month: str) -> int:
    year, mon = parse_month(month)
    return year * 12 + (mon - 1)


def _month_at(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(month: str, n: int) -> str:
    return _month_at(_index(month) + n)


def month_count(first: str, last: str) -> int:
    """How many months from first to last inclusive (0 when first > last)."""
    return max(0, _index(last) - _index(first) + 1)


def months_between(first: str, last: str) -> list[str]:
    """Every month from first to last inclusive (empty when first > last)."""
    return [_month_at(i) for i in range(_index(first), _index(last) + 1)]


def previous_month_of(moment: datetime) -> str:
    """The month before the one holding `moment` in the domain's calendar."""
    local = moment.astimezone(DOMAIN_TZ)
    return add_months(month_of(local.date()), -1)
