"""A cold catalog container loads the snapshot blob, then reads only the feed's news."""

from __future__ import annotations

import pytest

from measure.meter import CapacityMeter
from tests.support.api import OPERATOR, program_body, provider, request
from tests.support.indexes import caught_up


@pytest.fixture
def catalog(aws, monkeypatch):
    from navigator.store import catalog_snapshot

    # Changes older than the blob are not re-read for clock skew in this test.
    monkeypatch.setattr(catalog_snapshot, "FEED_OVERLAP_MS", 0)
    body = {"provider_id": "p1", "name": "Дом", "inn": "7707083893", "municipality": "Канск"}
    assert request("POST", "/providers", body=body, claims=OPERATOR).status == 201
    created = [
        request(
            "POST", "/programs", body=program_body(title=f"Кружок {n}"), claims=provider("p1")
        ).body["program_id"]
        for n in range(5)
    ]
    caught_up()  # with no overlap, a change the index shows after a read is never re-read
    return created


def cold_listing():
    from navigator.store.catalog_snapshot import reset_snapshot

    reset_snapshot()  # a new container
    caught_up()
    with CapacityMeter() as meter:
        reply = request("GET", "/programs", query={"limit": "100"})
    feed_items = sum(c.items for c in meter.calls if c.index == "changes")
    return reply.body, feed_items, meter


def test_a_cold_container_reads_the_blob_not_the_whole_feed(catalog):
    from catalog.snapshot import build_snapshot

    _, feed_items_without_blob, _ = cold_listing()
    assert feed_items_without_blob == 10  # five programs and their seat counters
    built = build_snapshot()
    assert built["programs"] == 5
    body, feed_items, meter = cold_listing()
    assert feed_items == 0
    assert sorted(p["program_id"] for p in body["items"]) == sorted(catalog)
    assert meter.read_units <= 8 * 0.5  # eight empty feed queries


def test_changes_after_the_blob_come_from_the_feed(catalog):
    from catalog.snapshot import build_snapshot
    from tests.support.catalog import occupy

    build_snapshot()
    newer = request(
        "POST", "/programs", body=program_body(title="Новый кружок"), claims=provider("p1")
    ).body["program_id"]
    occupy(catalog[0], taken=3, active=3)
    request("PATCH", f"/programs/{catalog[1]}", body={"status": "archived"}, claims=provider("p1"))
    body, feed_items, _ = cold_listing()
    ids = {p["program_id"]: p for p in body["items"]}
    assert newer in ids and catalog[1] not in ids
    assert ids[catalog[0]]["seats_taken"] == 3
    # The new program and its seats, the seat change, the archived program and its seats
    # (a PATCH moves the program's version on its seat counter too).
    assert feed_items == 5


def test_search_works_on_a_loaded_blob(catalog):
    from catalog.snapshot import build_snapshot

    build_snapshot()
    from navigator.store.catalog_snapshot import reset_snapshot

    reset_snapshot()
    reply = request("GET", "/programs", query={"q": "шахматам"})
    assert len(reply.body["items"]) == 5


def test_a_change_that_reaches_the_index_late_is_still_picked_up(aws):
    """Given a change stamped before what a container has already read (a lagging writer's
    clock, or an index that caught up late), the next refresh still reads it."""
    from navigator.store.catalog import ProgramItem, get_program
    from navigator.store.catalog_snapshot import snapshot

    body = {"provider_id": "p1", "name": "Дом", "inn": "7707083893", "municipality": "Канск"}
    request("POST", "/providers", body=body, claims=OPERATOR)
    first = request(
        "POST", "/programs", body=program_body(title="Первый"), claims=provider("p1")
    ).body["program_id"]
    late = request(
        "POST",
        "/programs",
        body=program_body(title="Поздний", status="draft"),
        claims=provider("p1"),
    ).body["program_id"]
    caught_up()
    seen = snapshot()
    assert first in seen.programs and seen.programs[late]["status"] == "draft"
    item = get_program(late)
    stamp = item.chgsk.split("#", 1)[0]
    # Published now, but stamped with the old time: as if the write had lagged.
    item.update(
        actions=[
            ProgramItem.status.set("published"),
            ProgramItem.version.add(1),
            ProgramItem.chgsk.set(f"{stamp}#{late}"),
        ]
    )
    caught_up()
    reply = request("GET", "/programs", query={"limit": "100"})
    assert late in {p["program_id"] for p in reply.body["items"]}
