"""The monthly schedule's target, and the dispatcher that POST /debit-runs invokes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from debit.dispatchers import from_settings
from navigator.domain.calendar import previous_month_of
from navigator.metrics import metrics
from navigator.service import debit

logger = Logger()


def month_to_charge(event: dict[str, Any]) -> str:
    """The month before the event's own time (Asia/Krasnoyarsk), never the wall clock's."""
    stamp = event.get("scheduled_time") or event.get("time")
    if not stamp:
        raise ValueError("the schedule's event carries no time")
    moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return previous_month_of(moment)


@logger.inject_lambda_context
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "dispatch" in event:  # POST /debit-runs started a pass and handed it here
        job = event["dispatch"]
        debit.dispatch(job["month"], job["pass_id"], from_settings(here=True))
        return debit.get_run(job["month"])
    month = month_to_charge(event)
    logger.info("monthly debit", extra={"month": month})
    # A retried event joins the pass that the first delivery started.
    return dict(debit.start_run(month, from_settings(here=True)))
