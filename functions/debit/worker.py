"""Debit workers: each SQS message is one batch; failed messages return to the queue."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from navigator.metrics import metrics
from navigator.service import debit

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    try:
        message = json.loads(record.body)
        counts = debit.process_batch(message)
    except Exception:
        # The message returns to the queue (and after 5 receives to the DLQ): say why.
        logger.exception("debit batch failed", extra={"message_id": record.message_id})
        raise
    logger.info("debit batch", extra={"batch": message.get("batch"), **counts})


@logger.inject_lambda_context
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
