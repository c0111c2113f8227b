"""Forming invoices: a month's runs, their line batches and invoice batches, exactly once.

A pass of a run has two phases, each scaled out as the debit is (SQS workers in AWS, the
same batch code in-process locally):
1. lines: the dispatcher enumerates the month's charged (final) or pending (advance) months
   from the `due` index's shards, and each batch writes one line per month, under the
   pass's own keys, each at most once; its report (written once) names the payer~provider
   groups it saw;
2. invoices: when every line batch has reported, one caller turns the pass to this phase
   and hands the groups that have no invoice yet to batches; each sums its groups' lines and
   puts the invoice under `attribute_not_exists`, naming the pass whose lines it sums.
An invoice's id is its (kind, month, payer, provider), so it can be formed once only, and
once formed nothing writes it again but its status.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from navigator import metrics
from navigator.domain import settlement as rules
from navigator.domain.calendar import current_month, now_utc_iso
from navigator.domain.errors import Conflict, NotFound
from navigator.service import dispatchers
from navigator.service.dispatchers import Batches
from navigator.service.views import invoice_run_view
from navigator.settings import get_settings
from navigator.store import invoices as store
from navigator.store import payers
from navigator.store import runs as debit_runs
from navigator.store.invoices import InvoiceItem, InvoiceRunItem

LINE_BATCH = 100
INVOICE_BATCH = 25
ATTEMPTS = 8
STALE_PASS = timedelta(minutes=15)

Progress = Callable[[int], None]


def payer_terms(payer_id: str) -> tuple[str, int]:
    """(name, advance_percent) of a payer, from its card (`region` always has one)."""
    payer = payers.get_payer(payer_id)
    if payer is None:
        raise NotFound(f"No such payer: {payer_id}.")
    return str(payer.name), int(payer.advance_percent)


# ---------------------------------------------------------------------- runs


def check_may_form(month: str, kind: str) -> None:
    """409 month_not_started / month_not_charged (DESIGN.md, "Settlement with providers")."""
    if kind == "advance":
        if month > current_month():
            raise Conflict("The month has not begun yet.", code="month_not_started")
        return
    debit = debit_runs.find_run(month)
    charged = (
        debit is not None
        and debit.status == "completed"
        and int(debit.failed_count) == 0
        and not any(store.pending_month_ids(month, shard) for shard in range(store.due_shards()))
    )
    if not charged:
        raise Conflict(
            "The month's debit has not completed with every month charged.",
            code="month_not_charged",
        )


def start_run(
    month: str, kind: str, dispatch_here: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    """POST /invoice-runs and the schedule: join a running pass, or start one."""
    check_may_form(month, kind)
    for _ in range(ATTEMPTS):
        run = store.find_run(month, kind)
        if run is not None and run.status == "running" and not _stale(run):
            return invoice_run_view(run)
        pass_id = "pass-" + secrets.token_hex(6)
        if not store.start_pass(month, kind, pass_id, now_utc_iso(), run):
            continue  # another caller started or moved a pass: look again
        settings = get_settings()
        if dispatch_here or not (
            settings.invoice_dispatcher_function or settings.debit_dispatch_background
        ):
            dispatch(month, kind, pass_id, progress)
        elif settings.invoice_dispatcher_function:
            _invoke_dispatcher(month, kind, pass_id)
        else:  # the local stack's stand-in for the dispatcher Lambda's asynchronous invoke
            threading.Thread(target=dispatch, args=(month, kind, pass_id), daemon=True).start()
        return get_run(month, kind)
    return get_run(month, kind)


def _stale(run: InvoiceRunItem) -> bool:
    last = datetime.fromisoformat(run.updated_at.replace("Z", "+00:00"))
    return datetime.now(last.tzinfo) - last > STALE_PASS


def get_run(month: str, kind: str) -> dict[str, Any]:
    run = store.find_run(month, kind)
    if run is None:
        raise NotFound("No invoice run for this month and kind.")
    return invoice_run_view(run)


def _invoke_dispatcher(month: str, kind: str, pass_id: str) -> None:
    import boto3

    job = {"month": month, "kind": kind, "pass_id": pass_id}
    boto3.client("lambda").invoke(
        FunctionName=get_settings().invoice_dispatcher_function,
        InvocationType="Event",
        Payload=json.dumps({"dispatch": job}).encode(),
    )


def dispatch(month: str, kind: str, pass_id: str, progress: Progress | None = None) -> None:
    """The lines phase: the month's charged or pending months, shard by shard, in batches."""
    ids = store.charged_month_ids if kind == "final" else store.pending_month_ids
    batches = _batches(month, kind, pass_id, "lines", LINE_BATCH, progress)
    for shard in range(store.due_shards()):
        batches.add(sorted(ids(month, shard)))
    sent = batches.close()
    store.set_expected(month, kind, pass_id, "lines", sent)
    _after_lines(month, kind, pass_id, progress)


