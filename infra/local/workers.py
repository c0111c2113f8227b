"""Handlers run as Lambda runs them: each in a worker process, one event at a time.

Powertools keeps the current event on the resolver class, so handlers must never share a
process between concurrent requests; several workers still run in parallel, so the races
between requests are real.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import uuid
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

_handlers: dict[str, Any] = {}


@dataclass
class LocalLambdaContext:
    """What Powertools reads from Lambda's context object."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:navigator"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _handler(spec: str) -> Any:
    """`module.attr` of the template's Handler, imported once per worker (a warm container)."""
    if spec not in _handlers:
        module_name, attr = spec.rsplit(".", 1)
        _handlers[spec] = getattr(importlib.import_module(module_name), attr)
    return _handlers[spec]


def invoke(spec: str, event: dict[str, Any]) -> dict[str, Any]:
    context = LocalLambdaContext(
        function_name=spec.split(".", 1)[0], aws_request_id=str(uuid.uuid4())
    )
    return dict(_handler(spec)(event, context))


def _warm(specs: list[str]) -> int:
    for spec in specs:
        _handler(spec)
    return os.getpid()


def _init_worker(env: dict[str, str]) -> None:
    os.environ.update(env)
    # Powertools warns on every invocation that publishes no metric; locally that is noise.
    warnings.filterwarnings("ignore", message="No application metrics to publish")


class WorkerPool:
    def __init__(self, workers: int, env: dict[str, str]) -> None:
        self._workers = workers
        self._env = env
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._env,),
        )

    def warm(self, specs: list[str]) -> None:
        """Import every handler in every worker, so the first requests don't pay cold starts."""
        futures = [self._pool.submit(_warm, specs) for _ in range(self._workers * 2)]
        for future in futures:
            future.result()

    def submit(self, spec: str, event: dict[str, Any]) -> Future[dict[str, Any]]:
        try:
            return self._pool.submit(invoke, spec, event)
        except BrokenProcessPool:
            self._pool = self._new_pool()
            return self._pool.submit(invoke, spec, event)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
