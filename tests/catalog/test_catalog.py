"""Providers, programs and the public catalog, through the catalog handler."""

from __future__ import annotations

import pytest

from tests.support.api import OPERATOR, PARENT, provider, request
from tests.support.api import program_body as program
from tests.support.catalog import occupy
from tests.support.indexes import caught_up

INN = "7707083893"


@pytest.fixture
def providers(aws):
    for pid in ("p1", "p2"):
        body = {
            "provider_id": pid,
            "name": f"Дом творчества {pid}",
            "inn": INN,
            "municipality": "Красноярск",
        }
        assert request("POST", "/providers", body=body, claims=OPERATOR).status == 201


def create(pid="p1", **overrides):
    reply = request("POST", "/programs", body=program(**overrides), claims=provider(pid))
    assert reply.status == 201, reply.body
    return reply.body


def listing(**query):
    caught_up()
    reply = request("GET", "/programs", query={k: str(v) for k, v in query.items()})
    assert reply.status == 200, reply.body
    return reply.body


def test_provider_is_created_once_and_is_public(aws):
    body = {"provider_id": "p1", "name": "Дом", "inn": INN, "municipality": "Канск"}
    assert request("POST", "/providers", body=body, claims=OPERATOR).status == 201
    again = request("POST", "/providers", body=body, claims=OPERATOR)
    assert (again.status, again.code) == (409, "provider_exists")
    assert request("GET", "/providers/p1").body == body


def test_provider_inn_checksum_is_validated(aws):
    body = {"provider_id": "p1", "name": "Дом", "inn": "7707083894", "municipality": "Канск"}
    assert request("POST", "/providers", body=body, claims=OPERATOR).status == 422


def test_unregistered_provider_may_not_create_programs(providers):
    reply = request("POST", "/programs", body=program(), claims=provider("ghost"))
    assert (reply.status, reply.code) == (403, "provider_not_registered")


def test_program_is_owned_by_the_callers_provider(providers):
    created = create()
    assert created["provider_id"] == "p1"
    assert created["provider_name"] == "Дом творчества p1"
    assert created["seats_left"] == 10 and created["seats_taken"] == 0
    assert request("GET", f"/programs/{created['program_id']}").body == created


def test_price_must_fit_the_funding(providers):
    free_with_price = request(
        "POST", "/programs", body=program(funding="free"), claims=provider("p1")
    )
    assert free_with_price.status == 422
    paid_for_nothing = request(
        "POST", "/programs", body=program(price_per_month_kopecks=0), claims=provider("p1")
    )
    assert paid_for_nothing.status == 422


def test_drafts_and_archived_programs_are_not_public(providers):
    draft = create(status="draft")
    assert request("GET", f"/programs/{draft['program_id']}").status == 404
    assert listing()["items"] == []
    mine = request("GET", "/providers/p1/programs", claims=provider("p1"))
    assert [p["program_id"] for p in mine.body["items"]] == [draft["program_id"]]


def test_only_the_owner_patches_and_reads_every_status(providers):
    created = create()
    pid = created["program_id"]
    other = request("PATCH", f"/programs/{pid}", body={"capacity": 5}, claims=provider("p2"))
    assert other.status == 403
    mine = request("PATCH", f"/programs/{pid}", body={"capacity": 5}, claims=provider("p1"))
    assert mine.status == 200 and mine.body["capacity"] == 5
    assert request("GET", "/providers/p1/programs", claims=provider("p2")).status == 403
    assert request("GET", "/providers/p1/programs", claims=OPERATOR).status == 200
    assert request("GET", "/providers/p1/programs", claims=PARENT).status == 403


def test_patch_of_an_unknown_program_is_404(providers):
    reply = request("PATCH", "/programs/nope", body={"capacity": 5}, claims=provider("p1"))
    assert reply.status == 404


def test_capacity_can_not_go_below_seats_taken(providers):
    created = create()
    occupy(created["program_id"], taken=4, active=4)
    reply = request(
        "PATCH", f"/programs/{created['program_id']}", body={"capacity": 3}, claims=provider("p1")
    )
    assert (reply.status, reply.code) == (409, "capacity_below_taken")


def test_funding_and_months_are_frozen_while_enrollments_are_active(providers):
    created = create()
    occupy(created["program_id"], taken=1, active=1)
    path = f"/programs/{created['program_id']}"
    frozen = request("PATCH", path, body={"end_month": "2027-04"}, claims=provider("p1"))
    assert (frozen.status, frozen.code) == (409, "program_has_enrollments")
    price = request("PATCH", path, body={"price_per_month_kopecks": 1}, claims=provider("p1"))
    assert price.status == 200


