"""The monthly debit: start or join a month's run, dispatch its batches, charge a batch.

A pass enumerates what is due from the sparse, write-sharded `due` index (never the whole
table), hands batches of enrollments to workers (SQS in AWS, in-process locally), and each
batch reports its counts once. Each (enrollment, month) is charged at most once: the month's
own item moves from `pending` to `charged` under a condition, in the same transaction as the
certificate and its ledger.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from navigator.api import observability
from navigator.domain import enrollment as rules
from navigator.domain.calendar import current_month, now_utc_iso
from navigator.domain.errors import Conflict, NotFound, StoreUnavailable
from navigator.service.enrollments import backoff, end_enrollment
from navigator.settings import get_settings
from navigator.store import accounts, money, periods, runs
from navigator.store.accounts import EnrollmentItem, MonthItem
from navigator.store.base import Cancelled, Transaction, unavailable_on_failure
from navigator.store.money import Movement

BATCH_SIZE = 25
SEND_AT_ONCE = 10  # SQS SendMessageBatch takes ten messages
ATTEMPTS = 8
# A running pass that showed no progress for this long (its dispatcher died, or its batches
# went to the dead-letter queue) may be replaced by a new pass.
STALE_PASS = timedelta(minutes=15)
INLINE_TRIES = 3

Progress = Callable[[int], None]


def _connection() -> Any:
    return accounts.CertificateItem._get_connection().connection


# ------------------------------------------------------------------- runs


def start_run(month: str, dispatch_here: bool = False, progress: Progress | None = None):
    """POST /debit-runs and the schedule: join a running pass, or start a new one."""
    if month >= current_month():
        raise Conflict("The month has not ended yet.", code="month_not_closed")
    for _ in range(ATTEMPTS):
        run = runs.find_run(month)
        if run is not None and run.status == "running" and not _stale(run):
            return run.view()
        pass_id = "pass-" + secrets.token_hex(6)
        if runs.start_pass(month, pass_id, now_utc_iso(), run):
            started = runs.get_run(month).view()
            settings = get_settings()
            if dispatch_here:
                dispatch(month, pass_id, progress)
                return runs.get_run(month).view()
            if settings.debit_dispatcher_function:
                _invoke_dispatcher(month, pass_id)
            elif settings.debit_dispatch_background:
                # The local stack's stand-in for the dispatcher Lambda's asynchronous invoke.
                threading.Thread(target=dispatch, args=(month, pass_id), daemon=True).start()
            else:
                dispatch(month, pass_id, progress)
                return runs.get_run(month).view()
            return started
    return runs.get_run(month).view()


def _stale(run: runs.RunItem) -> bool:
    stamp = run.updated_at or run.started_at
    last = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return datetime.now(last.tzinfo) - last > STALE_PASS


def get_run(month: str) -> dict[str, Any]:
    return runs.get_run(month).view()


def _invoke_dispatcher(month: str, pass_id: str) -> None:
    import json

    import boto3

    boto3.client("lambda").invoke(
        FunctionName=get_settings().debit_dispatcher_function,
        InvocationType="Event",
        Payload=json.dumps({"dispatch": {"month": month, "pass_id": pass_id}}).encode(),
    )


def dispatch(month: str, pass_id: str, progress: Progress | None = None) -> None:
    """Enumerate the month's due and ending enrollments and its period's expiry, one due shard
    at a time, sending full batches as they fill (memory bounded by one shard)."""
    # The month's totals so far, counted from the charged months themselves: a batch that
    # charged and then died before reporting is counted here, never twice. They are set
    # before any batch of this pass can add to them.
    charged = [0, 0, 0]
    for shard in range(accounts.DUE_SHARDS):
        for index, value in enumerate(accounts.charged_totals(month, shard)):
            charged[index] += value
    runs.set_totals(month, pass_id, *charged)
    charges = _Batches(month, pass_id, "charge", 0, progress)
    pending = 0
    for shard in range(accounts.DUE_SHARDS):
        due = set(accounts.due_enrollments(month, shard))
        pending += len(due)
        charges.add(sorted(due | set(accounts.ending_enrollments(month, shard))))
    sent = charges.close()
    period = _period_ending_in(month)
    if period is not None:
        expiries = _Batches(month, pass_id, "expire", sent, progress)
        for shard in range(accounts.DUE_SHARDS):
            expiries.add(sorted(accounts.certificates_of_period(period, shard)))
        sent = expiries.close()
    runs.set_expected(month, pass_id, charged[0] + pending, sent)
    _complete_pass(month, pass_id, now_utc_iso())


class _Batches:
    """Fills batches of BATCH_SIZE ids; sends them ten at a time (one SQS SendMessageBatch)."""

    def __init__(
        self, month: str, pass_id: str, kind: str, first: int, progress: Progress | None
    ) -> None:
        self._head = {"month": month, "pass_id": pass_id, "kind": kind}
        self._next = first
        self._ids: list[str] = []
        self._out: list[dict[str, Any]] = []
        self._progress = progress

    def add(self, ids: list[str]) -> None:
        self._ids += ids
        while len(self._ids) >= BATCH_SIZE:
            self._batch(self._ids[:BATCH_SIZE])
            self._ids = self._ids[BATCH_SIZE:]

    def close(self) -> int:
        """Send what is left; the next free batch number."""
        if self._ids:
            self._batch(self._ids)
            self._ids = []
        self._flush()
        return self._next

    def _batch(self, ids: list[str]) -> None:
        self._out.append({**self._head, "ids": ids, "batch": self._next})
        self._next += 1
        if len(self._out) == SEND_AT_ONCE:
            self._flush()

    def _flush(self) -> None:
        if self._out:
            send(self._out, self._progress)
            self._out = []


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def _period_ending_in(month: str) -> str | None:
    for period in periods.read_periods()[1]:
        if period.ends_on[:7] == month:
            return str(period.period_id)
    return None


def send(messages: list[dict[str, Any]], progress: Progress | None = None) -> None:
    """To the workers' queue in AWS; in this process locally (the same batch code)."""
    queue_url = get_settings().debit_queue_url
    if not queue_url:
        for message in messages:
            _process_inline(message)
            if progress:
                progress(len(message["ids"]))
        return
    import json

    import boto3

    sqs = boto3.client("sqs")
    for start in range(0, len(messages), 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(m)}
            for i, m in enumerate(messages[start : start + 10])
        ]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")
        if failed:
            raise StoreUnavailable(f"{len(failed)} debit batches were not queued")


