"""The monthly debit's runs: start or join a month's pass, plan its batches, report them.

A pass enumerates what is due from the sparse, write-sharded `due` index (never the whole
table), hands batches of enrollments to a Dispatcher (service/dispatchers.py: SQS in AWS,
in-process locally), and each batch reports its counts once. The charge of each item is
service/charging.py's.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from navigator import metrics
from navigator.domain.calendar import current_month, now_utc_iso
from navigator.domain.errors import Conflict
from navigator.service import charging
from navigator.service.charging import Outcome, Result
from navigator.service.dispatchers import Batches, Dispatcher, InProcess
from navigator.service.views import run_view
from navigator.store import accounts, periods, runs
from navigator.store.base import ATTEMPTS

BATCH_SIZE = 25
# A running pass that showed no progress for this long (its dispatcher died, or its batches
# went to the dead-letter queue) may be replaced by a new pass.
STALE_PASS = timedelta(minutes=15)


# ------------------------------------------------------------------- runs


def start_run(month: str, dispatcher: Dispatcher | None = None) -> dict[str, Any]:
    """POST /debit-runs and the schedule: join a running pass, or start a new one.

    Without a dispatcher the pass runs here, to its end, before the answer."""
    if month >= current_month():
        raise Conflict("The month has not ended yet.", code="month_not_closed")
    dispatcher = dispatcher or InProcess()
    for _ in range(ATTEMPTS):
        run = runs.find_run(month)
        if run is not None and run.status == "running" and not _stale(run):
            return run_view(run)
        pass_id = "pass-" + secrets.token_hex(6)
        if runs.start_pass(month, pass_id, now_utc_iso(), run):
            started = run_view(runs.get_run(month))
            if dispatcher.hand_off(month, pass_id):
                return get_run(month)
            return started
    return get_run(month)


def _stale(run: runs.RunItem) -> bool:
    stamp = run.updated_at or run.started_at
    last = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return datetime.now(last.tzinfo) - last > STALE_PASS


def get_run(month: str) -> dict[str, Any]:
    return run_view(runs.get_run(month))


def dispatch(month: str, pass_id: str, dispatcher: Dispatcher) -> None:
    """Enumerate the month's due and ending enrollments and its period's expiry, one due shard
    at a time, sending full batches as they fill (memory bounded by one shard)."""
    # The month's totals so far, counted from the charged months themselves: a batch that
    # charged and then died before reporting is counted here, never twice. The index may
    # lag behind charges: a charged month it still shows as due goes to a batch, which
    # counts it (it is not in the batch's `counted`), so the pass's final report is exact.
    charges = _batches(month, pass_id, "charge", 0, dispatcher)
    counted = pending = 0
    for shard in range(accounts.DUE_SHARDS):
        charged = accounts.charged_months(month, shard)
        runs.add_shard_totals(
            month,
            pass_id,
            shard,
            len(charged),
            sum(took for took, _ in charged.values()),
            sum(left for _, left in charged.values()),
        )
        counted += len(charged)
        due = set(accounts.due_enrollments(month, shard)) - charged.keys()
        pending += len(due)
        ids = sorted(due | set(accounts.ending_enrollments(month, shard)))
        charges.add(ids, {i for i in ids if i in charged})
    sent = charges.close()
    period = _period_ending_in(month)
    if period is not None:
        expiries = _batches(month, pass_id, "expire", sent, dispatcher)
        for shard in range(accounts.DUE_SHARDS):
            expiries.add(sorted(accounts.certificates_of_period(period, shard)))
        sent = expiries.close()
    runs.set_expected(month, pass_id, counted + pending, sent)
    _complete_pass(month, pass_id, now_utc_iso())


def _batches(month: str, pass_id: str, kind: str, first: int, dispatcher: Dispatcher) -> Batches:
    head = {"month": month, "pass_id": pass_id, "kind": kind}
    return Batches(head, BATCH_SIZE, dispatcher.send, first)


def _period_ending_in(month: str) -> str | None:
    for period in periods.read_periods()[1]:
        if period.ends_on[:7] == month:
            return str(period.period_id)
    return None


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
    fresh = dict(counts)  # what this batch charged itself: the metrics
    counted = set(message.get("counted", ()))
    for item_id in message["ids"]:
        if message["kind"] == "expire":
            charging.expire_certificate(item_id)
            continue
        outcome = charging.charge(item_id, month, pass_id)
        _count(fresh, outcome)
        _count(counts, outcome)
        if outcome.result is Result.ALREADY and item_id not in counted:
            # Charged by an earlier pass, but not in this pass's starting point (the index
            # had not moved it yet): its charge is part of the month's totals.
            _count(counts, replace(outcome, result=Result.CHARGED))
    now = now_utc_iso()
    if runs.record_batch(month, pass_id, int(message["batch"]), counts, now):
        metrics.count(metrics.ITEMS_CHARGED, fresh["charged_count"])
        metrics.count(metrics.ITEMS_FAILED, fresh["failed_count"])
        metrics.count(metrics.KOPECKS_CHARGED, fresh["charged_kopecks"])
        metrics.count(metrics.KOPECKS_RELEASED, fresh["released_kopecks"])
    _complete_pass(month, pass_id, now)
    return counts


def _complete_pass(month: str, pass_id: str, now: str) -> None:
    if runs.complete_if_done(month, pass_id, now):
        run = runs.get_run(month)
        started = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
        finished = datetime.fromisoformat(now.replace("Z", "+00:00"))
        seconds = (finished - started).total_seconds()
        metrics.count(metrics.DEBIT_RUN_SECONDS, seconds, MetricUnit.Seconds)


def _count(counts: dict[str, int], outcome: Outcome) -> None:
    if outcome.result is Result.CHARGED:
        counts["charged_count"] += 1
        counts["charged_kopecks"] += outcome.charged_kopecks
        counts["released_kopecks"] += outcome.released_kopecks
    elif outcome.result is Result.ALREADY:
        counts["already_charged_count"] += 1
    elif outcome.result is Result.FAILED:
        counts["failed_count"] += 1
