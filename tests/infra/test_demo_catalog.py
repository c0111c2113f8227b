"""The demo catalog is deterministic and every record obeys the catalog's field rules."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from infra.local.demo_catalog import (
    DEMO_PERIOD,
    DIRECTIONS,
    POPULAR_PROGRAM_IDS,
    demo_programs,
    demo_providers,
    inn_is_valid,
)

PROVIDER_KEYS = {"provider_id", "name", "inn", "municipality"}
PROGRAM_KEYS = {
    "program_id",
    "provider_id",
    "title",
    "description",
    "direction",
    "municipality",
    "address",
    "age_min",
    "age_max",
    "price_per_month_kopecks",
    "start_month",
    "end_month",
    "capacity",
    "funding",
    "status",
}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@pytest.fixture(scope="module")
def providers() -> list[dict[str, Any]]:
    return demo_providers()


@pytest.fixture(scope="module")
def programs() -> list[dict[str, Any]]:
    return demo_programs()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- determinism ---------------------------------------------------------------------------------


def test_two_calls_give_equal_data() -> None:
    assert demo_providers() == demo_providers()
    assert demo_programs() == demo_programs()


def test_every_call_returns_fresh_lists() -> None:
    first = demo_programs()
    first[0]["title"] = "changed"
    first.clear()
    assert demo_programs()[0]["title"] != "changed"


# --- INN -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "inn",
    [
        "2460000003",  # 4 + 16 + 60 = 80; 80 % 11 = 3
        "2404000000",  # 4 + 16 + 12 = 32; 32 % 11 = 10, so the control digit is 0
        "246000000027",  # 46 % 11 = 2, then 62 % 11 = 7
    ],
)
def test_inn_with_valid_checksum_is_accepted(inn: str) -> None:
    assert inn_is_valid(inn)


@pytest.mark.parametrize(
    "inn",
    [
        "2460000004",  # wrong control digit
        "246000000028",  # wrong second control digit
        "246000000037",  # wrong first control digit
        "24600000031",  # 11 digits
        "246000003",  # 9 digits
        "",
        "24600000a3",
        " 2460000003",
        "２４６００００００３",  # full-width digits
    ],
)
def test_inn_with_invalid_checksum_or_shape_is_rejected(inn: str) -> None:
    assert not inn_is_valid(inn)


def test_inn_is_valid_rejects_non_strings() -> None:
    assert not inn_is_valid(2460000003)  # type: ignore[arg-type]


# --- providers -----------------------------------------------------------------------------------


def test_providers_have_exactly_the_documented_fields(providers: list[dict[str, Any]]) -> None:
    assert 30 <= len(providers) <= 40
    for provider in providers:
        assert set(provider) == PROVIDER_KEYS
        assert all(isinstance(value, str) and value.strip() for value in provider.values())


def test_provider_ids_are_unique_ascii_slugs(providers: list[dict[str, Any]]) -> None:
    ids = [provider["provider_id"] for provider in providers]
    assert len(set(ids)) == len(ids)
    for provider_id in ids:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", provider_id), provider_id


def test_provider_inns_are_valid_unique_and_from_the_krai(providers: list[dict[str, Any]]) -> None:
    inns = [provider["inn"] for provider in providers]
    assert len(set(inns)) == len(inns)
    for provider in providers:
        inn = provider["inn"]
        assert inn_is_valid(inn), provider
        assert inn.startswith("24")
        # Individual entrepreneurs have 12-digit INNs, organisations 10-digit ones.
        assert len(inn) == (12 if provider["name"].startswith("ИП ") else 10), provider
    assert any(len(inn) == 12 for inn in inns)


def test_a_corrupted_provider_inn_is_rejected(providers: list[dict[str, Any]]) -> None:
    for provider in providers:
        inn = provider["inn"]
        corrupted = inn[:-1] + str((int(inn[-1]) + 1) % 10)
        assert not inn_is_valid(corrupted)


def test_most_providers_are_in_krasnoyarsk_and_ten_plus_municipalities(
    providers: list[dict[str, Any]],
) -> None:
    municipalities = Counter(provider["municipality"] for provider in providers)
    assert len(municipalities) >= 10
    assert municipalities["Красноярск"] > len(providers) / 2
    assert "Берёзовский район" in municipalities  # spelled with ё


# --- programs ------------------------------------------------------------------------------------


def test_about_three_hundred_programs_with_exactly_the_documented_fields(
    programs: list[dict[str, Any]],
) -> None:
    assert 250 <= len(programs) <= 350
    for program in programs:
        assert set(program) == PROGRAM_KEYS, program["program_id"]


def test_program_ids_are_unique_ascii(programs: list[dict[str, Any]]) -> None:
    ids = [program["program_id"] for program in programs]
    assert len(set(ids)) == len(ids)
    for program_id in ids:
        assert re.fullmatch(r"prg-\d{4}", program_id), program_id


def test_every_program_belongs_to_a_provider_in_its_municipality(
    providers: list[dict[str, Any]], programs: list[dict[str, Any]]
) -> None:
    by_id = {provider["provider_id"]: provider for provider in providers}
    for program in programs:
        provider = by_id[program["provider_id"]]
        assert program["municipality"] == provider["municipality"], program["program_id"]
    assert {program["provider_id"] for program in programs} == set(by_id)


def test_texts_are_within_limits(programs: list[dict[str, Any]]) -> None:
    for program in programs:
        title, description, address = program["title"], program["description"], program["address"]
        assert isinstance(title, str) and 1 <= len(title) <= 200 and title == title.strip()
        assert isinstance(description, str) and 1 <= len(description) <= 5000
        assert 1 <= sum(description.count(mark) for mark in ".!?") <= 3, description
        assert isinstance(address, str) and 1 <= len(address) <= 300 and address.strip()
        assert re.search(r"[А-Яа-яЁё]", title) and re.search(r"[А-Яа-яЁё]", description)


def test_titles_are_not_repeated_within_a_provider(programs: list[dict[str, Any]]) -> None:
    pairs = Counter((program["provider_id"], program["title"]) for program in programs)
    assert max(pairs.values()) == 1


def test_descriptions_offer_word_forms_to_search(programs: list[dict[str, Any]]) -> None:
    text = " ".join(program["description"] for program in programs).lower()
    for form in ("шахматам", "роботов", "ёлк"):
        assert form in text


def test_ages_are_realistic(programs: list[dict[str, Any]]) -> None:
    for program in programs:
        age_min, age_max = program["age_min"], program["age_max"]
        assert _is_int(age_min) and _is_int(age_max)
        assert 0 <= age_min <= age_max <= 18, program["program_id"]


def test_price_is_zero_iff_free_and_whole_roubles(programs: list[dict[str, Any]]) -> None:
    for program in programs:
        price, funding = program["price_per_month_kopecks"], program["funding"]
        assert _is_int(price)
        assert funding in {"certificate", "free"}
        if funding == "free":
            assert price == 0
        else:
            assert 150_000 <= price <= 600_000, program["program_id"]
            assert price % 100 == 0


def test_funding_is_mostly_by_certificate(programs: list[dict[str, Any]]) -> None:
    free = sum(program["funding"] == "free" for program in programs)
    assert 0.1 <= free / len(programs) <= 0.3


def _month(value: object) -> tuple[int, int]:
    assert isinstance(value, str)
    match = MONTH.fullmatch(value)
    assert match, value
    year, month = int(match[1]), int(match[2])
    assert 1 <= month <= 12, value
    return year, month


def test_months_are_real_ordered_and_inside_the_period(programs: list[dict[str, Any]]) -> None:
    period_start = _month(DEMO_PERIOD["starts_on"][:7])
    period_end = _month(DEMO_PERIOD["ends_on"][:7])
    for program in programs:
        start, end = _month(program["start_month"]), _month(program["end_month"])
        assert period_start <= start <= end <= period_end, program["program_id"]


def test_schedules_mix_year_half_year_and_summer(programs: list[dict[str, Any]]) -> None:
    spans = Counter((program["start_month"], program["end_month"]) for program in programs)
    assert spans[("2026-09", "2027-05")] > len(programs) / 2
    assert spans[("2026-09", "2026-12")] > 0
    assert spans[("2027-01", "2027-05")] > 0
    assert spans[("2027-06", "2027-08")] > 0


def test_capacity_is_realistic(programs: list[dict[str, Any]]) -> None:
    capacities = [program["capacity"] for program in programs]
    assert all(_is_int(capacity) and 1 <= capacity <= 10_000 for capacity in capacities)
    assert sum(8 <= capacity <= 40 for capacity in capacities) >= 0.9 * len(capacities)
    assert sum(capacity >= 100 for capacity in capacities) >= 2


def test_statuses_are_mostly_published(programs: list[dict[str, Any]]) -> None:
    statuses = Counter(program["status"] for program in programs)
    assert set(statuses) == {"published", "draft", "archived"}
    assert statuses["published"] >= 0.9 * len(programs)


def test_all_six_directions_are_well_represented(programs: list[dict[str, Any]]) -> None:
    directions = Counter(program["direction"] for program in programs)
    expected = {
        "technical",
        "natural_science",
        "physical_sports",
        "arts",
        "tourism",
        "social_humanitarian",
    }
    assert set(DIRECTIONS) == expected
    assert set(directions) == expected
    assert min(directions.values()) >= 20


def test_programs_span_ten_plus_municipalities_mostly_krasnoyarsk(
    programs: list[dict[str, Any]],
) -> None:
    municipalities = Counter(program["municipality"] for program in programs)
    assert len(municipalities) >= 10
    assert municipalities["Красноярск"] > len(programs) / 2


def test_popular_programs_are_small_published_and_in_krasnoyarsk(
    programs: list[dict[str, Any]],
) -> None:
    by_id = {program["program_id"]: program for program in programs}
    assert len(POPULAR_PROGRAM_IDS) >= 3
    assert len(set(POPULAR_PROGRAM_IDS)) == len(POPULAR_PROGRAM_IDS)
    for program_id in POPULAR_PROGRAM_IDS:
        program = by_id[program_id]
        assert program["municipality"] == "Красноярск"
        assert 10 <= program["capacity"] <= 12
        assert program["status"] == "published"
        assert program["funding"] == "certificate"


# --- period --------------------------------------------------------------------------------------


def test_demo_period() -> None:
    assert DEMO_PERIOD == {
        "period_id": "2026-2027",
        "starts_on": "2026-09-01",
        "ends_on": "2027-08-31",
        "nominal_kopecks": 3_000_000,
    }