def _process_inline(message: dict[str, Any]) -> None:
    """Locally there is no queue to retry a batch: retry it here, as SQS would."""
    for attempt in range(INLINE_TRIES):
        try:
            process_batch(message)
            return
        except StoreUnavailable:
            if attempt == INLINE_TRIES - 1:
                raise


# ----------------------------------------------------------------- batches


def process_batch(message: dict[str, Any]) -> dict[str, int]:
    """Charge (or expire) one batch and add its counts to the run, once."""
    month, pass_id = message["month"], message["pass_id"]
    counts = {name: 0 for name in runs.COUNTERS}
    current = runs.find_run(month)
    if current is None or current.pass_id != pass_id:
        # A replaced pass's batch, delivered late: what it would charge is the new pass's
        # work, and its counts could no longer be recorded. (A batch runs for at most the
        # worker's 2-minute timeout; a pass is replaced only after 15 minutes without news.)
        return counts
    for item_id in message["ids"]:
        if message["kind"] == "expire":
            expire_certificate(item_id)
        else:
            _count(counts, charge(item_id, month, pass_id))
    now = now_utc_iso()
    if runs.record_batch(month, pass_id, int(message["batch"]), counts, now):
        observability.count(observability.ITEMS_CHARGED, counts["charged_count"])
        observability.count(observability.ITEMS_FAILED, counts["failed_count"])
        observability.count(observability.KOPECKS_CHARGED, counts["charged_kopecks"])
        observability.count(observability.KOPECKS_RELEASED, counts["released_kopecks"])
    _complete_pass(month, pass_id, now)
    return counts


def _complete_pass(month: str, pass_id: str, now: str) -> None:
    if runs.complete_if_done(month, pass_id, now):
        run = runs.get_run(month)
        started = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
        finished = datetime.fromisoformat(now.replace("Z", "+00:00"))
        seconds = (finished - started).total_seconds()
        observability.count(observability.DEBIT_RUN_SECONDS, seconds, MetricUnit.Seconds)


