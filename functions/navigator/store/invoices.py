"""The invoices table: invoices, their lines, invoice runs and their batch reports.

Keys (docs/decisions.md, "Invoices: formed once, by map and reduce"):
- invoice   INV#{invoice_id} / INV        the id is (kind, month, payer, provider) itself,
                                          so a put under `attribute_not_exists` forms it once;
            month  MONTH#{month}#{shard} / {kind}#{invoice_id}  (the operator's list)
            payer  PAYER#{payer}#{month} / {kind}#{invoice_id}
            provider PROVIDER#{provider}#{month} / {kind}#{invoice_id}
- line      LINES#{invoice_id}#{pass}#{shard} / {enrollment_id}: written once by the pass
            that found it, before the invoice exists; the invoice names the pass whose lines
            it sums, so lines that a later pass writes are never its lines
- run       IRUN#{month}#{kind} / RUN      the InvoiceRun; one per month and kind
- report    IRUN#{month}#{kind} / PASS#{pass}#{phase}#{n}  written once per batch
- registry  IRUNS / {month}#{kind}         the months that have runs, for lists newest first

It also holds the named reads of enrollment months that settlement needs (the `due`
index's charged and pending shards, and the months with their heads and certificates).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from navigator.domain.errors import NotFound
from navigator.store import accounts, catalog
from navigator.store.accounts import CertificateItem, EnrollmentItem, MonthItem
from navigator.store.base import (
    TableMeta,
    Transaction,
    is_condition_failure,
    read_together,
    register,
    unavailable_on_failure,
)

# The debit's commit-with-retry (fifty workers write one run item); issue 12 moves it to base.
from navigator.store.runs import commit_unless_refused

INVOICE_SK = "INV"
RUN_SK = "RUN"
REGISTRY = "IRUNS"
MONTH_SHARDS = 8  # the operator's list of a month: a region forms ~5,000 invoices at once
LINE_SHARDS = 8  # one big provider's lines: no partition takes more than 1/8 of its writes
READ_AT_ONCE = 50  # BatchGetItem takes 100 keys: a month item and its head per enrollment
COUNTERS = ("invoices_count", "lines_count", "amount_kopecks")
SEP = "~"  # not in any id (ids are [A-Za-z0-9_.-]), so an invoice id names one group only


class MonthIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "month"
        projection = AllProjection()

    mpk = UnicodeAttribute(hash_key=True)
    msk = UnicodeAttribute(range_key=True)


class PayerIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "payer"
        projection = AllProjection()

    ppk = UnicodeAttribute(hash_key=True)
    psk = UnicodeAttribute(range_key=True)


class ProviderIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "provider"
        projection = AllProjection()

    vpk = UnicodeAttribute(hash_key=True)
    vsk = UnicodeAttribute(range_key=True)


@register
class InvoiceItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "invoices_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=INVOICE_SK)
    mpk = UnicodeAttribute()
    msk = UnicodeAttribute()
    ppk = UnicodeAttribute()
    psk = UnicodeAttribute()
    vpk = UnicodeAttribute()
    vsk = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    number = UnicodeAttribute()
    kind = UnicodeAttribute()
    month = UnicodeAttribute()
    payer_id = UnicodeAttribute()
    payer_name = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    provider_name = UnicodeAttribute()
    provider_inn = UnicodeAttribute()
    lines_count = NumberAttribute()
    amount_kopecks = NumberAttribute()
    charged_total_kopecks = NumberAttribute(null=True)
    advance_kopecks = NumberAttribute(null=True)
    advance_percent = NumberAttribute(null=True)
    status = UnicodeAttribute()
    formed_at = UnicodeAttribute()
    accepted_at = UnicodeAttribute(null=True)
    paid_on = UnicodeAttribute(null=True)
    payment_order = UnicodeAttribute(null=True)
    pass_id = UnicodeAttribute()  # whose lines these are

    by_month = MonthIndex()
    by_payer = PayerIndex()
    by_provider = ProviderIndex()


@register
class LineItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "invoices_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    enrollment_id = UnicodeAttribute()
    certificate_number = UnicodeAttribute()
    program_id = UnicodeAttribute()
    program_title = UnicodeAttribute()
    month = UnicodeAttribute()
    certificate_kopecks = NumberAttribute()
    completeness_percent = NumberAttribute(null=True)
    amount_kopecks = NumberAttribute()


@register
class InvoiceRunItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "invoices_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=RUN_SK)
    month = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    phase = UnicodeAttribute()  # "lines", then "invoices", then "done"
    pass_id = UnicodeAttribute()
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()
    expected_batches = NumberAttribute(null=True)
    done_batches = NumberAttribute(default=0)
    invoices_count = NumberAttribute(default=0)
    lines_count = NumberAttribute(default=0)
    amount_kopecks = NumberAttribute(default=0)


@register
class InvoiceBatchItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "invoices_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    groups = ListAttribute(of=UnicodeAttribute, default=list)  # payer~provider seen
    invoices_count = NumberAttribute(default=0)
    lines_count = NumberAttribute(default=0)
    amount_kopecks = NumberAttribute(default=0)
    created_at = UnicodeAttribute()


@register
class RegistryItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "invoices_table"

    pk = UnicodeAttribute(hash_key=True, default=REGISTRY)
    sk = UnicodeAttribute(range_key=True)
    month = UnicodeAttribute()
    kind = UnicodeAttribute()


# ---------------------------------------------------------------------- keys


def invoice_id_of(kind: str, month: str, payer_id: str, provider_id: str) -> str:
    return SEP.join((kind, month, payer_id, provider_id))


def group_of(payer_id: str, provider_id: str) -> str:
    return f"{payer_id}{SEP}{provider_id}"


def split_group(group: str) -> tuple[str, str]:
    payer_id, provider_id = group.split(SEP, 1)
    return payer_id, provider_id


def _shard(text: str, shards: int) -> int:
    return zlib.crc32(text.encode()) % shards


def _lines_pk(invoice_id: str, pass_id: str, shard: int) -> str:
    return f"LINES#{invoice_id}#{pass_id}#{shard:02d}"


def run_key(month: str, kind: str) -> str:
    return f"IRUN#{month}#{kind}"


# ------------------------------------------------------------- enrollment months


def charged_month_ids(month: str, shard: int) -> list[str]:
    """Enrollments with a charged certificate-funded month `month`, in one due shard."""
    return accounts._keys_in("due", f"DONE#{month}#{shard:02d}", "duesk")


def pending_month_ids(month: str, shard: int) -> list[str]:
    """Enrollments with a pending certificate-funded month `month`, in one due shard."""
    return accounts.due_enrollments(month, shard)


def due_shards() -> int:
    return accounts.DUE_SHARDS


def months_with_heads(
    enrollment_ids: list[str], month: str
) -> list[tuple[EnrollmentItem, MonthItem]]:
    """Each enrollment's head and its month `month`, read consistently (absent ones left out)."""
    out: list[tuple[EnrollmentItem, MonthItem]] = []
    for start in range(0, len(enrollment_ids), READ_AT_ONCE):
        chunk = enrollment_ids[start : start + READ_AT_ONCE]
        wanted: list[tuple[type[Model], str, str]] = []
        for enrollment_id in chunk:
            key = accounts.enrollment_key(enrollment_id)
            wanted += [(EnrollmentItem, key, accounts.ENR_SK), (MonthItem, key, f"M#{month}")]
        found = read_together(wanted)
        for index in range(len(chunk)):
            head, item = found[2 * index], found[2 * index + 1]
            if head is not None and item is not None:
                out.append((head, item))
    return out


