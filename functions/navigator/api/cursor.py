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
from navigator.settings import cursor_key

_MAC_BYTES = 16
T = TypeVar("T")


def _mac(payload: bytes) -> bytes:
    key = cursor_key()
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _bind(query: dict[str, Any], position: Any) -> bytes:
    return json.dumps({"q": query, "p": position}, sort_keys=True, separators=(",", ":")).encode()


def encode_cursor(query: dict[str, Any], position: Any) -> str:
    """A cursor for `position` in the list answered for `query`."""
    body = json.dumps(position, separators=(",", ":")).encode()
    token = _mac(_bind(query, position)) + body
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_cursor(cursor: str, query: dict[str, Any]) -> Any:
    """The position in a cursor issued for `query`; anything else is InvalidCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        position = json.loads(body)
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor() from error
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _mac(_bind(query, position))):
        raise InvalidCursor()
    return position


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
