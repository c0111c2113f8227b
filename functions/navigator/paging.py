"""Opaque, signed list cursors bound to the query that issued them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from navigator.domain.errors import InvalidCursor
from navigator.settings import get_settings

_MAC_BYTES = 16
# Longer than any cursor this API issues (a position is a few keys of at most ~200 bytes):
# anything longer is refused before it is decoded.
MAX_CURSOR_CHARS = 2048
T = TypeVar("T")


def _mac(query: dict[str, Any], body: bytes) -> bytes:
    """The MAC binds the position's bytes, as sent, to the query that issued it."""
    key = get_settings().cursor_key.encode()
    bound = json.dumps(query, sort_keys=True, separators=(",", ":")).encode() + b"\0" + body
    return hmac.new(key, bound, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(query: dict[str, Any], position: Any) -> str:
    """A cursor for `position` in the list answered for `query`."""
    body = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(_mac(query, body) + body).decode().rstrip("=")


def decode_cursor(cursor: str, query: dict[str, Any]) -> Any:
    """The position in a cursor issued for `query`; anything else is InvalidCursor.

    The MAC is checked before the position is parsed, so no crafted cursor reaches the JSON
    parser (nor its recursion limit)."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidCursor() from error
    mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _mac(query, body)):
        raise InvalidCursor()
    return json.loads(body)


def page_of(
    items: Sequence[T],
    key: Callable[[T], str],
    limit: int,
    cursor: str | None,
    query: dict[str, Any],
) -> tuple[list[T], str | None]:
    """One page of a short list read whole, in a stable order (a parent's children, the periods).

    The cursor holds the key of the page's last item, and the next page starts after it. These
    items are never deleted, so the walk answers none twice; one added before the cursor's
    position while the walk goes on is left to the next walk.
    """
    start = 0
    if cursor:
        after = decode_cursor(cursor, query)
        keys = [key(item) for item in items]
        if after not in keys:
            raise InvalidCursor()
        start = keys.index(after) + 1
    chunk = list(items[start : start + limit])
    more = start + limit < len(items)
    return chunk, encode_cursor(query, key(chunk[-1])) if more and chunk else None