def certificates(certificate_ids: set[str]) -> dict[str, CertificateItem]:
    ids = sorted(certificate_ids)
    out: dict[str, CertificateItem] = {}
    for start in range(0, len(ids), 100):
        wanted: list[tuple[type[Model], str, str]] = [
            (CertificateItem, accounts.cert_key(i), accounts.CERT_SK)
            for i in ids[start : start + 100]
        ]
        for certificate in read_together(wanted):
            if certificate is not None:
                out[certificate.certificate_id] = certificate
    return out


def program_titles(program_ids: set[str]) -> dict[str, str]:
    ids = sorted(program_ids)
    out: dict[str, str] = {}
    for start in range(0, len(ids), 100):
        wanted: list[tuple[type[Model], str, str]] = [
            (catalog.ProgramItem, catalog.program_key(i), catalog.PROGRAM_SK)
            for i in ids[start : start + 100]
        ]
        for program in read_together(wanted):
            if program is not None:
                out[program.program_id] = program.title
    return out


def provider_card(provider_id: str) -> tuple[str, str]:
    """(name, inn) of a provider; a provider unknown to the catalog keeps its id as a name."""
    try:
        provider = catalog.get_provider(provider_id)
    except NotFound:
        return provider_id, ""
    return provider.name, provider.inn