def send(messages: list[dict[str, Any]], progress: Progress | None = None) -> None:
    """To the workers' queue in AWS; in this process locally (the same batch code)."""
    queue_url = get_settings().invoice_queue_url
    if queue_url:
        dispatchers.queue(queue_url, messages, "invoice batches")
        return
    for message in messages:
        dispatchers.process_here(process_batch, message)
        if progress and message["phase"] == "lines":
            progress(len(message["items"]))


def _batches(
    month: str, kind: str, pass_id: str, phase: str, size: int, progress: Progress | None
) -> Batches:
    head = {"month": month, "kind": kind, "pass_id": pass_id, "phase": phase}
    return Batches(head, size, lambda messages: send(messages, progress), key="items")


# ------------------------------------------------------------------- batches


def process_batch(message: dict[str, Any]) -> dict[str, int]:
    """One batch of either phase; its report is recorded once, whatever is redelivered."""
    month, kind, pass_id, phase = (message[k] for k in ("month", "kind", "pass_id", "phase"))
    counts = {name: 0 for name in store.COUNTERS}
    run = store.find_run(month, kind)
    if run is None or run.pass_id != pass_id or run.phase != phase:
        # A replaced pass's batch, or a duplicate delivered after its phase ended: what it
        # would write is written (the lines) or is another pass's work.
        return counts
    groups: list[str] = []
    if phase == "lines":
        groups = write_lines(month, kind, pass_id, message["items"])
    else:
        counts = form_invoices(month, kind, pass_id, message["items"])
    now = now_utc_iso()
    if store.record_batch(month, kind, pass_id, phase, int(message["batch"]), groups, counts, now):
        metrics.count(metrics.INVOICES_FORMED, counts["invoices_count"])
    if phase == "lines":
        _after_lines(month, kind, pass_id)
    else:
        _complete(month, kind, pass_id)
    return counts


def write_lines(month: str, kind: str, pass_id: str, enrollment_ids: list[str]) -> list[str]:
    """Write this batch's lines (each once); the payer~provider groups it saw."""
    months = store.months_with_heads(enrollment_ids, month)
    certificates = store.certificates(
        {str(m.certificate_id) for _, m in months if m.certificate_id}
    )
    percents: dict[str, int] = {}
    found: list[tuple[str, Any, Any, Any]] = []
    for head, item in months:
        certificate = certificates.get(str(item.certificate_id))
        if certificate is None or not _belongs(kind, item):
            continue
        if kind == "advance":
            if certificate.payer_id not in percents:
                percents[certificate.payer_id] = payer_terms(certificate.payer_id)[1]
            if percents[certificate.payer_id] <= 0:
                continue  # a payer that pays no advance has no advance lines
        found.append(
            (store.group_of(certificate.payer_id, head.provider_id), head, item, certificate)
        )
    groups = sorted({group for group, *_ in found})
    formed = store.existing_invoices([_invoice_id(kind, month, g) for g in groups])
    titles = store.program_titles({head.program_id for _, head, _, _ in found})
    for group, head, item, certificate in found:
        invoice_id = _invoice_id(kind, month, group)
        if invoice_id in formed:
            continue  # formed before this pass: its lines are settled, this month is not one
        amount = int(item.certificate_kopecks)
        line = {
            "enrollment_id": head.enrollment_id,
            "certificate_number": certificate.number,
            "program_id": head.program_id,
            "program_title": titles.get(head.program_id, head.program_id),
            "month": month,
            "certificate_kopecks": amount,
            "completeness_percent": int(item.completeness_percent) if kind == "final" else None,
            "amount_kopecks": int(item.charged_kopecks)
            if kind == "final"
            else rules.advance_line(amount, percents[certificate.payer_id]),
        }
        store.put_line(invoice_id, pass_id, line)
    return groups


