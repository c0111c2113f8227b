"""Debit runs, in the operations table: one run item per month and one report per batch.

run     RUN#{month} / RUN                  the month's report (API.md's DebitRun)
batch   RUN#{month} / PASS#{pass}#B#{n}    written once per batch: its counts are added to
                                           the run in the same transaction, so a retried
                                           batch can never count twice
shard   RUN#{month} / PASS#{pass}#S#{n}    the same, once per due shard, for the months the
                                           pass found charged before it (its starting point)
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from navigator.domain.calendar import now_utc_iso
from navigator.domain.errors import NotFound
from navigator.store.base import (
    Cancelled,
    TableMeta,
    Transaction,
    only_conflicts,
    register,
    retrying,
    unavailable_on_failure,
)

RUN_SK = "RUN"
COUNTERS = (
    "charged_count",
    "charged_kopecks",
    "released_kopecks",
    "already_charged_count",
    "failed_count",
)


@register
class RunItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "operations_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=RUN_SK)
    month = UnicodeAttribute()
    status = UnicodeAttribute()
    pass_id = UnicodeAttribute()
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    due_count = NumberAttribute(default=0)
    charged_count = NumberAttribute(default=0)
    charged_kopecks = NumberAttribute(default=0)
    released_kopecks = NumberAttribute(default=0)
    already_charged_count = NumberAttribute(default=0)
    failed_count = NumberAttribute(default=0)
    expected_batches = NumberAttribute(null=True)
    done_batches = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)  # the pass's last sign of life


@register
class BatchReportItem(Model):
    class Meta(metaclass=TableMeta):
        settings_field = "operations_table"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    charged_count = NumberAttribute(default=0)
    charged_kopecks = NumberAttribute(default=0)
    released_kopecks = NumberAttribute(default=0)
    already_charged_count = NumberAttribute(default=0)
    failed_count = NumberAttribute(default=0)
    created_at = UnicodeAttribute()


def run_key(month: str) -> str:
    return f"RUN#{month}"


def find_run(month: str) -> RunItem | None:
    with unavailable_on_failure():
        try:
            return RunItem.get(run_key(month), RUN_SK, consistent_read=True)
        except RunItem.DoesNotExist:
            return None


def get_run(month: str) -> RunItem:
    run = find_run(month)
    if run is None:
        raise NotFound("No debit run for this month.")
    return run


def start_pass(month: str, pass_id: str, now: str, previous: RunItem | None) -> bool:
    """Start a pass, unless another started or showed progress since `previous` was read."""
    item = RunItem(pk=run_key(month))
    # The pass read before is still the last one, unchanged since: completed, or running
    # without a sign of life (the caller judged it stale).
    condition = (
        RunItem.pk.does_not_exist()
        if previous is None
        else (RunItem.pass_id == previous.pass_id) & (RunItem.updated_at == previous.updated_at)
    )
    actions = [
        RunItem.month.set(month),
        RunItem.status.set("running"),
        RunItem.pass_id.set(pass_id),
        RunItem.started_at.set(now),
        RunItem.updated_at.set(now),
        RunItem.finished_at.remove(),
        RunItem.expected_batches.remove(),
        RunItem.done_batches.set(0),
        # The pass counts the month again: each due shard adds what it found charged before
        # (add_shard_totals), each batch what it charges or finds charged and not yet counted.
        *(getattr(RunItem, name).set(0) for name in COUNTERS),
    ]
    if previous is None:
        actions.append(RunItem.due_count.set(0))
    tx = Transaction()
    tx.update("run", item, actions, condition)
    try:
        tx.commit()
    except Cancelled:
        return False
    return True


def add_shard_totals(
    month: str,
    pass_id: str,
    shard: int,
    charged_count: int,
    charged_kopecks: int,
    released_kopecks: int,
) -> None:
    """Add to the pass the months one due shard found charged by earlier passes (they are
    "already charged" for this one), once: a retried dispatcher adds nothing twice."""
    counts = {
        "charged_count": charged_count,
        "charged_kopecks": charged_kopecks,
        "released_kopecks": released_kopecks,
        "already_charged_count": charged_count,
    }
    _record_once(month, pass_id, f"PASS#{pass_id}#S#{shard:02d}", counts, [], None)


def set_expected(month: str, pass_id: str, due_count: int, batches: int) -> None:
    """All batches are sent: how many to wait for, and what was due."""
    item = RunItem(pk=run_key(month))
    with unavailable_on_failure():
        item.update(
            actions=[RunItem.due_count.set(due_count), RunItem.expected_batches.set(batches)],
            condition=RunItem.pass_id == pass_id,
        )


def record_batch(month: str, pass_id: str, batch: int, counts: dict[str, int], now: str) -> bool:
    """Add a batch's counts to the run once; False if this batch was already recorded."""
    progress = [RunItem.done_batches.add(1), RunItem.updated_at.set(now)]
    return _record_once(month, pass_id, f"PASS#{pass_id}#B#{batch:06d}", counts, progress, now)


def _record_once(
    month: str,
    pass_id: str,
    sk: str,
    counts: dict[str, int],
    more: list[Any],
    now: str | None,
) -> bool:
    """Put a report under `sk` once and add its counts to the run in the same transaction."""
    report = BatchReportItem(pk=run_key(month), sk=sk)
    report.created_at = now or now_utc_iso()
    for name in COUNTERS:
        setattr(report, name, counts.get(name, 0))
    run = RunItem(pk=run_key(month))
    tx = Transaction()
    tx.put("report", report, BatchReportItem.sk.does_not_exist())
    actions = [getattr(RunItem, name).add(counts.get(name, 0)) for name in COUNTERS] + more
    tx.update("run", run, actions, RunItem.pass_id == pass_id)
    return commit_unless_refused(tx)


def commit_unless_refused(tx: Transaction) -> bool:
    """True if committed; False if a condition refused it. Fifty workers write the one run
    item, so a transaction conflict with another is retried, never taken for a refusal."""
    try:
        retrying(tx.commit, retry=only_conflicts, what="The run's report")
    except Cancelled:
        return False
    return True


def complete_if_done(month: str, pass_id: str, now: str) -> bool:
    """Mark the pass completed once every batch it expects has reported."""
    tx = Transaction()
    tx.update(
        "run",
        RunItem(pk=run_key(month)),
        [RunItem.status.set("completed"), RunItem.finished_at.set(now)],
        (RunItem.pass_id == pass_id)
        & (RunItem.status == "running")
        & (RunItem.done_batches == RunItem.expected_batches),
    )
    return commit_unless_refused(tx)
