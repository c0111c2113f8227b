"""The people table: children, and the SNILS uniqueness items (keyed by an HMAC, never in clear).

A parent's children are listed by items in the parent's own partition (PARENT#{sub} /
CHILD#{created}#{child_id}), written in the child's registration transaction: a consistent
Query of that partition answers every registration that has answered, which the `gsi1`
index, eventually consistent, does not.
"""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from navigator.domain.errors import Conflict, NotFound
from navigator.store.base import (
    Cancelled,
    TableMeta,
    Transaction,
    listed_ids,
    read_together,
    register,
    retrying,
    unavailable_on_failure,
)

CHILD_SK = "CHILD"
SNILS_SK = "SNILS"


class ParentChildren(GlobalSecondaryIndex["ChildItem"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


@register
class ChildItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "people_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=CHILD_SK)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    child_id = UnicodeAttribute()
    parent_sub = UnicodeAttribute()
    full_name = UnicodeAttribute()
    birth_date = UnicodeAttribute()
    municipality = UnicodeAttribute(null=True)  # null: registered before municipalities
    snils_masked = UnicodeAttribute()
    created_at = UnicodeAttribute()

    parent_children = ParentChildren()


@register
class SnilsItem(Model):
    """One per registered SNILS: its existence is what makes a child registrable only once."""

    class Meta(metaclass=TableMeta):
        settings_field = "people_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=SNILS_SK)
    child_id = UnicodeAttribute()


@register
class ChildListing(Model):
    """A child's place in its parent's list: the parent's partition, the list's order."""

    class Meta(metaclass=TableMeta):
        settings_field = "people_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    listed_id = UnicodeAttribute()


def child_key(child_id: str) -> str:
    return f"CHILD#{child_id}"


def parent_key(parent_sub: str) -> str:
    return f"PARENT#{parent_sub}"


def snils_key(snils_hmac: str) -> str:
    return f"SNILS#{snils_hmac}"


def new_child(
    child_id: str,
    parent_sub: str,
    full_name: str,
    birth_date: str,
    municipality: str,
    snils_hmac: str,
    snils_masked: str,
    created_at: str,
) -> tuple[ChildItem, SnilsItem]:
    """A child's item, listed under its parent, and the item that holds its SNILS."""
    child = ChildItem(
        pk=child_key(child_id),
        gsi1pk=parent_key(parent_sub),
        gsi1sk=f"CHILD#{created_at}#{child_id}",
        child_id=child_id,
        parent_sub=parent_sub,
        full_name=full_name,
        birth_date=birth_date,
        municipality=municipality,
        snils_masked=snils_masked,
        created_at=created_at,
    )
    return child, SnilsItem(pk=snils_key(snils_hmac), child_id=child_id)


def listings(child: ChildItem) -> list[ChildListing]:
    """The items that list a new child: one, under its parent."""
    return [ChildListing(pk=child.gsi1pk, sk=child.gsi1sk, listed_id=child.child_id)]


def register_child(
    new_id: Callable[[], str],
    parent_sub: str,
    full_name: str,
    birth_date: str,
    municipality: str,
    snils_hmac: str,
    snils_masked: str,
    created_at: str,
) -> ChildItem:
    """Write the child and its SNILS item in one transaction, each only if absent.

    The SNILS taken: Conflict(child_already_registered). The drawn id taken, or a concurrent
    transaction on the same items (in AWS): another attempt, which then usually finds the
    SNILS taken.
    """

    def attempt() -> ChildItem:
        child, snils = new_child(
            new_id(),
            parent_sub,
            full_name,
            birth_date,
            municipality,
            snils_hmac,
            snils_masked,
            created_at,
        )
        tx = Transaction()
        tx.put("snils", snils, SnilsItem.pk.does_not_exist())
        tx.put("child", child, ChildItem.pk.does_not_exist())
        for listing in listings(child):
            tx.put("listing", listing)
        tx.commit()
        return child

    try:
        return retrying(attempt, retry=_not_the_snils, what="The registration")
    except Cancelled as cancelled:
        raise Conflict(
            "This child is already registered.", code="child_already_registered"
        ) from cancelled


def _not_the_snils(cancelled: Cancelled) -> bool:
    return "snils" not in cancelled.failed


def get_child(child_id: str) -> ChildItem:
    with unavailable_on_failure():
        try:
            return ChildItem.get(child_key(child_id), CHILD_SK, consistent_read=True)
        except ChildItem.DoesNotExist as error:
            raise NotFound("No such child.") from error


def children_of(parent_sub: str) -> list[ChildItem]:
    """A parent's children, oldest registration first, as every answered registration left
    them (a consistent read of the parent's list, then of the children)."""
    ids, _ = listed_ids(ChildListing, parent_key(parent_sub), "CHILD#")
    found = read_together([(ChildItem, child_key(i), CHILD_SK) for i in ids])
    return [child for child in found if child is not None]
