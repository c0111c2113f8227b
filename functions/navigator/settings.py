"""Settings, read from the environment once and lazily (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

# Development defaults: the local stack needs no configuration, and every
# process of it (server, workers, CLI) derives the same values.
DEV_JWT_SECRET = "navigator-local-development-signing-secret"
DEV_SNILS_HMAC_KEY = "navigator-local-development-snils-key"
DEV_CURSOR_KEY = "navigator-local-development-cursor-key"


@dataclass(frozen=True)
class Settings:
    catalog_table: str
    people_table: str
    accounts_table: str
    operations_table: str
    idempotency_table: str
    invoices_table: str
    dynamodb_endpoint: str | None
    region: str
    today_override: str | None
    snils_hmac_key: str | None
    snils_hmac_parameter: str | None
    debit_queue_url: str | None
    debit_dispatcher_function: str | None
    debit_dispatch_background: bool
    invoice_queue_url: str | None
    invoice_dispatcher_function: str | None
    cursor_key: str
    catalog_bucket: str
    registers_bucket: str | None  # large registers; None: answered inline (the local stack)
    catalog_refresh_seconds: float


@cache
def get_settings() -> Settings:
    env = os.environ
    return Settings(
        catalog_table=env.get("CATALOG_TABLE", "navigator-catalog"),
        people_table=env.get("PEOPLE_TABLE", "navigator-people"),
        accounts_table=env.get("ACCOUNTS_TABLE", "navigator-accounts"),
        operations_table=env.get("OPERATIONS_TABLE", "navigator-operations"),
        idempotency_table=env.get("IDEMPOTENCY_TABLE", "navigator-idempotency"),
        invoices_table=env.get("INVOICES_TABLE", "navigator-invoices"),
        dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-central-1",
        today_override=env.get("NAVIGATOR_TODAY") or None,
        snils_hmac_key=env.get("SNILS_HMAC_KEY") or None,
        snils_hmac_parameter=env.get("SNILS_HMAC_PARAMETER") or None,
        debit_queue_url=env.get("DEBIT_QUEUE_URL") or None,
        debit_dispatcher_function=env.get("DEBIT_DISPATCHER_FUNCTION") or None,
        debit_dispatch_background=env.get("DEBIT_DISPATCH_BACKGROUND", "") == "1",
        invoice_queue_url=env.get("INVOICE_QUEUE_URL") or None,
        invoice_dispatcher_function=env.get("INVOICE_DISPATCHER_FUNCTION") or None,
        cursor_key=env.get("CURSOR_KEY") or DEV_CURSOR_KEY,
        catalog_bucket=env.get("CATALOG_SNAPSHOT_BUCKET", "navigator-catalog-snapshots"),
        registers_bucket=env.get("REGISTERS_BUCKET") or None,
        catalog_refresh_seconds=float(env.get("CATALOG_REFRESH_SECONDS", "1")),
    )


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
