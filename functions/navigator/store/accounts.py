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
"""

from __future__ import annotations

import zlib
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
from navigator.store.base import TableMeta, register, unavailable_on_failure

DUE_SHARDS = 16
CERT_SK = "CERT"
ENR_SK = "ENR"
CP_SK = "CP"


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


def shard_of(enrollment_id: str) -> int:
    return zlib.crc32(enrollment_id.encode()) % DUE_SHARDS


def due_key(month: str, enrollment_id: str) -> str:
    return f"DUE#{month}#{shard_of(enrollment_id):02d}"


def done_key(month: str, enrollment_id: str) -> str:
    return f"DONE#{month}#{shard_of(enrollment_id):02d}"


def end_key(month: str, enrollment_id: str) -> str:
    return f"END#{month}#{shard_of(enrollment_id):02d}"


# --------------------------------------------------------------------- reads


def get_certificate(certificate_id: str) -> CertificateItem:
    with unavailable_on_failure():
        try:
            return CertificateItem.get(cert_key(certificate_id), CERT_SK, consistent_read=True)
        except CertificateItem.DoesNotExist as error:
            raise NotFound("No such certificate.") from error


def get_enrollment(enrollment_id: str) -> tuple[EnrollmentItem, list[MonthItem]]:
    """The enrollment and its months, oldest first, read consistently."""
    # One consistent Query of the enrollment's partition holds its head and its months.
    connection = EnrollmentItem._get_connection()
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
    with unavailable_on_failure():
        return list(
            CertificateItem.by_owner.query(
                f"PARENT#{parent_sub}", CertificateItem.gsi1sk.startswith("CERT#")
            )
        )


def enrollments_page(
    index: Any, partition: str, prefix: str, limit: int, after: dict[str, str] | None
) -> tuple[list[EnrollmentItem], dict[str, str] | None]:
    """A page of enrollment heads from an index, and the raw key to continue after."""
    kwargs: dict[str, Any] = {"limit": limit}
    if after:
        kwargs["last_evaluated_key"] = {k: {"S": v} for k, v in after.items()}
    range_attr = (
        EnrollmentItem.gsi1sk if index is EnrollmentItem.by_owner else EnrollmentItem.gsi2sk
    )
    with unavailable_on_failure():
        result = index.query(partition, range_attr.startswith(prefix), **kwargs)
        items = list(result)
    last = result.last_evaluated_key
    return items, ({k: v["S"] for k, v in last.items()} if last else None)


def months_of(enrollment_ids: list[str]) -> dict[str, list[MonthItem]]:
    out: dict[str, list[MonthItem]] = {}
    with unavailable_on_failure():
        for enrollment_id in enrollment_ids:
            out[enrollment_id] = list(
                MonthItem.query(enrollment_key(enrollment_id), MonthItem.sk.startswith("M#"))
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
    connection = model._get_connection()
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
    return _keys_in("due", f"DUE#{month}#{shard:02d}", "duesk")


def charged_totals(month: str, shard: int) -> tuple[int, int, int]:
    """(months charged, kopecks charged, kopecks released) of a month, in one due shard."""
    connection = MonthItem._get_connection()
    count = charged = released = 0
    start_key = None
    with unavailable_on_failure():
        while True:
            page = connection.query(
                f"DONE#{month}#{shard:02d}", index_name="due", exclusive_start_key=start_key
            )
            for raw in page.get("Items", []):
                amount = int(raw["certificate_kopecks"]["N"])
                took = int(raw["charged_kopecks"]["N"])
                count, charged, released = count + 1, charged + took, released + amount - took
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return count, charged, released


def ending_enrollments(month: str, shard: int) -> list[str]:
    """Active enrollments whose last month is `month`, in one due shard."""
    return _keys_in("due", f"END#{month}#{shard:02d}", "duesk")


def period_key(period_id: str, certificate_id: str) -> str:
    return f"PERIOD#{period_id}#{shard_of(certificate_id):02d}"


def certificates_of_period(period_id: str, shard: int) -> list[str]:
    """A period's certificates, in one shard of its keys-only index."""
    return _keys_in("period", f"PERIOD#{period_id}#{shard:02d}", "persk", CertificateItem)