def _count(counts: dict[str, int], outcome: tuple[str, int, int]) -> None:
    kind, charged, released = outcome
    if kind == "charged":
        counts["charged_count"] += 1
        counts["charged_kopecks"] += charged
        counts["released_kopecks"] += released
    elif kind == "already":
        counts["already_charged_count"] += 1
    elif kind == "failed":
        counts["failed_count"] += 1


def charge(enrollment_id: str, month: str, pass_id: str) -> tuple[str, int, int]:
    """Charge the month of one enrollment (and complete it if it ends); the outcome counts."""
    for attempt in range(ATTEMPTS):
        backoff(attempt)
        try:
            head, months = accounts.get_enrollment(enrollment_id)
        except NotFound:
            return "failed", 0, 0
        target = next((m for m in months if m.month == month), None)
        outcome = _settled(target, pass_id)
        ends_here = head.status == "active" and head.end_month == month
        if outcome is not None:
            if ends_here:
                _complete(head)
            return outcome
        if target is None:
            return "skipped", 0, 0
        try:
            return _charge_once(head, target, pass_id, ends_here)
        except Cancelled:
            continue  # the enrollment or its certificate moved: read again
    return "failed", 0, 0


def _settled(target: MonthItem | None, pass_id: str) -> tuple[str, int, int] | None:
    """The outcome of a month that needs no charge now, or None if it is to be charged."""
    if target is None or target.status == "cancelled" or not target.certificate_id:
        return "skipped", 0, 0
    if target.status == "charged":
        if target.charged_pass == pass_id:  # this pass charged it, on an earlier attempt
            charged = int(target.charged_kopecks)
            return "charged", charged, int(target.certificate_kopecks) - charged
        return "already", 0, 0
    return None


def _charge_once(
    head: EnrollmentItem, target: MonthItem, pass_id: str, ends_here: bool
) -> tuple[str, int, int]:
    amount = int(target.certificate_kopecks)
    charged = rules.charge_for(amount, int(target.completeness_percent))
    released = amount - charged
    certificate = accounts.get_certificate(str(target.certificate_id))
    tx = Transaction()
    tx.update(
        "month",
        target,
        [
            MonthItem.status.set("charged"),
            MonthItem.charged_kopecks.set(charged),
            MonthItem.charged_pass.set(pass_id),
            # From the due shard to the done shard: what every later pass recounts.
            MonthItem.duepk.set(accounts.done_key(target.month, head.enrollment_id)),
        ],
        # A report that lands after this read must not be overtaken by a stale percent.
        (MonthItem.status == "pending")
        & (MonthItem.completeness_percent == int(target.completeness_percent)),
    )
    movements = [
        Movement("debit", charged, head.enrollment_id, target.month),
        Movement("release", released, head.enrollment_id, target.month),
    ]
    if certificate.status == "expired":
        movements.append(Movement("expire", released, head.enrollment_id, target.month))
    now = now_utc_iso()
    money.move(tx, certificate, movements, now)
    if ends_here:
        _completion(tx, head)
    with unavailable_on_failure():
        tx.commit(_connection())
    return "charged", charged, released


def _completion(tx: Transaction, head: EnrollmentItem) -> None:
    end_enrollment(tx, head, "completed", head.end_month)


def _complete(head: EnrollmentItem) -> None:
    """An enrollment whose last month needs no charge (free, or charged before) completes."""
    tx = Transaction()
    _completion(tx, head)
    try:
        with unavailable_on_failure():
            tx.commit(_connection())
    except Cancelled:
        pass  # completed by another attempt meanwhile


def expire_certificate(certificate_id: str) -> None:
    """The period is over: what is left on the balance expires, and so does the certificate."""
    for _ in range(ATTEMPTS):
        certificate = accounts.get_certificate(certificate_id)
        if certificate.status == "expired":
            return
        tx = Transaction()
        money.move(
            tx,
            certificate,
            [Movement("expire", int(certificate.balance))],
            now_utc_iso(),
            expire=True,
        )
        try:
            with unavailable_on_failure():
                tx.commit(_connection())
        except Cancelled:
            continue
        return
    raise StoreUnavailable("The certificate kept changing; the batch will be retried.")
