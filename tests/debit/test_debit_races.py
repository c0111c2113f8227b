"""Two runs of the same month started at the same moment, in real threads, on the embedded
DynamoDB server: one pass, every item charged once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support.races import PARENT, race_child, race_program


def test_simultaneous_runs_of_a_month_make_one_pass_and_charge_once(server, monkeypatch):
    from navigator.service import debit, enrollments
    from navigator.service.views import run_view
    from navigator.settings import reset_settings
    from navigator.store.runs import get_run

    program = race_program(capacity=20)
    for _ in range(12):
        enrollments.enroll(PARENT, race_child(), program, accept_copay=True)
    monkeypatch.setenv("NAVIGATOR_TODAY", "2026-10-03")
    monkeypatch.delenv("DEBIT_DISPATCH_BACKGROUND", raising=False)  # the winner dispatches
    reset_settings()
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(lambda _: debit.start_run("2026-09"), range(4)))
    passes = {r["started_at"] for r in reports}
    assert len(passes) == 1  # everyone joined the one pass
    final = run_view(get_run("2026-09"))
    assert final["status"] == "completed"
    assert (final["due_count"], final["charged_count"]) == (12, 12)
    assert final["charged_kopecks"] == 12 * 100_000
    assert (final["already_charged_count"], final["failed_count"]) == (0, 0)