def _belongs(kind: str, item: Any) -> bool:
    if not item.certificate_id:
        return False
    if kind == "final":
        return bool(item.status == "charged")
    return item.status == "pending" and int(item.certificate_kopecks) > 0


def _invoice_id(kind: str, month: str, group: str) -> str:
    payer_id, provider_id = store.split_group(group)
    return store.invoice_id_of(kind, month, payer_id, provider_id)


def _after_lines(month: str, kind: str, pass_id: str, progress: Progress | None = None) -> None:
    """Once every line batch has reported, one caller turns the pass to forming invoices."""
    run = store.find_run(month, kind)
    if (
        run is None
        or run.pass_id != pass_id
        or run.phase != "lines"
        or run.expected_batches is None
        or int(run.done_batches) != int(run.expected_batches)
    ):
        return
    groups = store.groups_reported(month, kind, pass_id)
    if kind == "final":  # a payer and provider with an advance get a final invoice too
        groups |= {
            store.group_of(i.payer_id, i.provider_id)
            for i in store.month_invoices(month, "advance")
        }
    existing = store.month_invoices(month, kind)
    totals = {
        "invoices_count": len(existing),
        "lines_count": sum(int(i.lines_count) for i in existing),
        "amount_kopecks": sum(int(i.amount_kopecks) for i in existing),
    }
    if not store.begin_invoices(month, kind, pass_id, now_utc_iso(), totals):
        return  # another caller turned it
    formed = {store.group_of(i.payer_id, i.provider_id) for i in existing}
    batches = _batches(month, kind, pass_id, "invoices", INVOICE_BATCH, progress)
    batches.add(sorted(groups - formed))
    store.set_expected(month, kind, pass_id, "invoices", batches.close())
    _complete(month, kind, pass_id)


def form_invoices(month: str, kind: str, pass_id: str, groups: list[str]) -> dict[str, int]:
    """Form each group's invoice from this pass's lines, once; what this pass formed."""
    counts = {name: 0 for name in store.COUNTERS}
    for group in groups:
        invoice_id = _invoice_id(kind, month, group)
        invoice = store.find_invoice(invoice_id)
        if invoice is None:
            made = _invoice(kind, month, group, pass_id)
            if made is None:
                continue
            store.form_invoice(made)
            invoice = store.get_invoice(invoice_id)
        if invoice.pass_id == pass_id:  # formed by this pass, on this attempt or an earlier one
            counts["invoices_count"] += 1
            counts["lines_count"] += int(invoice.lines_count)
            counts["amount_kopecks"] += int(invoice.amount_kopecks)
    return counts


