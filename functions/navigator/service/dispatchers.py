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
        from navigator.service import debit

        process_here(debit.process_batch, message)


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
        queue(self.queue_url, messages, "debit batches")


# The pieces every kind of pass shares (the debit's and the invoices'): filling batches,
# queueing them, and running one here with the retries SQS would give it.


class Batches:
    """Fills batches of `size` ids under `key` and numbers them from `first`; hands them to
    `send` SEND_AT_ONCE at a time (one SQS SendMessageBatch)."""

    def __init__(
        self,
        head: dict[str, Any],
        size: int,
        send: Callable[[list[dict[str, Any]]], None],
        first: int = 0,
        key: str = "ids",
    ) -> None:
        self._head = head
        self._size = size
        self._send = send
        self._next = first
        self._key = key
        self._ids: list[str] = []
        self._counted: set[str] = set()
        self._out: list[dict[str, Any]] = []

    def add(self, ids: list[str], counted: set[str] | None = None) -> None:
        """`counted`: those of `ids` whose effect the pass's totals hold already; a batch
        names its own under "counted"."""
        self._ids += ids
        self._counted |= counted or set()
        while len(self._ids) >= self._size:
            self._batch(self._ids[: self._size])
            self._ids = self._ids[self._size :]

    def close(self) -> int:
        """Send what is left; the next free batch number."""
        if self._ids:
            self._batch(self._ids)
            self._ids = []
        self._flush()
        return self._next

    def _batch(self, ids: list[str]) -> None:
        message = {**self._head, self._key: ids, "batch": self._next}
        counted = [i for i in ids if i in self._counted]
        if counted:
            message["counted"] = counted
            self._counted -= set(counted)
        self._out.append(message)
        self._next += 1
        if len(self._out) == SEND_AT_ONCE:
            self._flush()

    def _flush(self) -> None:
        if self._out:
            self._send(self._out)
            self._out = []


def queue(queue_url: str, messages: list[dict[str, Any]], what: str) -> None:
    """Send at most SEND_AT_ONCE messages in one SendMessageBatch; a refusal is a 503."""
    import boto3

    entries = [{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(messages)]
    sqs = boto3.client("sqs")
    failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")
    if failed:
        raise StoreUnavailable(f"{len(failed)} {what} were not queued")


def process_here(process: Callable[[dict[str, Any]], Any], message: dict[str, Any]) -> None:
    """There is no queue to retry a batch in this process: retry it here, as SQS would."""
    for attempt in range(INLINE_TRIES):
        try:
            process(message)
            return
        except StoreUnavailable:
            if attempt == INLINE_TRIES - 1:
                raise
