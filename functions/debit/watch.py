"""On the 2nd of the month: was last month's debit run completed? The alarm listens."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from debit.dispatch import month_to_charge
from navigator.metrics import DEBIT_RUN_INCOMPLETE, count, metrics
from navigator.store.runs import find_run

logger = Logger()


@logger.inject_lambda_context
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    month = month_to_charge(event)
    run = find_run(month)
    complete = run is not None and run.status == "completed"
    count(DEBIT_RUN_INCOMPLETE, 0 if complete else 1)
    if not complete:
        logger.error("debit run not completed", extra={"month": month})
    return {"month": month, "completed": complete}
