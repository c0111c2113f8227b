"""Opaque, signed list cursors bound to the query that issued them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from navigator.domain.errors import InvalidCursor
from navigator.settings import get_settings

_MAC_BYTES = 16


def _mac(payload: bytes) -> bytes:
    key = get_settings().cursor_key.encode()
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
