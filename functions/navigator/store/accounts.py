"""The accounts table: certificates and their ledger, enrollments and their months.

Keys (docs/decisions.md, "Tables and keys"):
- certificate  CERT#{id} / CERT      gsi1 PARENT#{sub} / CERT#{valid_from}#{id},
                                     period PERIOD#{period_id}#{shard} / {id} (keys only)
- ledger entry CERT#{id} / SEQ#{seq:09d}  (one partition per certificate, oldest first)
- enrollment   ENR#{id} / ENR        gsi1 PARENT#{sub} / ENR#{child}#{created}#{id},
                                     gsi2 PROGRAM#{program_id} / ENR#{created}#{id},
                                     due END#{end_month}#{shard} / {id} while active
- month        ENR#{id} / M#{YYYY-MM}  due DUE#{month}#{shard} / {id} while pending and funded
- child+program CP#{child}#{program} / CP: the active enrollment, the last month of earlier ones
- listings     PARENT#{sub} / CERT#{valid_from}#{id} and ENR#{child}#{created}#{id},
               PROGRAM#{program_id} / ENR#{created}#{id}: what a parent's certificates and
               enrollments and a program's roster list, written with the item they list, so a
               consistent Query answers every write that has answered (the gsi1 and gsi2
               entries with the same keys are eventually consistent)
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from navigator.domain.errors import NotFound
from navigator.domain.payers import REGION
from navigator.store import budgets, catalog, people, periods
from navigator.store.base import (
    TableMeta,
    Transaction,
    listed_ids,
    read_snapshot,
    read_together,
    register,
    table,
    unavailable_on_failure,
)

DUE_SHARDS = 16
CERT_SK = "CERT"
ENR_SK = "ENR"
CP_SK = "CP"
REGION_CODE = "24"  # Krasnoyarsk krai, the first part of a certificate's number


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


class _Data:
    def data(self) -> dict[str, Any]:
        model: Any = self
        return {name: _int(getattr(model, name)) for name in model.get_attributes()}


class OwnerIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class SecondIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "due"
        projection = IncludeProjection(["certificate_kopecks", "charged_kopecks"])

    duepk = UnicodeAttribute(hash_key=True)
    duesk = UnicodeAttribute(range_key=True)


class PeriodIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "period"
        projection = KeysOnlyProjection()

    perpk = UnicodeAttribute(hash_key=True)
    persk = UnicodeAttribute(range_key=True)


@register
class CertificateItem(_Data, Model):
    class Meta(metaclass=TableMeta):
        settings_field = "accounts_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=CERT_SK)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    perpk = UnicodeAttribute()
    persk = UnicodeAttribute()
    certificate_id = UnicodeAttribute()
    number = UnicodeAttribute()
    child_id = UnicodeAttribute()
    period_id = UnicodeAttribute()
    payer_id = UnicodeAttribute(default="region")
    parent_sub = UnicodeAttribute()
    payer_id = UnicodeAttribute(null=True)  # null: issued before payers, by `region`
    budget_version = NumberAttribute(null=True)  # the payer's budget version it was issued under
    nominal = NumberAttribute()
    balance = NumberAttribute()
    reserved = NumberAttribute()
    spent = NumberAttribute()
    expired = NumberAttribute()
    seq = NumberAttribute()
    status = UnicodeAttribute()
    valid_from = UnicodeAttribute()
    valid_to = UnicodeAttribute()
    created_at = UnicodeAttribute()

    by_owner = OwnerIndex()
    by_period = PeriodIndex()


@register
class LedgerItem(_Data, Model):
    class Meta(metaclass=TableMeta):
        settings_field = "accounts_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entry_id = UnicodeAttribute()
    certificate_id = UnicodeAttribute()
    seq = NumberAttribute()
    type = UnicodeAttribute()
    amount_kopecks = NumberAttribute()
    enrollment_id = UnicodeAttribute(null=True)
    month = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


@register
class EnrollmentItem(_Data, Model):
    class Meta(metaclass=TableMeta):
        settings_field = "accounts_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=ENR_SK)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    duepk = UnicodeAttribute(null=True)
    duesk = UnicodeAttribute(null=True)
    enrollment_id = UnicodeAttribute()
    child_id = UnicodeAttribute()
    program_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    parent_sub = UnicodeAttribute()
    certificate_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    start_month = UnicodeAttribute()
    end_month = UnicodeAttribute()
    price_per_month_kopecks = NumberAttribute()
    certificate_total_kopecks = NumberAttribute()
    copay_total_kopecks = NumberAttribute()
    created_at = UnicodeAttribute()

    by_owner = OwnerIndex()
    by_program = SecondIndex()


@register
class MonthItem(_Data, Model):
    class Meta(metaclass=TableMeta):
        settings_field = "accounts_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    duepk = UnicodeAttribute(null=True)
    duesk = UnicodeAttribute(null=True)
    enrollment_id = UnicodeAttribute()
    certificate_id = UnicodeAttribute(null=True)
    month = UnicodeAttribute()
    certificate_kopecks = NumberAttribute()
    copay_kopecks = NumberAttribute()
    completeness_percent = NumberAttribute(default=100)
    status = UnicodeAttribute()
    charged_kopecks = NumberAttribute(default=0)
    charged_pass = UnicodeAttribute(null=True)

    due = DueIndex()


@register
class ChildProgramItem(_Data, Model):
    class Meta(metaclass=TableMeta):
        settings_field = "accounts_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=CP_SK)
    active_enrollment_id = UnicodeAttribute(null=True)
    last_month = UnicodeAttribute(null=True)


@register
class ListingItem(Model):
    """An item's place in a list of its owner's: the owner's partition, the list's order."""

    class Meta(metaclass=TableMeta):
        settings_field = "accounts_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    listed_id = UnicodeAttribute()


# ---------------------------------------------------------------------- keys


def cert_key(certificate_id: str) -> str:
    return f"CERT#{certificate_id}"


def ledger_sk(seq: int) -> str:
    return f"SEQ#{seq:09d}"


def enrollment_key(enrollment_id: str) -> str:
    return f"ENR#{enrollment_id}"


def month_sk(month: str) -> str:
    return f"M#{month}"


def child_program_key(child_id: str, program_id: str) -> str:
    return f"CP#{child_id}#{program_id}"


def parent_key(parent_sub: str) -> str:
    return f"PARENT#{parent_sub}"


def shard_of(item_id: str) -> int:
    return zlib.crc32(item_id.encode()) % DUE_SHARDS


def _shard(kind: str, month: str, shard: int) -> str:
    return f"{kind}#{month}#{shard:02d}"


def due_key(month: str, enrollment_id: str) -> str:
    return _shard("DUE", month, shard_of(enrollment_id))


def done_key(month: str, enrollment_id: str) -> str:
    return _shard("DONE", month, shard_of(enrollment_id))


def end_key(month: str, enrollment_id: str) -> str:
    return _shard("END", month, shard_of(enrollment_id))


def period_key(period_id: str, certificate_id: str) -> str:
    return _shard("PERIOD", period_id, shard_of(certificate_id))


def certificate_id_for(child_id: str, period_id: str) -> str:
    """One certificate per child and period: concurrent first enrollments name the same one."""
    digest = hashlib.sha256(f"{child_id}|{period_id}".encode()).hexdigest()
    return f"crt-{digest[:20]}"


# -------------------------------------------------------------- constructors


def new_certificate(
    child_id: str,
    parent_sub: str,
    period: Mapping[str, Any],
    created_at: str,
    funder: budgets.Funder | None = None,
) -> CertificateItem:
    """The child's certificate of the period, before any movement: funded by `funder`'s payer
    at its budget's nominal, or by `region` at the period's when no budget limits it."""
    certificate_id = certificate_id_for(child_id, period["period_id"])
    period_month = period["starts_on"][:7].replace("-", "")
    nominal = period["nominal_kopecks"]
    if funder is not None and funder.nominal is not None:
        nominal = funder.nominal
    return CertificateItem(
        pk=cert_key(certificate_id),
        gsi1pk=parent_key(parent_sub),
        gsi1sk=f"CERT#{period['starts_on']}#{certificate_id}",
        perpk=period_key(period["period_id"], certificate_id),
        persk=certificate_id,
        certificate_id=certificate_id,
        number=f"{REGION_CODE}-{period_month}-{child_id.upper()[3:]}",
        child_id=child_id,
        period_id=period["period_id"],
        parent_sub=parent_sub,
        payer_id=funder.payer_id if funder is not None else REGION,
        budget_version=funder.version if funder is not None else None,
        nominal=nominal,
        balance=nominal,
        reserved=0,
        spent=0,
        expired=0,
        seq=0,
        status="active",
        valid_from=period["starts_on"],
        valid_to=period["ends_on"],
        created_at=created_at,
    )


def new_enrollment(
    enrollment_id: str,
    *,
    child_id: str,
    parent_sub: str,
    program_id: str,
    provider_id: str,
    certificate_id: str | None,
    price: int,
    schedule: list[dict[str, Any]],
    certificate_total: int,
    copay_total: int,
    created_at: str,
) -> tuple[EnrollmentItem, list[MonthItem]]:
    """An active enrollment's head and its months (`schedule`: the domain's month entries)."""
    key = enrollment_key(enrollment_id)
    last = schedule[-1]["month"]
    head = EnrollmentItem(
        pk=key,
        gsi1pk=parent_key(parent_sub),
        gsi1sk=f"ENR#{child_id}#{created_at}#{enrollment_id}",
        gsi2pk=catalog.program_key(program_id),
        gsi2sk=f"ENR#{created_at}#{enrollment_id}",
        duepk=end_key(last, enrollment_id),
        duesk=enrollment_id,
        enrollment_id=enrollment_id,
        child_id=child_id,
        program_id=program_id,
        provider_id=provider_id,
        parent_sub=parent_sub,
        certificate_id=certificate_id,
        status="active",
        start_month=schedule[0]["month"],
        end_month=last,
        price_per_month_kopecks=price,
        certificate_total_kopecks=certificate_total,
        copay_total_kopecks=copay_total,
        created_at=created_at,
    )
    funded = certificate_id is not None
    months = [
        MonthItem(
            pk=key,
            sk=month_sk(entry["month"]),
            # Only a certificate-funded month is due: free months are never counted or charged.
            duepk=due_key(entry["month"], enrollment_id) if funded else None,
            duesk=enrollment_id if funded else None,
            enrollment_id=enrollment_id,
            certificate_id=certificate_id,
            **entry,
        )
        for entry in schedule
    ]
    return head, months


def listings(item: CertificateItem | EnrollmentItem) -> list[ListingItem]:
    """The items that list a new certificate (under its parent) or enrollment (under its
    parent and in its program's roster)."""
    if isinstance(item, CertificateItem):
        return [ListingItem(pk=item.gsi1pk, sk=item.gsi1sk, listed_id=item.certificate_id)]
    return [
        ListingItem(pk=item.gsi1pk, sk=item.gsi1sk, listed_id=item.enrollment_id),
        ListingItem(pk=item.gsi2pk, sk=item.gsi2sk, listed_id=item.enrollment_id),
    ]


# -------------------------------------------------------- joining transactions


def put_listings(tx: Transaction, item: CertificateItem | EnrollmentItem) -> None:
    for listing in listings(item):
        tx.put("listing", listing)


def put_enrollment(tx: Transaction, head: EnrollmentItem, months: list[MonthItem]) -> None:
    tx.put("enrollment", head, EnrollmentItem.pk.does_not_exist())
    for month in months:
        tx.put("month", month, MonthItem.pk.does_not_exist())
    put_listings(tx, head)


def hold_child_program(
    tx: Transaction,
    child_id: str,
    program_id: str,
    seen: ChildProgramItem | None,
    enrollment_id: str,
) -> None:
    """One active enrollment per child and program; the last month read stays as it was."""
    item = ChildProgramItem(pk=child_program_key(child_id, program_id))
    if seen is None:
        condition = ChildProgramItem.pk.does_not_exist()
    else:
        condition = ChildProgramItem.active_enrollment_id.does_not_exist()
        condition &= (
            ChildProgramItem.last_month == seen.last_month
            if seen.last_month
            else ChildProgramItem.last_month.does_not_exist()
        )
    tx.update(
        "child_program", item, [ChildProgramItem.active_enrollment_id.set(enrollment_id)], condition
    )


def end_enrollment(
    tx: Transaction, head: EnrollmentItem, status: str, last_month: str | None
) -> None:
    """Withdrawn or completed: no longer active, the seat freed, the child free to re-enroll
    (a new contract starts after `last_month`)."""
    tx.update(
        "enrollment",
        head,
        [
            EnrollmentItem.status.set(status),
            EnrollmentItem.duepk.remove(),
            EnrollmentItem.duesk.remove(),
        ],
        EnrollmentItem.status == "active",
    )
    item = ChildProgramItem(pk=child_program_key(head.child_id, head.program_id))
    actions: list[Any] = [ChildProgramItem.active_enrollment_id.remove()]
    if last_month:
        actions.append(ChildProgramItem.last_month.set(last_month))
    tx.update(
        "child_program",
        item,
        actions,
        ChildProgramItem.active_enrollment_id == head.enrollment_id,
    )
    catalog.free_seat(tx, head.program_id)


def cancel_month(tx: Transaction, month: MonthItem) -> None:
    """A pending month is cancelled, and leaves the due shard."""
    tx.update(
        "month",
        month,
        [MonthItem.status.set("cancelled"), MonthItem.duepk.remove(), MonthItem.duesk.remove()],
        MonthItem.status == "pending",
    )


def report_completeness(tx: Transaction, month: MonthItem, percent: int) -> None:
    tx.update(
        "month", month, [MonthItem.completeness_percent.set(percent)], MonthItem.status == "pending"
    )


def charge_month(tx: Transaction, month: MonthItem, charged: int, pass_id: str) -> None:
    """A pending month becomes charged by `pass_id`, and moves to the done shard that every
    later pass recounts."""
    tx.update(
        "month",
        month,
        [
            MonthItem.status.set("charged"),
            MonthItem.charged_kopecks.set(charged),
            MonthItem.charged_pass.set(pass_id),
            MonthItem.duepk.set(done_key(month.month, month.enrollment_id)),
        ],
        # A report that lands after this read must not be overtaken by a stale percent.
        (MonthItem.status == "pending")
        & (MonthItem.completeness_percent == int(month.completeness_percent)),
    )


# --------------------------------------------------------------------- reads


def get_certificate(certificate_id: str) -> CertificateItem:
    with unavailable_on_failure():
        try:
            return CertificateItem.get(cert_key(certificate_id), CERT_SK, consistent_read=True)
        except CertificateItem.DoesNotExist as error:
            raise NotFound("No such certificate.") from error


def enrollment_inputs(
    child_id: str, program_id: str
) -> tuple[
    catalog.ProgramItem | None,
    catalog.SeatsItem | None,
    people.ChildItem | None,
    ChildProgramItem | None,
]:
    """What an enrollment's checks read first, in one consistent batch: the program, its
    seats, the child, and the child's standing in the program (None where absent)."""
    program, seats, child, child_program = read_together(
        [
            (catalog.ProgramItem, catalog.program_key(program_id), catalog.PROGRAM_SK),
            (catalog.SeatsItem, catalog.program_key(program_id), catalog.SEATS_SK),
            (people.ChildItem, people.child_key(child_id), people.CHILD_SK),
            (ChildProgramItem, child_program_key(child_id, program_id), CP_SK),
        ]
    )
    return program, seats, child, child_program


EnrollmentSnapshot = tuple[
    catalog.ProgramItem | None,
    catalog.SeatsItem | None,
    people.ChildItem | None,
    ChildProgramItem | None,
    int,
    list[tuple[periods.PeriodItem | None, CertificateItem | None]],
    budgets.Seen | None,
]


def enrollment_snapshot(
    child_id: str, program_id: str, period_ids: list[str], budget: budgets.Wanted | None = None
) -> EnrollmentSnapshot:
    """What enrollment_inputs reads, the periods registry's version, for each period the
    period's item and the child's certificate in it, and the budget items `budget` names (a
    claim and slices): all as they stood at one moment."""
    wanted: list[tuple[type[Model], str, str]] = [
        (catalog.ProgramItem, catalog.program_key(program_id), catalog.PROGRAM_SK),
        (catalog.SeatsItem, catalog.program_key(program_id), catalog.SEATS_SK),
        (people.ChildItem, people.child_key(child_id), people.CHILD_SK),
        (ChildProgramItem, child_program_key(child_id, program_id), CP_SK),
        (periods.PeriodRegistry, periods.REGISTRY_PK, periods.REGISTRY_SK),
    ]
    for period_id in period_ids:
        wanted.append((periods.PeriodItem, periods.PERIODS_PK, period_id))
        wanted.append((CertificateItem, cert_key(certificate_id_for(child_id, period_id)), CERT_SK))
    fixed = len(wanted)
    if budget is not None:
        wanted.extend(budget.keys())
    found = read_snapshot(wanted)
    program, seats, child, child_program, registry = found[:5]
    pairs = list(zip(found[5:fixed:2], found[6:fixed:2], strict=True))
    version = int(registry.version) if registry is not None else 0
    seen = budgets.Seen.of(budget, found[fixed:]) if budget is not None else None
    return program, seats, child, child_program, version, pairs, seen


def period_and_certificate(
    period_id: str, child_id: str
) -> tuple[periods.PeriodItem | None, CertificateItem | None]:
    """A period's item and the child's certificate in it, in one consistent batch."""
    period, certificate = read_together(
        [
            (periods.PeriodItem, periods.PERIODS_PK, period_id),
            (CertificateItem, cert_key(certificate_id_for(child_id, period_id)), CERT_SK),
        ]
    )
    return period, certificate


def get_enrollment(enrollment_id: str) -> tuple[EnrollmentItem, list[MonthItem]]:
    """The enrollment and its months, oldest first, read consistently."""
    # One consistent Query of the enrollment's partition holds its head and its months.
    connection = table(EnrollmentItem)
    head: EnrollmentItem | None = None
    months: list[MonthItem] = []
    start_key = None
    with unavailable_on_failure():
        while True:
            page = connection.query(
                enrollment_key(enrollment_id),
                consistent_read=True,
                exclusive_start_key=start_key,
            )
            for raw in page.get("Items", []):
                if raw["sk"]["S"] == ENR_SK:
                    head = EnrollmentItem.from_raw_data(raw)
                elif raw["sk"]["S"].startswith("M#"):
                    months.append(MonthItem.from_raw_data(raw))
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                break
    if head is None:
        raise NotFound("No such enrollment.")
    return head, sorted(months, key=lambda m: m.month)


def certificates_of_parent(parent_sub: str) -> list[CertificateItem]:
    """A parent's certificates, oldest period first, as every answered write left them."""
    ids, _ = listed_ids(ListingItem, parent_key(parent_sub), "CERT#")
    found = read_together([(CertificateItem, cert_key(i), CERT_SK) for i in ids])
    return [certificate for certificate in found if certificate is not None]


EnrollmentPage = tuple[list[EnrollmentItem], list[list[MonthItem]], dict[str, str] | None]


def enrollments_of_parent(
    parent_sub: str, child_id: str | None, limit: int, after: dict[str, str] | None
) -> EnrollmentPage:
    """A page of a parent's enrollments (of one child, if given), with their months."""
    prefix = f"ENR#{child_id}#" if child_id else "ENR#"
    return _enrollments_page(parent_key(parent_sub), prefix, limit, after)


def roster(program_id: str, limit: int, after: dict[str, str] | None) -> EnrollmentPage:
    """A page of a program's enrollments, oldest first, with their months."""
    return _enrollments_page(catalog.program_key(program_id), "ENR#", limit, after)


def _enrollments_page(
    owner: str, prefix: str, limit: int, after: dict[str, str] | None
) -> EnrollmentPage:
    """A page of an owner's listed enrollments, their months, and the key to continue from:
    all read consistently, so the page holds every enrollment that has answered."""
    ids, last = listed_ids(ListingItem, owner, prefix, limit, after)
    found = read_together([(EnrollmentItem, enrollment_key(i), ENR_SK) for i in ids])
    heads = [head for head in found if head is not None]
    months = months_of([head.enrollment_id for head in heads])
    return heads, [months[head.enrollment_id] for head in heads], last


def months_of(enrollment_ids: list[str]) -> dict[str, list[MonthItem]]:
    out: dict[str, list[MonthItem]] = {}
    with unavailable_on_failure():
        for enrollment_id in enrollment_ids:
            out[enrollment_id] = list(
                MonthItem.query(
                    enrollment_key(enrollment_id),
                    MonthItem.sk.startswith("M#"),
                    consistent_read=True,
                )
            )
    return out


def ledger_page(
    certificate_id: str, limit: int, after_seq: int | None
) -> tuple[list[LedgerItem], int | None]:
    condition = (
        LedgerItem.sk > ledger_sk(after_seq)
        if after_seq is not None
        else LedgerItem.sk.startswith("SEQ#")
    )
    with unavailable_on_failure():
        result = LedgerItem.query(
            cert_key(certificate_id), condition, limit=limit, consistent_read=True
        )
        items = [item for item in result if item.sk.startswith("SEQ#")]
    more = result.last_evaluated_key is not None and bool(items)
    return items, (int(items[-1].seq) if more else None)


# ------------------------------------------------------------------ debits


def _keys_in(
    index_name: str, partition: str, attribute: str, model: type[Model] = MonthItem
) -> list[str]:
    connection = table(model)
    out: list[str] = []
    start_key = None
    with unavailable_on_failure():
        while True:
            page = connection.query(partition, index_name=index_name, exclusive_start_key=start_key)
            out += [raw[attribute]["S"] for raw in page.get("Items", [])]
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return out


def due_enrollments(month: str, shard: int) -> list[str]:
    """Enrollments with a pending certificate-funded month `month`, in one due shard."""
    return _keys_in("due", _shard("DUE", month, shard), "duesk")


def charged_months(month: str, shard: int) -> dict[str, tuple[int, int]]:
    """The charged months `month` of one due shard, as the `due` index shows them (it may lag
    behind the charges): enrollment id -> (kopecks charged, kopecks released)."""
    connection = table(MonthItem)
    out: dict[str, tuple[int, int]] = {}
    start_key = None
    with unavailable_on_failure():
        while True:
            page = connection.query(
                _shard("DONE", month, shard), index_name="due", exclusive_start_key=start_key
            )
            for raw in page.get("Items", []):
                amount = int(raw["certificate_kopecks"]["N"])
                took = int(raw["charged_kopecks"]["N"])
                out[raw["duesk"]["S"]] = (took, amount - took)
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return out


def ending_enrollments(month: str, shard: int) -> list[str]:
    """Active enrollments whose last month is `month`, in one due shard."""
    return _keys_in("due", _shard("END", month, shard), "duesk")


def certificates_of_period(period_id: str, shard: int) -> list[str]:
    """A period's certificates, in one shard of its keys-only index."""
    return _keys_in("period", _shard("PERIOD", period_id, shard), "persk", CertificateItem)


# ------------------------------------------------------------ whole-table reads


def scan_certificates() -> list[CertificateItem]:
    with unavailable_on_failure():
        return list(
            CertificateItem.scan(
                CertificateItem.pk.startswith("CERT#") & (CertificateItem.sk == CERT_SK)
            )
        )


def scan_ledger() -> list[LedgerItem]:
    with unavailable_on_failure():
        return list(LedgerItem.scan(LedgerItem.sk.startswith("SEQ#")))


def scan_months() -> list[MonthItem]:
    with unavailable_on_failure():
        return list(MonthItem.scan(MonthItem.sk.startswith("M#")))


def scan_enrollments() -> list[EnrollmentItem]:
    with unavailable_on_failure():
        return list(EnrollmentItem.scan(EnrollmentItem.sk == ENR_SK))