def _invoice(kind: str, month: str, group: str, pass_id: str) -> dict[str, Any] | None:
    payer_id, provider_id = store.split_group(group)
    invoice_id = store.invoice_id_of(kind, month, payer_id, provider_id)
    count = total = 0
    for line in store.lines_of(invoice_id, pass_id):
        count, total = count + 1, total + int(line.amount_kopecks)
    payer_name, percent = payer_terms(payer_id)
    invoice: dict[str, Any] = {
        "invoice_id": invoice_id,
        "number": f"{'АВ' if kind == 'advance' else 'ОК'}/{month}/{payer_id}/{provider_id}",
        "kind": kind,
        "month": month,
        "payer_id": payer_id,
        "payer_name": payer_name,
        "provider_id": provider_id,
        "lines_count": count,
        "status": "formed",
        "formed_at": now_utc_iso(),
        "pass_id": pass_id,
    }
    invoice["provider_name"], invoice["provider_inn"] = store.provider_card(provider_id)
    if kind == "advance":
        if count == 0:
            return None  # a payer and provider with no line get no advance
        invoice.update(amount_kopecks=total, advance_percent=percent)
        return invoice
    advance = store.find_invoice(store.invoice_id_of("advance", month, payer_id, provider_id))
    advance_kopecks = int(advance.amount_kopecks) if advance is not None else 0
    invoice.update(
        charged_total_kopecks=total,
        advance_kopecks=advance_kopecks,
        amount_kopecks=rules.final_amount(total, advance_kopecks),
    )
    return invoice


def _complete(month: str, kind: str, pass_id: str) -> None:
    now = now_utc_iso()
    if store.complete_if_done(month, kind, pass_id, now):
        run = store.find_run(month, kind)
        if run is not None:
            started = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
            finished = datetime.fromisoformat(now.replace("Z", "+00:00"))
            seconds = (finished - started).total_seconds()
            metrics.count(metrics.INVOICE_RUN_SECONDS, seconds, MetricUnit.Seconds)


# ------------------------------------------------------------- reconciliation


def invoice_mismatches(month: str) -> list[dict[str, Any]]:
    """DESIGN.md's check of a month's final invoices against its charges: each invoice's
    sums, its lines against the charged months of its payer and provider, and every charged
    month a line of exactly one final invoice. Each problem names the invoice, or the
    certificate of a charged month that no final invoice holds."""
    finals = store.month_invoices(month, "final")
    if not finals:
        return []
    on_invoices: dict[str, list[tuple[str, int]]] = {}
    out = [p for invoice in finals if (p := _invoice_sums(invoice, on_invoices)) is not None]
    by_id = {invoice.invoice_id: invoice for invoice in finals}
    charged: list[str] = []
    for shard in range(store.due_shards()):
        charged += store.charged_month_ids(month, shard)
    for head, item in store.months_with_heads(sorted(charged), month):
        lines = on_invoices.pop(head.enrollment_id, [])
        if len(lines) != 1:
            problem = f"{month} of {head.enrollment_id} is a line of {len(lines)} final invoices"
            out.append({"certificate_id": str(item.certificate_id), "problems": [problem]})
            continue
        invoice_id, amount = lines[0]
        if by_id[invoice_id].provider_id != head.provider_id or amount != int(item.charged_kopecks):
            problem = f"its line of {head.enrollment_id} is not the month charged"
            out.append({"invoice_id": invoice_id, "problems": [problem]})
    for enrollment_id, lines in sorted(on_invoices.items()):
        for invoice_id, _ in lines:
            problem = f"its line of {enrollment_id} is no charged month"
            out.append({"invoice_id": invoice_id, "problems": [problem]})
    return out


def _invoice_sums(
    invoice: InvoiceItem, on_invoices: dict[str, list[tuple[str, int]]]
) -> dict[str, Any] | None:
    """An invoice's own sums checked; its lines noted by enrollment."""
    count = total = 0
    for line in store.lines_of(invoice.invoice_id, invoice.pass_id):
        count, total = count + 1, total + int(line.amount_kopecks)
        on_invoices.setdefault(line.enrollment_id, []).append(
            (invoice.invoice_id, int(line.amount_kopecks))
        )
    problems = []
    said = (int(invoice.lines_count), int(invoice.charged_total_kopecks or 0))
    if (count, total) != said:
        problems.append(f"its {count} lines add up to {total}, it says {said[0]} and {said[1]}")
    expected = rules.final_amount(total, int(invoice.advance_kopecks or 0))
    if int(invoice.amount_kopecks) != expected:
        problems.append(f"its amount {int(invoice.amount_kopecks)} is not {expected}")
    return {"invoice_id": invoice.invoice_id, "problems": problems} if problems else None
