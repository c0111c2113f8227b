"""The edge's choice of how a debit pass reaches its workers, from the function's settings."""

from __future__ import annotations

from navigator.service.dispatchers import Dispatcher, InProcess, Sqs
from navigator.settings import get_settings


def from_settings(here: bool = False) -> Dispatcher:
    """SQS when the function has a queue (the dispatcher Lambda enumerates, unless `here`);
    else this process: in a thread on the local stack, so POST /debit-runs answers at once."""
    settings = get_settings()
    if settings.debit_queue_url:
        function = None if here else settings.debit_dispatcher_function
        return Sqs(settings.debit_queue_url, function)
    return InProcess(background=settings.debit_dispatch_background and not here)
