"""Fixtures: an in-process DynamoDB with the template's tables, and the money world.

The helpers the tests share live in tests/support/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "navigator-test")

# The race fixture (`server`: the embedded DynamoDB served on loopback, for real threads).
pytest_plugins = ["tests.support.races"]


def _reset_process_state() -> None:
    from navigator.api.idempotency import reset as reset_idempotency
    from navigator.settings import reset_settings
    from navigator.store.base import reset_connections
    from navigator.store.catalog_snapshot import reset_snapshot
    from navigator.store.periods import forget_periods
    from navigator.store.snapshot_blob import reset as reset_blob_client

    reset_idempotency()
    reset_blob_client()
    forget_periods()
    reset_settings()
    reset_connections()
    reset_snapshot()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process, with our transaction patch, and every table of template.yaml."""
    from moto import mock_aws

    from infra.local.dynamodb import install_patches
    from infra.local.stack import ensure_tables

    install_patches()
    monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    monkeypatch.delenv("NAVIGATOR_TODAY", raising=False)
    monkeypatch.delenv("DEBIT_DISPATCH_BACKGROUND", raising=False)
    monkeypatch.setenv("CATALOG_REFRESH_SECONDS", "0")
    _reset_process_state()
    with mock_aws():
        ensure_tables()
        yield
    _reset_process_state()


@pytest.fixture
def world(aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Given 15 September 2026, the 2026-2027 period and providers p1 and p2; then, whatever
    the test did with money, the invariants hold."""
    from tests.support.invariants import assert_invariants
    from tests.support.money import open_period, register_provider, set_today

    set_today(monkeypatch, "2026-09-15")
    open_period()
    register_provider("p1")
    register_provider("p2")
    yield monkeypatch
    assert_invariants()
