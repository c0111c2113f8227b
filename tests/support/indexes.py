"""Waiting out the index lag of the embedded DynamoDB (NAVIGATOR_DYNAMODB_BEHAVIOURS=lag)."""

from __future__ import annotations


def caught_up() -> None:
    """Wait until the writes so far have reached every global secondary index.

    Only for what may lag by design: the list GET /programs follows the change feed's index
    (API.md lets it lag behind writes by up to 10 s), and a jump of the test calendar stands
    for hours or days in which any index catches up. Single-object reads and the other lists
    must be fresh without it. A no-op when the lag is off."""
    from infra.local.ordered import settle

    settle()
