"""How a debit pass reaches its workers: the SQS queue in AWS, this process locally.

The run's planning (service/debit.py) talks to a Dispatcher only; which one is the edge's
choice (the handlers, from their settings, or the `navigator debit` command).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, Protocol

from navigator.domain.errors import StoreUnavailable

Progress = Callable[[int], None]
SEND_AT_ONCE = 10  # SQS SendMessageBatch takes ten messages
INLINE_TRIES = 3


class Dispatcher(Protocol):
    def hand_off(self, month: str, pass_id: str) -> bool:
        """Enumerate and send a started pass (or have it done); True when it was enumerated
        here, so the run read now tells what was due."""
        ...

    def send(self, messages: list[dict[str, Any]]) -> None:
        """Deliver batches (at most SEND_AT_ONCE) to whatever charges them."""
        ...


class InProcess:
    """Batches charged in this process, as a worker would; the local stack's POST answers
    while the pass runs on in a thread, like the dispatcher Lambda's asynchronous invoke."""

    def __init__(self, progress: Progress | None = None, background: bool = False) -> None:
        self.progress = progress
        self.background = background

    def hand_off(self, month: str, pass_id: str) -> bool:
        from navigator.service import debit

        if self.background:
            threading.Thread(
                target=debit.dispatch, args=(month, pass_id, self), daemon=True
            ).start()
            return False
        debit.dispatch(month, pass_id, self)
        return True

    def send(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            self._process(message)
            if self.progress:
                self.progress(len(message["ids"]))

    @staticmethod
    def _process(message: dict[str, Any]) -> None:
        """There is no queue to retry a batch here: retry it here, as SQS would."""
        from navigator.service import debit

        for attempt in range(INLINE_TRIES):
            try:
                debit.process_batch(message)
                return
            except StoreUnavailable:
                if attempt == INLINE_TRIES - 1:
                    raise


class Sqs:
    """AWS: the dispatcher Lambda enumerates (invoked asynchronously when `dispatcher_function`
    is set, else right here), and SQS carries the batches to the workers."""

    def __init__(self, queue_url: str, dispatcher_function: str | None = None) -> None:
        self.queue_url = queue_url
        self.dispatcher_function = dispatcher_function

    def hand_off(self, month: str, pass_id: str) -> bool:
        import boto3

        from navigator.service import debit

        if not self.dispatcher_function:
            debit.dispatch(month, pass_id, self)
            return True
        boto3.client("lambda").invoke(
            FunctionName=self.dispatcher_function,
            InvocationType="Event",
            Payload=json.dumps({"dispatch": {"month": month, "pass_id": pass_id}}).encode(),
        )
        return False

    def send(self, messages: list[dict[str, Any]]) -> None:
        import boto3

        entries = [{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(messages)]
        sqs = boto3.client("sqs")
        failed = sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed")
        if failed:
            raise StoreUnavailable(f"{len(failed)} debit batches were not queued")
