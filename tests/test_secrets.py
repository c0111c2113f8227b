"""Secrets fail closed in Lambda: no development key there, ever; SSM's secrets otherwise."""

from __future__ import annotations

import json
import logging
import uuid

import boto3
import pytest

from navigator.domain.errors import StoreUnavailable
from navigator.settings import (
    DEV_CURSOR_KEY,
    DEV_SNILS_HMAC_KEY,
    MissingSecret,
    cursor_key,
    in_lambda,
    reset_settings,
    snils_hmac_key,
)
from tests.support.api import PARENT, request

SECRETS = ("SNILS_HMAC_KEY", "SNILS_HMAC_PARAMETER", "CURSOR_KEY", "CURSOR_KEY_PARAMETER")
RUNTIME = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV")


@pytest.fixture
def bare(monkeypatch):
    """No secret configured, and not in Lambda."""
    from aws_lambda_powertools.utilities import parameters

    for name in SECRETS + RUNTIME:
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    parameters.clear_caches()
    yield monkeypatch
    reset_settings()
    parameters.clear_caches()


def lambda_runtime(monkeypatch, how: str) -> None:
    if how == "function name":
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "navigator-production-EnrollFunction")
    else:
        monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.11")


def test_outside_lambda_the_development_keys_serve_the_local_stack(bare):
    assert not in_lambda()
    assert snils_hmac_key() == DEV_SNILS_HMAC_KEY.encode()
    assert cursor_key() == DEV_CURSOR_KEY.encode()


def test_chalice_local_gateway_is_not_lambda(bare):
    bare.setenv("AWS_EXECUTION_ENV", "AWS_Lambda aws-chalice/1.34.0")  # what Chalice sets
    assert not in_lambda()
    assert cursor_key() == DEV_CURSOR_KEY.encode()


@pytest.mark.parametrize("how", ["function name", "execution environment"])
@pytest.mark.parametrize(
    ("read", "named"), [(snils_hmac_key, "SNILS HMAC key"), (cursor_key, "cursor key")]
)
def test_in_lambda_a_missing_secret_stops_with_a_log_line_naming_it(bare, caplog, how, read, named):
    lambda_runtime(bare, how)
    assert in_lambda()
    with caplog.at_level(logging.CRITICAL, logger="navigator.settings"):
        with pytest.raises(MissingSecret, match=named):
            read()
    (line,) = [r for r in caplog.records if r.name == "navigator.settings"]
    assert line.levelno == logging.CRITICAL
    assert named in line.getMessage() and "development key" in line.getMessage()


def test_in_lambda_a_configured_secret_is_used(bare):
    lambda_runtime(bare, "function name")
    bare.setenv("SNILS_HMAC_KEY", "the-region-s-key")
    bare.setenv("CURSOR_KEY", "the-cursor-key")
    reset_settings()
    assert snils_hmac_key() == b"the-region-s-key"
    assert cursor_key() == b"the-cursor-key"


def test_the_cursor_key_is_read_from_ssm_and_signs_the_cursors(aws, bare):
    from navigator.paging import decode_cursor, encode_cursor

    query = {"list": "periods"}
    development = encode_cursor(query, "2026-2027")
    name = f"/navigator/test/cursor-{uuid.uuid4().hex}"
    boto3.client("ssm").put_parameter(Name=name, Value="from-ssm", Type="SecureString")
    lambda_runtime(bare, "function name")
    bare.setenv("CURSOR_KEY_PARAMETER", name)
    reset_settings()
    assert cursor_key() == b"from-ssm"
    signed = encode_cursor(query, "2026-2027")
    assert signed != development
    assert decode_cursor(signed, query) == "2026-2027"


def test_an_unreadable_cursor_parameter_is_unavailable_not_the_development_key(aws, bare):
    lambda_runtime(bare, "function name")
    bare.setenv("CURSOR_KEY_PARAMETER", f"/navigator/missing-{uuid.uuid4().hex}")
    reset_settings()
    with pytest.raises(StoreUnavailable):
        cursor_key()


def test_in_lambda_without_the_snils_key_no_child_is_registered(aws, bare):
    lambda_runtime(bare, "function name")
    body = {
        "full_name": "Петров Иван",
        "birth_date": "2016-04-01",
        "municipality": "Красноярск",
        "snils": "112-233-445 95",
    }
    refused = request("POST", "/children", body=body, claims=PARENT)
    # A deployment error, not the caller's: 500 (the errors alarm fires), nothing stored.
    assert (refused.status, refused.code) == (500, "internal_error")
    assert body["snils"] not in json.dumps(refused.body)
    bare.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert request("GET", "/children", claims=PARENT).body["items"] == []
