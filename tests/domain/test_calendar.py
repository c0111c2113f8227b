"""The domain's calendar is Asia/Krasnoyarsk, and NAVIGATOR_TODAY moves only "today"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from navigator.domain import calendar
from navigator.settings import reset_settings


@pytest.fixture(autouse=True)
def fresh_settings():
    reset_settings()
    yield
    reset_settings()


def test_navigator_today_sets_the_domain_date(monkeypatch):
    monkeypatch.setenv("NAVIGATOR_TODAY", "2026-10-15")
    assert calendar.today().isoformat() == "2026-10-15"
    assert calendar.current_month() == "2026-10"


def test_navigator_today_does_not_move_timestamps(monkeypatch):
    monkeypatch.setenv("NAVIGATOR_TODAY", "2001-01-01")
    assert calendar.now_utc_iso().startswith(str(datetime.now(UTC).year))


def test_the_month_before_an_event_is_taken_in_krasnoyarsk():
    # 18:30 UTC on 31 October is already 1 November in Krasnoyarsk (UTC+7).
    moment = datetime(2026, 10, 31, 18, 30, tzinfo=UTC)
    assert calendar.previous_month_of(moment) == "2026-10"
    assert calendar.previous_month_of(datetime(2026, 10, 31, 16, 0, tzinfo=UTC)) == "2026-09"


def test_month_arithmetic():
    assert calendar.add_months("2026-12", 1) == "2027-01"
    assert calendar.add_months("2027-01", -1) == "2026-12"
    assert calendar.months_between("2026-11", "2027-02") == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
    ]
    assert calendar.months_between("2027-02", "2026-11") == []
