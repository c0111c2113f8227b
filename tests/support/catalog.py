"""The catalog as tests give it."""

from __future__ import annotations


def occupy(program_id: str, taken: int, active: int) -> None:
    """Given enrollments: the seat counter as they would leave it."""
    from navigator.store.catalog import SeatsItem, feed_position, get_seats

    seats = get_seats(program_id)
    seats.update(
        actions=[
            SeatsItem.taken.set(taken),
            SeatsItem.active.set(active),
            SeatsItem.version.add(1),
            SeatsItem.chgsk.set(feed_position(program_id)),
        ]
    )
