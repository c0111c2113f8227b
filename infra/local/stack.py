"""The local stack: the embedded DynamoDB (or DYNAMODB_ENDPOINT), tables, demo data, gateway."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import boto3

from navigator.settings import get_settings, reset_settings
from navigator.store.base import reset_connections
from navigator.store.snapshot_blob import reset as reset_blob_client

# The snapshot function's schedule in the template, played by a thread of the local stack.
SNAPSHOT_EVERY_SECONDS = 60

LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
    # Metrics go to stdout as EMF in Lambda; locally they are noise.
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "navigator-local",
    "POWERTOOLS_METRICS_NAMESPACE": "Navigator",
}


def use_endpoint(endpoint: str) -> None:
    """Point this process (and the workers it starts) at a DynamoDB endpoint."""
    for key, value in LOCAL_AWS_ENV.items():
        os.environ.setdefault(key, value)
    os.environ["DYNAMODB_ENDPOINT"] = endpoint
    reset_settings()
    reset_connections()
    reset_blob_client()


def dynamodb_client() -> Any:
    settings = get_settings()
    return boto3.client(
        "dynamodb", endpoint_url=settings.dynamodb_endpoint, region_name=settings.region
    )


def table_names() -> dict[str, str]:
    settings = get_settings()
    return {
        "CATALOG_TABLE": settings.catalog_table,
        "PEOPLE_TABLE": settings.people_table,
        "ACCOUNTS_TABLE": settings.accounts_table,
        "OPERATIONS_TABLE": settings.operations_table,
        "IDEMPOTENCY_TABLE": settings.idempotency_table,
        "INVOICES_TABLE": settings.invoices_table,
    }


def ensure_tables() -> list[str]:
    """The template's tables and buckets, created where missing."""
    from infra.template import create_buckets, create_tables

    settings = get_settings()
    created = create_tables(dynamodb_client(), table_names())
    s3 = boto3.client("s3", endpoint_url=settings.dynamodb_endpoint, region_name=settings.region)
    # Without REGISTERS_BUCKET a register is answered inline (the local gateway has no 6 MB
    # limit): no bucket is made for it then.
    buckets = {
        "CATALOG_SNAPSHOT_BUCKET": settings.catalog_bucket,
        "REGISTERS_BUCKET": settings.registers_bucket,
    }
    return created + create_buckets(s3, buckets, settings.region)


def worker_env() -> dict[str, str]:
    keys = (
        set(LOCAL_AWS_ENV)
        | set(table_names())
        | {
            "DYNAMODB_ENDPOINT",
            "NAVIGATOR_TODAY",
            "NAVIGATOR_JWT_SECRET",
            "SNILS_HMAC_KEY",
            "CURSOR_KEY",
            "CATALOG_REFRESH_SECONDS",
        }
    )
    env = {k: os.environ[k] for k in keys if k in os.environ}
    # POST /debit-runs answers while its pass runs on, as with the dispatcher Lambda.
    env["DEBIT_DISPATCH_BACKGROUND"] = "1"
    return env


LOG = logging.getLogger("navigator.stack")


@dataclass
class _Stopper:
    event: Any
    thread: Any

    def stop(self) -> None:
        self.event.set()
        # A build under way finishes before the embedded DynamoDB it reads is stopped.
        self.thread.join(timeout=30)


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    port: int = 3000
    workers: int = 4
    demo: bool = True
    dynamodb_port: int = 0
    _parts: list[Any] = field(default_factory=list)
    url: str = ""
    dynamodb_endpoint: str = ""

    def start(self) -> str:
        from infra.local.gateway import LocalGateway
        from infra.local.workers import WorkerPool
        from infra.template import api_routes

        endpoint = os.environ.get("DYNAMODB_ENDPOINT")
        if not endpoint:
            from infra.local.dynamodb import EmbeddedDynamoDB

            db = EmbeddedDynamoDB(port=self.dynamodb_port)
            endpoint = db.start()
            self._parts.append(db)
        self.dynamodb_endpoint = endpoint
        use_endpoint(endpoint)
        ensure_tables()
        if self.demo:
            from infra.local.demo import load_demo

            load_demo()
        self._start_snapshots()
        routes = api_routes()
        pool = WorkerPool(self.workers, worker_env())
        self._parts.append(pool)
        pool.warm(sorted({r.handler for r in routes}))
        gateway = LocalGateway(routes, pool, self.host, self.port)
        self._parts.append(gateway)
        self.url = gateway.start()
        return self.url

    def _start_snapshots(self) -> None:
        import threading

        from catalog.snapshot import build_snapshot

        build_snapshot()
        stopped = threading.Event()

        def every_minute() -> None:
            while not stopped.wait(SNAPSHOT_EVERY_SECONDS):
                try:
                    build_snapshot()
                except Exception:  # noqa: BLE001 - the next minute tries again, as Lambda would
                    LOG.exception("catalog snapshot failed")

        thread = threading.Thread(target=every_minute, daemon=True)
        thread.start()
        self._parts.append(_Stopper(stopped, thread))

    def stop(self) -> None:
        for part in reversed(self._parts):
            stop = getattr(part, "stop", None) or part.shutdown
            stop()
        self._parts.clear()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
