"""The monthly schedule's target, and the dispatcher that POST /debit-runs invokes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from debit.dispatchers import from_settings
from navigator.domain.calendar import DOMAIN_TZ, previous_month_of, today
from navigator.metrics import metrics
from navigator.service import debit

logger = Logger()


class RefusedScheduleEvent(ValueError):
    """A scheduled event whose time is missing, unsubstituted or impossible: nothing is charged."""


def _refuse(stamp: Any, why: str) -> RefusedScheduleEvent:
    # Loud: an error line here, and the invocation fails (its retries, then the dispatcher's
    # failure queue and its alarm). Only the time is logged, cut short.
    logger.error("scheduled event refused", extra={"reason": why, "time": repr(stamp)[:64]})
    return RefusedScheduleEvent(f"scheduled event refused: {why}")


def month_to_charge(event: dict[str, Any]) -> str:
    """The month before the event's own time (Asia/Krasnoyarsk), never the wall clock's.

    Refused (RefusedScheduleEvent): no time, a placeholder the scheduler did not substitute
    (`<aws.scheduler.scheduled-time>`), a time that is not ISO 8601 with its offset, and a
    time after today (the month it would charge has not ended).
    """
    stamp = event.get("scheduled_time") or event.get("time")
    if not stamp or not isinstance(stamp, str):
        raise _refuse(stamp, "the event carries no time")
    if "<" in stamp or "aws." in stamp:
        raise _refuse(stamp, "the scheduler did not substitute the event's time")
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise _refuse(stamp, "the event's time is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise _refuse(stamp, "the event's time has no UTC offset")
    if moment.astimezone(DOMAIN_TZ).date() > today():
        raise _refuse(stamp, "the event's time is in the future")
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
