"""Settings, read from the environment once and lazily (never at import time)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache

from navigator.domain.errors import StoreUnavailable

# Development defaults: the local stack needs no configuration, and every
# process of it (server, workers, CLI) derives the same values.
DEV_JWT_SECRET = "navigator-local-development-signing-secret"
DEV_SNILS_HMAC_KEY = "navigator-local-development-snils-key"
DEV_CURSOR_KEY = "navigator-local-development-cursor-key"
# The Lambda runtime sets both in every function's environment: the function's name, and
# AWS_EXECUTION_ENV=AWS_Lambda_python3.11. (Chalice, the local gateway, sets AWS_EXECUTION_ENV
# to "AWS_Lambda aws-chalice/<version>" in its own process: that is not Lambda.)
LAMBDA_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"
LAMBDA_EXECUTION_ENV = "AWS_EXECUTION_ENV"
LAMBDA_RUNTIME_PREFIX = "AWS_Lambda_"
# How long a container keeps a secret read from SSM before reading it again.
PARAMETER_MAX_AGE_SECONDS = 300

LOG = logging.getLogger("navigator.settings")


class MissingSecret(RuntimeError):
    """A secret that a function in AWS must be given was not: it stops rather than guess."""


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
    cursor_key: str | None
    cursor_key_parameter: str | None
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
        cursor_key=env.get("CURSOR_KEY") or None,
        cursor_key_parameter=env.get("CURSOR_KEY_PARAMETER") or None,
        catalog_bucket=env.get("CATALOG_SNAPSHOT_BUCKET", "navigator-catalog-snapshots"),
        registers_bucket=env.get("REGISTERS_BUCKET") or None,
        catalog_refresh_seconds=float(env.get("CATALOG_REFRESH_SECONDS", "1")),
    )


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()


def in_lambda() -> bool:
    """Whether this process is a Lambda function (the runtime's own environment says so)."""
    if os.environ.get(LAMBDA_FUNCTION_NAME):
        return True
    return os.environ.get(LAMBDA_EXECUTION_ENV, "").startswith(LAMBDA_RUNTIME_PREFIX)


def secret(value: str | None, parameter: str | None, dev_default: str, what: str) -> bytes:
    """A secret: its value from the environment, else its SSM SecureString, else the dev default.

    In Lambda there is no dev default: a secret given neither way stops the function with
    MissingSecret and a log line that names it (a SNILS hash under a known key is reversible,
    and a cursor signed with one can be forged). An SSM parameter that cannot be read is
    StoreUnavailable (503, retried), never the dev default either.
    """
    if value:
        return value.encode()
    if parameter:
        # Imported here: only the functions that read a secret from SSM pay for it.
        from aws_lambda_powertools.utilities import parameters

        try:
            found = parameters.get_parameter(
                parameter, decrypt=True, max_age=PARAMETER_MAX_AGE_SECONDS
            )
        except parameters.exceptions.GetParameterError as error:
            raise StoreUnavailable() from error
        return str(found).encode()
    if in_lambda():
        message = (
            f"{what} is not configured (neither its value nor its SSM parameter): "
            "refusing the development key in Lambda"
        )
        LOG.critical(message)
        raise MissingSecret(message)
    return dev_default.encode()


def snils_hmac_key() -> bytes:
    """The HMAC key of SNILS hashes: SNILS_HMAC_KEY, else SSM's SNILS_HMAC_PARAMETER."""
    settings = get_settings()
    return secret(
        settings.snils_hmac_key, settings.snils_hmac_parameter, DEV_SNILS_HMAC_KEY, "SNILS HMAC key"
    )


def cursor_key() -> bytes:
    """The key that signs list cursors: CURSOR_KEY, else SSM's CURSOR_KEY_PARAMETER."""
    settings = get_settings()
    return secret(settings.cursor_key, settings.cursor_key_parameter, DEV_CURSOR_KEY, "cursor key")