def test_list_filters(providers):
    create(title="Робототехника", direction="technical", age_min=8, age_max=12)
    create(
        title="Хор",
        direction="arts",
        municipality="Ачинск",
        funding="free",
        price_per_month_kopecks=0,
        age_min=5,
        age_max=7,
    )
    create("p2", title="Футбол", direction="physical_sports", capacity=1)
    titles = lambda body: sorted(p["title"] for p in body["items"])  # noqa: E731
    assert titles(listing(direction="arts")) == ["Хор"]
    assert titles(listing(municipality="Ачинск")) == ["Хор"]
    assert titles(listing(age=6)) == ["Хор"]
    assert titles(listing(age=12)) == ["Робототехника", "Футбол"]
    assert titles(listing(funding="free")) == ["Хор"]
    assert titles(listing(provider_id="p2")) == ["Футбол"]
    assert len(listing()["items"]) == 3


def test_has_seats_hides_full_programs(providers):
    full = create(title="Футбол", capacity=1)
    create(title="Хоккей")
    listing()  # the snapshot is loaded before the seat is taken: the feed must carry it
    occupy(full["program_id"], taken=1, active=1)
    assert [p["title"] for p in listing(has_seats="true")["items"]] == ["Хоккей"]


@pytest.mark.parametrize(
    "q,found",
    [
        ("робот", True),  # a prefix
        ("РОБОТОТЕХНИКА", True),  # case
        ("шахматам", True),  # a form of "шахматы"
        ("елка", True),  # ё and е
        ("ёлочка", False),
        ("шахматы робот", True),  # every word must match
        ("шахматы футбол", False),
        ("кулинария", False),
    ],
)
def test_search_words(providers, q, found):
    create(title="Робототехника и шахматы", description="Собираем роботов; ёлка в декабре.")
    assert bool(listing(q=q)["items"]) is found


API_MD_EXAMPLES = [
    ("робот", "Робототехника", True),
    ("кружки", "Кружок", True),
    ("танец", "Танцы", True),
    ("песня", "Сто песен", True),
    ("шахматам", "Шахматы", True),
    ("лесу", "Лес", True),
    ("лесу", "Лестница", False),
    ("детям", "Дети", True),
    ("детям", "Детектив", False),
]


@pytest.mark.parametrize("shipped", [False, True], ids=["from the feed", "from the blob"])
def test_the_examples_of_api_md(providers, monkeypatch, shipped):
    from catalog.snapshot import build_snapshot
    from navigator.domain import search
    from navigator.store.catalog_snapshot import reset_snapshot

    ids = {
        title: create(title=title, description="")["program_id"] for _, title, _ in API_MD_EXAMPLES
    }
    if shipped:  # a cold container that answers from the blob without the analyzer
        build_snapshot()
        reset_snapshot()
        monkeypatch.setattr(search, "analyzer_loaded", lambda: False)
    for q, title, found in API_MD_EXAMPLES:
        listed = {p["program_id"] for p in listing(q=q, limit=100)["items"]}
        assert (ids[title] in listed) is found, (q, title)


def test_title_matches_come_first_and_paging_keeps_the_order(providers):
    in_title = {create(title=f"Кружок {n}", description="")["program_id"] for n in range(3)}
    in_text = {
        create(title=f"Студия {n}", description="Лучший кружок города")["program_id"]
        for n in range(3)
    }
    create(title="Хор", description="Поём")
    seen, cursor = [], None
    while True:
        page = listing(q="кружки", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [p["program_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(seen[:3]) == in_title and set(seen[3:]) == in_text and len(seen) == 6
    assert seen[:3] == sorted(in_title) and seen[3:] == sorted(in_text)


def test_paging_yields_each_program_once_and_cursors_are_bound_to_the_query(providers):
    ids = {create(title=f"Кружок {n}")["program_id"] for n in range(7)}
    seen, cursor, limit = [], None, 1
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = listing(**query)
        seen += [p["program_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        limit = 3 - limit % 2  # the limit may change from page to page
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    first = listing(limit=2)
    reply = request("GET", "/programs", query={"cursor": first["next_cursor"], "direction": "arts"})
    assert (reply.status, reply.code) == (400, "invalid_cursor")
    tampered = first["next_cursor"][:-2] + (
        "AA" if not first["next_cursor"].endswith("AA") else "BB"
    )
    reply = request("GET", "/programs", query={"cursor": tampered})
    assert (reply.status, reply.code) == (400, "invalid_cursor")


def test_a_program_runs_two_years_at_most(providers):
    reply = request(
        "POST",
        "/programs",
        body=program(start_month="2026-09", end_month="2028-09"),
        claims=provider("p1"),
    )
    assert reply.status == 422
    assert reply.body["error"]["details"]["fields"][0]["field"] == "end_month"


def test_a_period_lasts_two_years_at_most(aws):
    body = {"starts_on": "2026-09-01", "ends_on": "2028-09-30", "nominal_kopecks": 1}
    reply = request("PUT", "/periods/long", body=body, claims=OPERATOR)
    assert (reply.status, reply.code) == (422, "validation_error")
