"""The short lists (children, certificates, periods) page like every list of API.md."""

from __future__ import annotations

import pytest

from tests.support.api import OPERATOR, PARENT, request
from tests.support.money import enroll, publish, register_child


def walk(path: str, claims, limit: int) -> list[dict]:
    """Every page of a list, asserting each page's size."""
    items: list[dict] = []
    cursor = None
    while True:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        reply = request("GET", path, claims=claims, query=query)
        assert reply.status == 200, reply.body
        assert len(reply.body["items"]) <= limit
        items += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return items


def test_children_and_certificates_page_each_item_once(world):
    program = publish()
    kids = [register_child() for _ in range(3)]
    for child in kids:
        assert enroll(child, program, accept_copay=True).status == 201
    everything = request("GET", "/children", claims=PARENT).body["items"]
    assert [c["child_id"] for c in everything] == sorted(kids, key=kids.index)
    for limit in (1, 2, 3, 100):
        assert walk("/children", PARENT, limit) == everything
    certificates = request("GET", "/certificates", claims=PARENT).body["items"]
    assert len(certificates) == 3
    for limit in (1, 2):
        assert walk("/certificates", PARENT, limit) == certificates


def test_periods_page_publicly(world):
    for year in (2027, 2028):
        body = {
            "starts_on": f"{year}-09-01",
            "ends_on": f"{year + 1}-08-31",
            "nominal_kopecks": 100,
        }
        assert (
            request("PUT", f"/periods/{year}-{year + 1}", body=body, claims=OPERATOR).status == 200
        )
    everything = request("GET", "/periods").body["items"]
    assert [p["period_id"] for p in everything] == ["2026-2027", "2027-2028", "2028-2029"]
    assert walk("/periods", None, 2) == everything


@pytest.mark.parametrize("path", ["/children", "/certificates", "/periods"])
def test_a_foreign_cursor_or_a_bad_limit_is_refused(world, path):
    program = publish()
    for _ in range(2):
        enroll(register_child(), program, accept_copay=True)
    for year in (2027, 2028):
        body = {"starts_on": f"{year}-09-01", "ends_on": f"{year + 1}-08-31", "nominal_kopecks": 1}
        request("PUT", f"/periods/{year}", body=body, claims=OPERATOR)
    claims = None if path == "/periods" else PARENT
    other = "/periods" if path != "/periods" else "/children"
    foreign = request(
        "GET", other, claims=PARENT if other != "/periods" else None, query={"limit": "1"}
    ).body["next_cursor"]
    assert foreign
    reply = request("GET", path, claims=claims, query={"cursor": foreign})
    assert (reply.status, reply.code) == (400, "invalid_cursor")
    for bad in ("0", "101", "abc"):
        reply = request("GET", path, claims=claims, query={"limit": bad})
        assert (reply.status, reply.code) == (422, "validation_error")
