"""The local stack for tests that go over HTTP: started in-process, environment restored."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def running_stack(today: str | None = None) -> Iterator[Any]:
    """A LocalStack on a free port with the demo data (two workers), stopped afterwards."""
    from infra.local.stack import LocalStack
    from navigator.settings import reset_settings
    from navigator.store.base import reset_connections

    saved = dict(os.environ)
    os.environ.pop("DYNAMODB_ENDPOINT", None)
    if today is not None:
        os.environ["NAVIGATOR_TODAY"] = today
    local = LocalStack(port=0, workers=2, demo=True)
    try:
        local.start()
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        reset_connections()


def http(
    url: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One JSON request: (status, headers, decoded body), refusals included."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")
