"""The local stack over HTTP: embedded DynamoDB, the gateway, worker processes, tokens."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout

import pytest

from infra.local.tokens import issue_token
from tests.support.local_stack import http as http_to
from tests.support.local_stack import running_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack():
    with running_stack() as local:
        yield local


def http(stack, method, path, body=None, token=None, headers=None):
    return http_to(stack.url, method, path, body, token, headers)


def test_catalog_serves_the_demo_programs(stack):
    status, _, body = http(stack, "GET", "/programs?limit=100")
    assert status == 200
    assert len(body["items"]) == 100 and body["next_cursor"]
    status, _, body = http(
        stack, "GET", "/programs?municipality=%D0%9D%D0%BE%D1%80%D0%B8%D0%BB%D1%8C%D1%81%D0%BA"
    )
    assert status == 200 and body["items"]
    assert {p["municipality"] for p in body["items"]} == {"Норильск"}


def test_token_from_the_command_is_accepted(stack):
    from infra.cli import main
    from infra.local.demo import demo_provider_id

    provider_id = demo_provider_id()
    out = io.StringIO()
    with redirect_stdout(out):
        main(["token", "--role", "provider", "--sub", "clerk", "--provider-id", provider_id])
    token = out.getvalue().strip()
    status, _, body = http(stack, "GET", f"/providers/{provider_id}/programs", token=token)
    assert status == 200 and body["items"]


@pytest.mark.parametrize(
    "token",
    [
        None,
        issue_token("operator", "op", secret="another-secret-that-is-long-enough-for-hs256"),
        issue_token("operator", "op", lifetime=-60),
        "garbage",
    ],
    ids=["none", "bad-signature", "expired", "garbage"],
)
def test_protected_route_refuses_a_missing_or_bad_token(stack, token):
    status, _, body = http(stack, "GET", "/providers/x/programs", token=token)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_public_route_ignores_a_bad_token(stack):
    status, _, _ = http(stack, "GET", "/programs?limit=1", token="garbage")
    assert status == 200


def test_role_is_checked_from_the_token_groups(stack):
    parent = issue_token("parent", "someone")
    status, _, body = http(stack, "POST", "/providers", body={}, token=parent)
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_unknown_path_and_method_are_404_in_the_envelope(stack):
    assert http(stack, "GET", "/nowhere")[0] == 404
    status, _, body = http(stack, "DELETE", "/programs")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_many_clients_at_once_are_all_served(stack):
    def one(_):
        return http(stack, "GET", "/programs?limit=5")[0]

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(one, range(64)))
    assert statuses == [200] * 64


def test_concurrent_writes_through_workers_keep_periods_disjoint(stack):
    """Workers run in parallel: overlapping periods written at once still can't both land."""
    operator = issue_token("operator", "op")

    def put(n):
        body = {"starts_on": "2030-01-01", "ends_on": "2030-12-31", "nominal_kopecks": 100 + n}
        return http(stack, "PUT", f"/periods/race-{n}", body=body, token=operator)[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(put, range(8)))
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 409}


def test_a_parent_enrolls_and_an_operator_runs_a_debit_over_http(stack):
    import time

    from infra.local.demo_catalog import POPULAR_PROGRAM_IDS
    from navigator.domain.snils import control_number

    parent = issue_token("parent", "http-parent")
    operator = issue_token("operator", "http-operator")
    number = "123456789"
    snils = f"123-456-789 {control_number(number):02d}"
    status, _, child = http(
        stack,
        "POST",
        "/children",
        body={"full_name": "Петрова Мария", "birth_date": "2016-04-01", "snils": snils},
        token=parent,
    )
    assert status == 201 and child["snils_masked"].endswith(snils[-2:])
    body = {
        "child_id": child["child_id"],
        "program_id": POPULAR_PROGRAM_IDS[0],
        "accept_copay": True,
    }
    status, _, enrollment = http(
        stack,
        "POST",
        "/enrollments",
        body=body,
        token=parent,
        headers={"Idempotency-Key": "http-1"},
    )
    assert status == 201, enrollment
    again = http(
        stack,
        "POST",
        "/enrollments",
        body=body,
        token=parent,
        headers={"idempotency-key": "http-1"},
    )
    assert again[0] == 201 and again[2]["enrollment_id"] == enrollment["enrollment_id"]
    status, _, run = http(stack, "POST", "/debit-runs", body={"month": "2026-10"}, token=operator)
    assert status == 202 and run["month"] == "2026-10"
    deadline = time.monotonic() + 30
    while run["status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.2)
        run = http(stack, "GET", "/debit-runs/2026-10", token=operator)[2]
    assert run["status"] == "completed"
    status, _, report = http(stack, "GET", "/reconciliation", token=operator)
    assert status == 200 and report["mismatches"] == []