# ------------------------------------------------------------------ invoices


def find_invoice(invoice_id: str) -> InvoiceItem | None:
    with unavailable_on_failure():
        try:
            return InvoiceItem.get(f"INV#{invoice_id}", INVOICE_SK, consistent_read=True)
        except InvoiceItem.DoesNotExist:
            return None


def get_invoice(invoice_id: str) -> InvoiceItem:
    invoice = find_invoice(invoice_id)
    if invoice is None:
        raise NotFound("No such invoice.")
    return invoice


def existing_invoices(invoice_ids: list[str]) -> dict[str, InvoiceItem]:
    out: dict[str, InvoiceItem] = {}
    for start in range(0, len(invoice_ids), 100):
        wanted: list[tuple[type[Model], str, str]] = [
            (InvoiceItem, f"INV#{i}", INVOICE_SK) for i in invoice_ids[start : start + 100]
        ]
        for invoice in read_together(wanted):
            if invoice is not None:
                out[invoice.invoice_id] = invoice
    return out


def put_line(invoice_id: str, pass_id: str, line: dict[str, Any]) -> bool:
    """Write a line once; False if this pass wrote it before (a retried or repeated batch)."""
    shard = _shard(line["enrollment_id"], LINE_SHARDS)
    item = LineItem(pk=_lines_pk(invoice_id, pass_id, shard), sk=line["enrollment_id"], **line)
    try:
        with unavailable_on_failure():
            item.save(condition=LineItem.pk.does_not_exist())
    except Exception as error:
        if is_condition_failure(error) or is_condition_failure(error.__cause__ or error):
            return False
        raise
    return True


def lines_of(invoice_id: str, pass_id: str) -> Iterator[LineItem]:
    """Every line a pass wrote for an invoice, shard by shard, read consistently."""
    for shard in range(LINE_SHARDS):
        with unavailable_on_failure():
            yield from LineItem.query(_lines_pk(invoice_id, pass_id, shard), consistent_read=True)


def lines_page(
    invoice: InvoiceItem, limit: int, after: tuple[int, str] | None
) -> tuple[list[LineItem], tuple[int, str] | None]:
    """A page of an invoice's lines and the (shard, enrollment) to continue after."""
    shard, last = after if after else (0, None)
    found: list[tuple[int, LineItem]] = []
    # One line more than the page, to know whether anything follows it.
    while shard < LINE_SHARDS and len(found) <= limit:
        condition = LineItem.sk > last if last else None
        with unavailable_on_failure():
            found += [
                (shard, line)
                for line in LineItem.query(
                    _lines_pk(invoice.invoice_id, invoice.pass_id, shard),
                    condition,
                    consistent_read=True,
                    limit=limit + 1 - len(found),
                )
            ]
        shard, last = shard + 1, None
    page = found[:limit]
    more = len(found) > limit
    return [line for _, line in page], ((page[-1][0], page[-1][1].sk) if more else None)


def form_invoice(invoice: dict[str, Any]) -> bool:
    """Put an invoice once; False if it exists (formed by another attempt, pass or run)."""
    month, kind = invoice["month"], invoice["kind"]
    invoice_id = invoice["invoice_id"]
    item = InvoiceItem(
        pk=f"INV#{invoice_id}",
        mpk=f"MONTH#{month}#{_shard(invoice_id, MONTH_SHARDS)}",
        msk=f"{kind}#{invoice_id}",
        ppk=f"PAYER#{invoice['payer_id']}#{month}",
        psk=f"{kind}#{invoice_id}",
        vpk=f"PROVIDER#{invoice['provider_id']}#{month}",
        vsk=f"{kind}#{invoice_id}",
        **invoice,
    )
    try:
        with unavailable_on_failure():
            item.save(condition=InvoiceItem.pk.does_not_exist())
    except Exception as error:
        if is_condition_failure(error.__cause__ or error):
            return False
        raise
    return True


