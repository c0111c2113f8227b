"""The API plumbing: the envelope, its statuses and the order of checks (API.md)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.support.api import OPERATOR, PARENT, call, invoke, program_body, provider, request

PROGRAM = program_body()


def test_protected_route_without_claims_is_401(aws):
    reply = request("POST", "/programs", body=PROGRAM)
    assert reply.status == 401
    assert reply.code == "unauthorized"


def test_wrong_role_is_403_whatever_the_body(aws):
    reply = request("POST", "/programs", raw_body="{not json", claims=PARENT)
    assert reply.status == 403
    assert reply.code == "forbidden"


def test_malformed_json_is_400_bad_request(aws):
    reply = request("POST", "/programs", raw_body="{not json", claims=provider("p1"))
    assert reply.status == 400
    assert reply.code == "bad_request"


def test_body_over_64kb_is_413_before_validation(aws):
    body = json.dumps({**PROGRAM, "description": "я" * 40_000})
    reply = request("POST", "/programs", raw_body=body, claims=provider("p1"))
    assert reply.status == 413


@pytest.mark.parametrize(
    "field,value",
    [
        ("capacity", "10"),
        ("capacity", 10.0),
        ("capacity", True),
        ("title", 5),
        ("title", ""),
        ("title", None),
        ("direction", "cooking"),
        ("start_month", "2026-13"),
        ("age_min", 19),
    ],
)
def test_types_are_strict_and_refusals_name_the_field(aws, field, value):
    reply = request("POST", "/programs", body={**PROGRAM, field: value}, claims=provider("p1"))
    assert reply.status == 422
    assert reply.code == "validation_error"
    assert field in [f["field"] for f in reply.body["error"]["details"]["fields"]]


def test_unknown_field_is_422(aws):
    reply = request("POST", "/programs", body={**PROGRAM, "seats_taken": 3}, claims=provider("p1"))
    assert reply.status == 422


def test_form_content_type_still_reads_json(aws):
    from catalog.app import handler
    from infra.local.events import rest_event

    event = rest_event(
        "POST",
        "/providers",
        "/providers",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=json.dumps(
            {"provider_id": "p1", "name": "Дом", "inn": "7707083893", "municipality": "Ачинск"}
        ),
        claims=OPERATOR,
    )
    assert invoke(handler, event).status == 201


def test_unknown_route_is_404_in_the_envelope(aws):
    from catalog.app import handler

    reply = call(handler, "GET", "/nowhere")
    assert reply.status == 404
    assert reply.code == "not_found"


@pytest.mark.parametrize("path", ["/programs/prg-1", "/programs", "/providers/p1", "/periods"])
def test_a_throttling_store_is_503_with_retry_after(aws, monkeypatch, path):
    """Given DynamoDB throttling every call (whatever the code path reads with)."""
    from botocore.client import BaseClient

    real = BaseClient._make_api_call

    def throttled(client, operation, params):
        if client.meta.service_model.service_name != "dynamodb":
            return real(client, operation, params)
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
            operation,
        )

    monkeypatch.setattr(BaseClient, "_make_api_call", throttled)
    reply = request("GET", path)
    assert reply.status == 503
    assert reply.code == "unavailable"
    assert reply.headers["Retry-After"] == "1"


def test_unexpected_error_is_logged_not_leaked(aws, monkeypatch):
    from navigator.service import catalog

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(catalog, "get_provider", broken)
    reply = request("GET", "/providers/x")
    assert reply.status == 500
    assert "secret detail" not in json.dumps(reply.body)


ODD_INPUTS = [
    ("GET", "/programs", None, None, {"limit": "abc"}),
    ("GET", "/programs", None, None, {"has_seats": "maybe"}),
    ("GET", "/programs", None, None, {"age": "-1"}),
    ("GET", "/programs", None, None, {"q": "x" * 300}),
    ("GET", "/programs", None, None, {"q": "!!!"}),
    ("GET", "/programs", None, None, {"cursor": ""}),
    ("GET", "/programs", None, None, {"cursor": "%%%"}),
    ("GET", "/programs/%D0%B0", None, None, None),
    ("GET", "/providers/x/programs", None, OPERATOR, {"cursor": "abc"}),
    ("PATCH", "/programs/x", "{}", provider("p1"), None),
    ("PATCH", "/programs/x", "[]", provider("p1"), None),
    ("PATCH", "/programs/x", "null", provider("p1"), None),
    ("POST", "/providers", "null", OPERATOR, None),
    ("POST", "/providers", '"str"', OPERATOR, None),
    ("POST", "/providers", "", OPERATOR, None),
    ("PUT", "/periods/a b", "{}", OPERATOR, None),
    (
        "PUT",
        "/periods/p",
        '{"starts_on":"2026-02-30","ends_on":"2026-03-31","nominal_kopecks":1}',
        OPERATOR,
        None,
    ),
    (
        "PUT",
        "/periods/p",
        '{"starts_on":"2026-02-02","ends_on":"2026-03-30","nominal_kopecks":1}',
        OPERATOR,
        None,
    ),
    (
        "PUT",
        "/periods/p",
        '{"starts_on":"2026-01-01","ends_on":"2026-03-31","nominal_kopecks":1e3}',
        OPERATOR,
        None,
    ),
    (
        "PUT",
        "/periods/p",
        '{"starts_on":"2026-01-01","ends_on":"2026-03-31","nominal_kopecks":100000000000000000000000}',
        OPERATOR,
        None,
    ),
]


@pytest.mark.parametrize("case", ODD_INPUTS, ids=lambda c: f"{c[0]} {c[1]} {c[2]} {c[4]}")
def test_odd_inputs_never_answer_5xx_and_refusals_use_the_envelope(aws, case):
    method, path, body, claims, query = case
    reply = request(method, path, raw_body=body, claims=claims, query=query)
    assert reply.status < 500
    assert reply.status < 400 or reply.code


@pytest.mark.parametrize(
    "body, encoded",
    [(b"{\xc6", True), ("not base64 at all!", True)],
    ids=["bytes that are not UTF-8", "a base64 flag on text"],
)
def test_a_body_that_is_not_utf8_text_is_400_not_500(aws, body, encoded):
    # Found by schemathesis: `-d @<binary>` reached Powertools' decoder and answered 500.
    import base64

    from enroll.app import handler
    from infra.local.events import rest_event

    event = rest_event("POST", "/children", "/children", body=body, claims=PARENT)
    if isinstance(body, str):
        event["body"], event["isBase64Encoded"] = body, encoded
    else:
        assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == body
    reply = invoke(handler, event)
    assert (reply.status, reply.code) == (400, "bad_request")


@pytest.mark.parametrize(
    "method, path, body, who",
    [
        ("POST", "/programs", {"start_month": "0000-01", "end_month": "0000-02"}, "provider"),
        ("POST", "/programs", {"start_month": "0001-01", "end_month": "0001-12"}, "provider"),
        ("POST", "/programs", {"start_month": "9999-11", "end_month": "9999-12"}, "provider"),
        ("POST", "/programs", {"start_month": "2026-09", "end_month": "9999-12"}, "provider"),
        ("POST", "/debit-runs", {"month": "0000-12"}, "operator"),
        ("POST", "/debit-runs", {"month": "9999-12"}, "operator"),
        ("PUT", "/periods/p-old", {"starts_on": "0001-01-01", "ends_on": "0001-12-31"}, "operator"),
        ("PUT", "/periods/p-far", {"starts_on": "9999-01-01", "ends_on": "9999-12-31"}, "operator"),
        ("POST", "/children", {"birth_date": "0001-01-01"}, "parent"),
    ],
)
def test_months_and_dates_at_the_ends_of_the_calendar_never_answer_5xx(
    aws, method, path, body, who
):
    # Found by schemathesis: "0000-01" passed the pattern and crashed the month arithmetic.
    from navigator.domain.snils import control_number

    claims = {"provider": provider("p1"), "operator": OPERATOR, "parent": PARENT}[who]
    request(
        "POST",
        "/providers",
        body={"provider_id": "p1", "name": "P", "inn": "7707083893", "municipality": "Канск"},
        claims=OPERATOR,
    )
    full = {
        "/programs": program_body(),
        "/debit-runs": {},
        "/children": {
            "full_name": "Иванов Иван",
            "snils": f"123-456-789 {control_number('123456789'):02d}",
        },
    }.get(path, {"nominal_kopecks": 100})
    reply = request(method, path, body={**full, **body}, claims=claims)
    assert reply.status < 500, reply.body
    assert reply.status in (200, 201, 202, 409, 422), reply.body


def test_a_lone_surrogate_in_a_body_is_400_not_500(aws):
    reply = request("POST", "/children", raw_body='{"full_name": "\ud800"}', claims=PARENT)
    assert (reply.status, reply.code) == (400, "bad_request")


def test_a_route_that_reads_no_body_ignores_one(aws):
    # Only routes with a body refuse one (400/413), as docs/openapi.json declares.
    reply = request("GET", "/periods", raw_body="x" * (70 * 1024))
    assert reply.status == 200
    reply = request("GET", "/children", raw_body="{not json", claims=PARENT)
    assert reply.status == 200


def test_a_header_given_only_singly_is_still_read(aws):
    # API Gateway sends both header maps; an event with only `headers` must not lose the key.
    from enroll.app import handler
    from infra.local.events import rest_event
    from tests.support.money import open_period, publish, register_child, register_provider

    open_period()
    register_provider("p1")
    child, program = register_child(), publish()
    body = {"child_id": child, "program_id": program, "accept_copay": True}
    answers = []
    for _ in range(2):
        event = rest_event(
            "POST",
            "/enrollments",
            "/enrollments",
            headers={"Idempotency-Key": "single"},
            body=json.dumps(body),
            claims=PARENT,
        )
        event.pop("multiValueHeaders")
        answers.append(invoke(handler, event))
    assert answers[0].status == answers[1].status == 201
    assert answers[0].body == answers[1].body
