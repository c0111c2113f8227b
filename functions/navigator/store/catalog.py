"""The catalog table: providers, programs, and the change feed that catalog snapshots follow.

A provider's programs are listed by items in the provider's partition (PROVIDER#{id} /
PROGRAM#{program_id}), written in the program's creating transaction: a consistent Query
of it answers every program that has answered, which the `gsi1` index does not.
"""

from __future__ import annotations

import time
import zlib
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from navigator.domain.errors import Conflict, NotFound
from navigator.store.base import (
    TableMeta,
    Transaction,
    is_condition_failure,
    listed_ids,
    read_together,
    register,
    table,
    unavailable_on_failure,
)

FEED_SHARDS = 8
PROVIDER_SK = "PROVIDER"
PROGRAM_SK = "PROGRAM"
SEATS_SK = "SEATS"


class ProviderPrograms(GlobalSecondaryIndex["ProgramItem"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ChangeFeed(GlobalSecondaryIndex["ProgramItem"]):
    class Meta:
        index_name = "changes"
        projection = AllProjection()

    chgpk = UnicodeAttribute(hash_key=True)
    chgsk = UnicodeAttribute(range_key=True)


@register
class ProviderItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "catalog_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=PROVIDER_SK)
    provider_id = UnicodeAttribute()
    name = UnicodeAttribute()
    inn = UnicodeAttribute()
    municipality = UnicodeAttribute()
    created_at = UnicodeAttribute()


@register
class ProgramItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "catalog_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=PROGRAM_SK)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    chgpk = UnicodeAttribute()
    chgsk = UnicodeAttribute()
    program_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    provider_name = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    direction = UnicodeAttribute()
    municipality = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    age_min = NumberAttribute()
    age_max = NumberAttribute()
    price_per_month_kopecks = NumberAttribute()
    start_month = UnicodeAttribute()
    end_month = UnicodeAttribute()
    capacity = NumberAttribute()
    funding = UnicodeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    provider_programs = ProviderPrograms()
    change_feed = ChangeFeed()

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.get_attributes():
            value = getattr(self, name)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            out[name] = value
        return out


@register
class SeatsItem(Model):
    """A program's seat counter: small, so a hot program's enrollments write ~1 KB each."""

    class Meta(metaclass=TableMeta):
        settings_field = "catalog_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=SEATS_SK)
    chgpk = UnicodeAttribute(null=True)
    chgsk = UnicodeAttribute(null=True)
    program_id = UnicodeAttribute()
    capacity = NumberAttribute()
    taken = NumberAttribute(default=0)
    active = NumberAttribute(default=0)
    version = NumberAttribute(default=1)
    # The program item's version, mirrored here: an enrollment commits only against the
    # program it read (price, months, funding, status), without touching the big item.
    program_version = NumberAttribute(default=1)


@register
class ProgramListing(Model):
    """A program's place in its provider's list: the provider's partition, by program id."""

    class Meta(metaclass=TableMeta):
        settings_field = "catalog_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    listed_id = UnicodeAttribute()


def program_key(program_id: str) -> str:
    return f"PROGRAM#{program_id}"


def provider_key(provider_id: str) -> str:
    return f"PROVIDER#{provider_id}"


def feed_partition(shard: int) -> str:
    return f"CHG#{shard}"


def feed_shard(program_id: str) -> str:
    return feed_partition(zlib.crc32(program_id.encode()) % FEED_SHARDS)


def feed_position(program_id: str) -> str:
    """Sorts by the time of the change; snapshots read past their watermark."""
    return f"{time.time_ns() // 1_000_000:013d}#{program_id}"


# ---------------------------------------------------------------- providers


def new_provider(provider: dict[str, Any], created_at: str) -> ProviderItem:
    return ProviderItem(pk=provider_key(provider["provider_id"]), created_at=created_at, **provider)


def create_provider(provider: dict[str, Any], created_at: str) -> ProviderItem:
    item = new_provider(provider, created_at)
    try:
        item.save(condition=ProviderItem.pk.does_not_exist())
    except Exception as error:
        if is_condition_failure(error):
            raise Conflict("This provider_id is taken.", code="provider_exists") from error
        raise
    return item


def get_provider(provider_id: str) -> ProviderItem:
    with unavailable_on_failure():
        try:
            return ProviderItem.get(provider_key(provider_id), PROVIDER_SK, consistent_read=True)
        except ProviderItem.DoesNotExist as error:
            raise NotFound("No such provider.") from error


# ----------------------------------------------------------------- programs


def new_program(program: dict[str, Any], now: str, taken: int = 0) -> tuple[ProgramItem, SeatsItem]:
    """A program's item and its seat counter (``taken`` seats already held, all active)."""
    program_id = program["program_id"]
    fields = {k: v for k, v in program.items() if k not in ("seats_taken", "seats_left")}
    item = ProgramItem(
        pk=program_key(program_id),
        gsi1pk=provider_key(program["provider_id"]),
        gsi1sk=program_key(program_id),
        chgpk=feed_shard(program_id),
        chgsk=feed_position(program_id),
        created_at=now,
        updated_at=now,
        version=1,
        **fields,
    )
    seats = SeatsItem(
        pk=program_key(program_id),
        program_id=program_id,
        capacity=program["capacity"],
        taken=taken,
        active=taken,
        version=1,
        program_version=1,
        chgpk=feed_shard(program_id),
        chgsk=feed_position(program_id),
    )
    return item, seats


def listings(program: ProgramItem) -> list[ProgramListing]:
    """The items that list a new program: one, under its provider."""
    return [ProgramListing(pk=program.gsi1pk, sk=program.gsi1sk, listed_id=program.program_id)]


def put_new_program(program: dict[str, Any], now: str) -> ProgramItem:
    """The program, its seat counter and its place in the provider's list, together."""
    item, seats = new_program(program, now)
    tx = Transaction()
    tx.put("program", item, ProgramItem.pk.does_not_exist())
    tx.put("seats", seats, SeatsItem.pk.does_not_exist())
    for listing in listings(item):
        tx.put("listing", listing)
    tx.commit()
    return item


def get_program(program_id: str) -> ProgramItem:
    with unavailable_on_failure():
        try:
            return ProgramItem.get(program_key(program_id), PROGRAM_SK, consistent_read=True)
        except ProgramItem.DoesNotExist as error:
            raise NotFound("No such program.") from error


def get_seats(program_id: str) -> SeatsItem:
    with unavailable_on_failure():
        try:
            return SeatsItem.get(program_key(program_id), SEATS_SK, consistent_read=True)
        except SeatsItem.DoesNotExist as error:
            raise NotFound("No such program.") from error


def get_program_with_seats(program_id: str) -> tuple[ProgramItem, SeatsItem]:
    """Both in one consistent read: single-object reads reflect every answered write."""
    program, seats = read_together(
        [
            (ProgramItem, program_key(program_id), PROGRAM_SK),
            (SeatsItem, program_key(program_id), SEATS_SK),
        ]
    )
    if program is None or seats is None:
        raise NotFound("No such program.")
    return program, seats


def seats_of(program_ids: list[str]) -> dict[str, SeatsItem]:
    keys = [(program_key(pid), SEATS_SK) for pid in program_ids]
    with unavailable_on_failure():
        return {s.program_id: s for s in SeatsItem.batch_get(keys, consistent_read=True)}


def program_data(program: ProgramItem, seats: SeatsItem | None) -> dict[str, Any]:
    data = program.data()
    data["seats_taken"] = int(seats.taken) if seats is not None else 0
    return data


def update_program(
    item: ProgramItem, seats: SeatsItem, changes: dict[str, Any], frozen: bool, now: str
) -> None:
    """Apply `changes` if nobody changed the program since it was read; else Cancelled.

    The seat counter is part of the same transaction: a new capacity is conditioned on the
    seats taken, and a change of the frozen fields on there being no active enrollment, so an
    enrollment landing between the read and this write can't be overtaken.
    """
    actions = [getattr(ProgramItem, name).set(value) for name, value in changes.items()]
    actions += [
        ProgramItem.version.set(item.version + 1),
        ProgramItem.updated_at.set(now),
        ProgramItem.chgsk.set(feed_position(item.program_id)),
    ]
    tx = Transaction()
    tx.update("program", item, actions, ProgramItem.version == item.version)
    seat_actions = [
        SeatsItem.program_version.set(int(item.version) + 1),
        SeatsItem.version.add(1),
        SeatsItem.chgsk.set(feed_position(item.program_id)),
    ]
    seat_condition = SeatsItem.program_version == int(item.version)
    if "capacity" in changes:
        seat_actions.append(SeatsItem.capacity.set(changes["capacity"]))
        seat_condition &= SeatsItem.taken <= changes["capacity"]
    if frozen:
        seat_condition &= SeatsItem.active == 0
    tx.update("seats", seats, seat_actions, seat_condition)
    tx.commit()


def take_seat(tx: Transaction, seats: SeatsItem, program_version: int) -> None:
    """Join an enrollment's transaction: one more seat taken, never past the capacity, and
    only while the program is as the enrollment read it."""
    tx.update(
        "seat",
        seats,
        [
            SeatsItem.taken.add(1),
            SeatsItem.active.add(1),
            SeatsItem.version.add(1),
            SeatsItem.chgsk.set(feed_position(seats.program_id)),
        ],
        (SeatsItem.taken < SeatsItem.capacity) & (SeatsItem.program_version == program_version),
    )


def free_seat(tx: Transaction, program_id: str) -> None:
    """Join a withdrawal's or completion's transaction: the seat is free at once."""
    seats = SeatsItem(pk=program_key(program_id), program_id=program_id)
    tx.update(
        "seat",
        seats,
        [
            SeatsItem.taken.add(-1),
            SeatsItem.active.add(-1),
            SeatsItem.version.add(1),
            SeatsItem.chgsk.set(feed_position(program_id)),
        ],
        (SeatsItem.taken > 0) & (SeatsItem.active > 0),
    )


def provider_programs_page(
    provider_id: str, limit: int, start_after: str | None
) -> tuple[list[ProgramItem], str | None]:
    """One page of a provider's programs (every status), ordered by id, as every answered
    write left them."""
    owner = provider_key(provider_id)
    after = {"pk": owner, "sk": program_key(start_after)} if start_after else None
    ids, last = listed_ids(ProgramListing, owner, program_key(""), limit, after)
    found = read_together([(ProgramItem, program_key(i), PROGRAM_SK) for i in ids])
    items = [item for item in found if item is not None]
    return items, (ids[-1] if last and ids else None)


def scan_seats() -> list[SeatsItem]:
    """Every program's seat counter (a whole-table read: checks and tools, not requests)."""
    with unavailable_on_failure():
        return list(SeatsItem.scan(SeatsItem.sk == SEATS_SK))


def changed_items(shard: int, after: str | None) -> list[ProgramItem | SeatsItem]:
    """Every program and seat counter of a feed shard changed after `after` (all when None)."""
    condition = ProgramItem.chgsk > after if after else None
    out: list[ProgramItem | SeatsItem] = []
    start_key = None
    connection = table(ProgramItem)
    with unavailable_on_failure():
        while True:
            page = connection.query(
                feed_partition(shard),
                range_key_condition=condition,
                index_name="changes",
                exclusive_start_key=start_key,
            )
            for raw in page.get("Items", []):
                model = SeatsItem if raw["sk"]["S"] == SEATS_SK else ProgramItem
                out.append(model.from_raw_data(raw))
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return out