def set_status(invoice: InvoiceItem, actions: list[Any], expected_status: str) -> bool:
    """Move an invoice's status from `expected_status`; False if it moved meanwhile."""
    try:
        with unavailable_on_failure():
            invoice.update(actions=actions, condition=InvoiceItem.status == expected_status)
    except Exception as error:
        if is_condition_failure(error.__cause__ or error):
            return False
        raise
    return True


def invoice_partitions(
    month: str, payer_id: str | None, provider_id: str | None
) -> list[tuple[Any, str]]:
    """The index partitions that hold a month's invoices for these filters, in list order."""
    if provider_id is not None:
        return [(InvoiceItem.by_provider, f"PROVIDER#{provider_id}#{month}")]
    if payer_id is not None:
        return [(InvoiceItem.by_payer, f"PAYER#{payer_id}#{month}")]
    return [(InvoiceItem.by_month, f"MONTH#{month}#{shard}") for shard in range(MONTH_SHARDS)]


def invoices_in(index: Any, partition: str, after: dict[str, str] | None) -> Iterator[InvoiceItem]:
    """An index partition's invoices in key order, from after a raw key."""
    kwargs: dict[str, Any] = {}
    if after:
        kwargs["last_evaluated_key"] = {k: {"S": v} for k, v in after.items()}
    with unavailable_on_failure():
        yield from index.query(partition, **kwargs)


def index_key(index: Any, invoice: InvoiceItem) -> dict[str, str]:
    """The raw key to continue a query of `index` after this invoice."""
    names = {
        InvoiceItem.by_month: ("mpk", "msk"),
        InvoiceItem.by_payer: ("ppk", "psk"),
        InvoiceItem.by_provider: ("vpk", "vsk"),
    }[index]
    key = {"pk": invoice.pk, "sk": invoice.sk}
    for name in names:
        key[name] = getattr(invoice, name)
    return key


def month_invoices(month: str, kind: str) -> list[InvoiceItem]:
    """Every invoice of a month and kind (a few thousand at most: one per payer and provider)."""
    out: list[InvoiceItem] = []
    for index, partition in invoice_partitions(month, None, None):
        with unavailable_on_failure():
            out += list(index.query(partition, InvoiceItem.msk.startswith(f"{kind}#")))
    return out


# ---------------------------------------------------------------------- runs


def find_run(month: str, kind: str) -> InvoiceRunItem | None:
    with unavailable_on_failure():
        try:
            return InvoiceRunItem.get(run_key(month, kind), RUN_SK, consistent_read=True)
        except InvoiceRunItem.DoesNotExist:
            return None


def register_month(month: str, kind: str) -> None:
    with unavailable_on_failure():
        RegistryItem(sk=f"{month}#{kind}", month=month, kind=kind).save()


def months_with_runs() -> list[str]:
    """The months that have invoice runs, newest first."""
    with unavailable_on_failure():
        items = list(RegistryItem.query(REGISTRY, scan_index_forward=False))
    months: list[str] = []
    for item in items:
        if item.month not in months:
            months.append(item.month)
    return months


def batch_report_key(pass_id: str, phase: str, batch: int) -> str:
    return f"PASS#{pass_id}#{phase}#{batch:06d}"


def groups_reported(month: str, kind: str, pass_id: str) -> set[str]:
    """Every payer~provider group the line batches of a pass reported."""
    out: set[str] = set()
    with unavailable_on_failure():
        for report in InvoiceBatchItem.query(
            run_key(month, kind),
            InvoiceBatchItem.sk.startswith(f"PASS#{pass_id}#lines#"),
            consistent_read=True,
        ):
            out.update(str(group) for group in report.groups or [])
    return out


def _run_update(month: str, kind: str, actions: list[Any], condition: Any) -> bool:
    tx = Transaction()
    tx.update("run", InvoiceRunItem(pk=run_key(month, kind)), actions, condition)
    return commit_unless_refused(tx)


