"""A cursor is checked by its MAC before anything parses it: a crafted one is 400, never 500."""

from __future__ import annotations

import base64

import pytest

from navigator.domain.errors import InvalidCursor
from navigator.paging import MAX_CURSOR_CHARS, decode_cursor, encode_cursor
from tests.support.api import OPERATOR, PARENT, request

# Junk where the MAC goes, then JSON nested deeper than the parser's recursion limit.
DEEP = base64.urlsafe_b64encode(b"\x00" * 16 + b"[" * 1500).decode().rstrip("=")
LIST_ROUTES = [
    ("/programs", None),
    ("/periods", None),
    ("/providers/p1/programs", OPERATOR),
    ("/programs/prg-none/enrollments", OPERATOR),
    ("/children", PARENT),
    ("/enrollments", PARENT),
    ("/certificates", PARENT),
    ("/certificates/crt-none/ledger", PARENT),
]


def test_a_deeply_nested_cursor_fits_the_length_limit():
    assert len(DEEP) <= MAX_CURSOR_CHARS


@pytest.mark.parametrize("path, claims", LIST_ROUTES)
def test_a_crafted_deep_cursor_is_invalid_on_every_list(world, path, claims):
    reply = request("GET", path, claims=claims, query={"cursor": DEEP})
    assert (reply.status, reply.code) == (400, "invalid_cursor")


def test_a_cursor_is_refused_unparsed_unless_its_mac_holds(monkeypatch):
    import navigator.paging as paging

    def no_parsing(body):
        raise AssertionError("parsed before the MAC was checked")

    monkeypatch.setattr(paging.json, "loads", no_parsing)
    with pytest.raises(InvalidCursor):
        decode_cursor(DEEP, {"catalog": "x"})


def test_a_cursor_works_only_for_its_own_query():
    cursor = encode_cursor({"periods": 1}, "2026-2027")
    assert decode_cursor(cursor, {"periods": 1}) == "2026-2027"
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, {"periods": 2})
    with pytest.raises(InvalidCursor):
        decode_cursor("A" * (MAX_CURSOR_CHARS + 1), {"periods": 1})
