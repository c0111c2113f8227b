"""Builds the catalog snapshot's blob: the last one, plus what the change feed says since."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from navigator.store.catalog_snapshot import CatalogSnapshot
from navigator.store.snapshot_blob import write_blob

logger = Logger()


def build_snapshot() -> dict[str, int]:
    snapshot = CatalogSnapshot()
    snapshot.refresh(force=True)
    data = snapshot.to_blob()
    write_blob(data)
    return {"programs": len(snapshot.programs), "bytes": len(data)}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    built = build_snapshot()
    logger.info("catalog snapshot built", extra=built)
    return built