def start_pass(
    month: str, kind: str, pass_id: str, now: str, previous: InvoiceRunItem | None
) -> bool:
    """Start a pass, unless another started or showed progress since `previous` was read."""
    condition = (
        InvoiceRunItem.pk.does_not_exist()
        if previous is None
        else (InvoiceRunItem.pass_id == previous.pass_id)
        & (InvoiceRunItem.updated_at == previous.updated_at)
    )
    actions = [
        InvoiceRunItem.month.set(month),
        InvoiceRunItem.kind.set(kind),
        InvoiceRunItem.status.set("running"),
        InvoiceRunItem.phase.set("lines"),
        InvoiceRunItem.pass_id.set(pass_id),
        InvoiceRunItem.started_at.set(now),
        InvoiceRunItem.updated_at.set(now),
        InvoiceRunItem.finished_at.remove(),
        InvoiceRunItem.expected_batches.remove(),
        InvoiceRunItem.done_batches.set(0),
    ]
    if previous is None:
        actions += [
            InvoiceRunItem.invoices_count.set(0),
            InvoiceRunItem.lines_count.set(0),
            InvoiceRunItem.amount_kopecks.set(0),
        ]
    if not _run_update(month, kind, actions, condition):
        return False
    if previous is None:
        register_month(month, kind)
    return True


def set_expected(month: str, kind: str, pass_id: str, phase: str, batches: int) -> bool:
    """Every batch of a phase is sent: how many to wait for."""
    return _run_update(
        month,
        kind,
        [InvoiceRunItem.expected_batches.set(batches)],
        (InvoiceRunItem.pass_id == pass_id) & (InvoiceRunItem.phase == phase),
    )


def record_batch(
    month: str,
    kind: str,
    pass_id: str,
    phase: str,
    batch: int,
    groups: list[str],
    counts: dict[str, int],
    now: str,
) -> bool:
    """Record a batch once, with its counts added to the run; False if recorded before."""
    report = InvoiceBatchItem(
        pk=run_key(month, kind), sk=batch_report_key(pass_id, phase, batch), created_at=now
    )
    report.groups = sorted(groups)  # type: ignore[arg-type]
    for name in COUNTERS:
        setattr(report, name, counts.get(name, 0))
    tx = Transaction()
    tx.put("report", report, InvoiceBatchItem.sk.does_not_exist())
    actions = [getattr(InvoiceRunItem, name).add(counts.get(name, 0)) for name in COUNTERS]
    actions += [InvoiceRunItem.done_batches.add(1), InvoiceRunItem.updated_at.set(now)]
    tx.update(
        "run",
        InvoiceRunItem(pk=run_key(month, kind)),
        actions,
        (InvoiceRunItem.pass_id == pass_id) & (InvoiceRunItem.phase == phase),
    )
    return commit_unless_refused(tx)


def begin_invoices(month: str, kind: str, pass_id: str, now: str, totals: dict[str, int]) -> bool:
    """Every line batch reported: the pass turns to forming invoices (one caller wins)."""
    actions = [
        InvoiceRunItem.phase.set("invoices"),
        InvoiceRunItem.done_batches.set(0),
        InvoiceRunItem.expected_batches.remove(),
        InvoiceRunItem.updated_at.set(now),
    ]
    actions += [getattr(InvoiceRunItem, name).set(totals.get(name, 0)) for name in COUNTERS]
    return _run_update(
        month,
        kind,
        actions,
        (InvoiceRunItem.pass_id == pass_id)
        & (InvoiceRunItem.phase == "lines")
        & (InvoiceRunItem.done_batches == InvoiceRunItem.expected_batches),
    )


def complete_if_done(month: str, kind: str, pass_id: str, now: str) -> bool:
    """Mark the pass completed once every invoice batch it expects has reported."""
    return _run_update(
        month,
        kind,
        [
            InvoiceRunItem.status.set("completed"),
            InvoiceRunItem.phase.set("done"),
            InvoiceRunItem.finished_at.set(now),
            InvoiceRunItem.updated_at.set(now),
        ],
        (InvoiceRunItem.pass_id == pass_id)
        & (InvoiceRunItem.phase == "invoices")
        & (InvoiceRunItem.done_batches == InvoiceRunItem.expected_batches),
    )
