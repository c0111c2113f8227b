"""Children: registration once per SNILS across all parents, masked SNILS, a parent's own list."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from enroll.children_models import ChildIn
from navigator.domain import snils as snils_rules
from navigator.domain.calendar import today
from navigator.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, StoreUnavailable
from navigator.identity import Caller, parse_groups
from navigator.service import children
from navigator.service.views import child_view
from navigator.settings import get_settings, reset_settings
from navigator.store.base import reset_connections
from navigator.store.people import CHILD_SK, SNILS_SK, child_key, get_child, listings
from navigator.store.people import snils_key as snils_item_key
from tests.support.api import OPERATOR, OTHER_PARENT, PARENT, provider, request

SNILS = "112-233-445 95"  # 1*9+1*8+2*7+2*6+3*5+3*4+4*3+4*2+5*1 = 95
SNILS_DIGITS = "11223344595"


def valid_snils(n: int) -> str:
    """The n-th of a series of SNILS numbers with a valid checksum."""
    nine = f"{200_000_000 + n * 7919:09d}"
    control = snils_rules.control_number(nine)
    return f"{nine[:3]}-{nine[3:6]}-{nine[6:9]} {control:02d}"


def caller(claims: dict[str, str]) -> Caller:
    return Caller(
        sub=claims["sub"],
        groups=parse_groups(claims["cognito:groups"]),
        provider_id=claims.get("custom:provider_id"),
    )


def child_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "full_name": "Иванов Иван Иванович",
        "birth_date": "2016-04-12",
        "municipality": "Красноярск",
        "snils": SNILS,
    }
    body.update(overrides)
    return body


def register(claims: dict[str, str] = PARENT, **overrides: Any) -> dict[str, Any]:
    body = child_body(**overrides)
    return children.register_child(
        caller(claims), body["full_name"], body["birth_date"], body["snils"], body["municipality"]
    )


def people_items() -> list[dict[str, Any]]:
    """Every item of the people table, as DynamoDB returns it."""
    settings = get_settings()
    client = boto3.client(
        "dynamodb", endpoint_url=settings.dynamodb_endpoint, region_name=settings.region
    )
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": settings.people_table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def keys(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(item["pk"]["S"], item["sk"]["S"]) for item in items}


def assert_no_clear_snils(text: str, snils: str = SNILS) -> None:
    digits = snils.replace("-", "").replace(" ", "")
    for form in (snils, digits, digits[:9], snils[:11], snils.replace(" ", "")):
        assert form not in text


# ------------------------------------------------------------------ the request model


def test_given_a_valid_body_when_parsed_then_the_snils_is_left_to_the_service():
    parsed = ChildIn.model_validate(child_body(snils="not a snils at all"))
    assert parsed.snils == "not a snils at all"


@pytest.mark.parametrize(
    "overrides",
    [
        {"full_name": "x" * 201},
        {"full_name": ""},
        {"birth_date": "2016-02-30"},
        {"birth_date": "12.04.2016"},
        {"snils": 11223344595},
        {"nickname": "Ваня"},
    ],
)
def test_given_a_bad_field_when_parsed_then_the_model_refuses_it(overrides):
    with pytest.raises(ValidationError):
        ChildIn.model_validate(child_body(**overrides))


def test_given_today_when_it_is_the_birth_date_then_it_is_accepted_and_tomorrow_is_not(
    monkeypatch,
):
    monkeypatch.setenv("NAVIGATOR_TODAY", "2026-09-01")
    reset_settings()
    try:
        assert ChildIn.model_validate(child_body(birth_date="2026-09-01"))
        with pytest.raises(ValidationError, match="future"):
            ChildIn.model_validate(child_body(birth_date="2026-09-02"))
    finally:
        reset_settings()


# ------------------------------------------------------------------ the service


def test_given_a_valid_snils_when_registering_then_the_child_is_returned_masked(aws):
    child = register()
    assert child["child_id"].startswith("ch-") and len(child["child_id"]) == 13
    assert set(child["child_id"][3:]) <= set("abcdefghijklmnopqrstuvwxyz234567")
    assert child == {
        "child_id": child["child_id"],
        "full_name": "Иванов Иван Иванович",
        "birth_date": "2016-04-12",
        "municipality": "Красноярск",
        "snils_masked": "***-***-*** 95",
    }
    assert child_view(children.get_owned_child(caller(PARENT), child["child_id"])) == child


def test_given_a_bad_checksum_when_registering_then_invalid_snils_and_nothing_written(aws):
    with pytest.raises(InvalidInput) as refused:
        register(snils="112-233-445 96")
    assert refused.value.code == "invalid_snils"
    assert refused.value.details == {
        "fields": [{"field": "snils", "problem": snils_rules.BAD_CHECKSUM}]
    }
    assert people_items() == []


@pytest.mark.parametrize(
    "bad", ["11223344595", "112233445 95", "112-233-44595", "1I2-233-445 95", "112-233-445  95"]
)
def test_given_a_bad_format_when_registering_then_invalid_snils(aws, bad):
    with pytest.raises(InvalidInput) as refused:
        register(snils=bad)
    assert refused.value.code == "invalid_snils"
    assert refused.value.details["fields"][0]["field"] == "snils"


def test_given_a_registered_snils_when_another_parent_registers_it_then_409(aws):
    register(PARENT)
    with pytest.raises(Conflict) as refused:
        register(OTHER_PARENT, full_name="Петров Пётр")
    assert refused.value.code == "child_already_registered"


def test_given_a_registered_snils_when_the_same_parent_registers_it_again_then_409(aws):
    register(PARENT)
    with pytest.raises(Conflict) as refused:
        register(PARENT)
    assert refused.value.code == "child_already_registered"


def test_given_a_refused_registration_then_the_table_holds_only_the_first_one(aws):
    first = register(PARENT)
    before = people_items()
    assert keys(before) == {
        (child_key(first["child_id"]), CHILD_SK),
        (snils_item_key(snils_rules.snils_hash(SNILS, children.snils_key())), SNILS_SK),
        *((listing.pk, listing.sk) for listing in listings(get_child(first["child_id"]))),
    }
    for claims in (PARENT, OTHER_PARENT):
        with pytest.raises(Conflict):
            register(claims, full_name="Другое Имя", birth_date="2015-01-01")
    assert people_items() == before
    assert children.list_children(caller(OTHER_PARENT), 20, None)["items"] == []


def test_given_a_taken_child_id_when_registering_then_another_id_is_drawn(aws, monkeypatch):
    ids = iter(["ch-aaaaaaaaaa", "ch-aaaaaaaaaa", "ch-bbbbbbbbbb"])
    monkeypatch.setattr(children, "new_child_id", lambda: next(ids))
    assert register(snils=valid_snils(1))["child_id"] == "ch-aaaaaaaaaa"
    second = register(OTHER_PARENT, snils=valid_snils(2))
    assert second["child_id"] == "ch-bbbbbbbbbb"
    by_key = {(i["pk"]["S"], i["sk"]["S"]): i for i in people_items()}
    assert len(by_key) == 6  # each child, its SNILS, its place in its parent's list
    assert by_key[(child_key("ch-aaaaaaaaaa"), CHILD_SK)]["parent_sub"]["S"] == PARENT["sub"]
    snils_item = by_key[
        (snils_item_key(snils_rules.snils_hash(valid_snils(2), children.snils_key())), SNILS_SK)
    ]
    assert snils_item["child_id"]["S"] == "ch-bbbbbbbbbb"


def test_given_registrations_then_the_snils_is_nowhere_in_clear(aws):
    created = [register(snils=SNILS), register(OTHER_PARENT, snils=valid_snils(3))]
    stored = json.dumps(people_items(), ensure_ascii=False)
    assert_no_clear_snils(stored, SNILS)
    assert_no_clear_snils(stored, valid_snils(3))
    assert stored.count("***-***-*** 95") == 1
    listed = children.list_children(caller(PARENT), 20, None) | children.list_children(
        caller(OTHER_PARENT), 20, None
    )
    for text in (json.dumps(created), json.dumps(listed)):
        assert_no_clear_snils(text, SNILS)
        assert_no_clear_snils(text, valid_snils(3))


def test_given_two_parents_when_listing_then_each_sees_only_their_own_in_order(aws):
    mine = [register(PARENT, full_name=f"Ребёнок {n}", snils=valid_snils(n)) for n in range(3)]
    theirs = register(OTHER_PARENT, full_name="Чужой", snils=valid_snils(9))
    assert children.list_children(caller(PARENT), 20, None) == {"items": mine, "next_cursor": None}
    assert children.list_children(caller(OTHER_PARENT), 20, None) == {
        "items": [theirs],
        "next_cursor": None,
    }
    assert children.list_children(
        caller({"sub": "nobody", "cognito:groups": "parents"}), 20, None
    ) == {
        "items": [],
        "next_cursor": None,
    }


def test_given_a_child_when_read_by_others_then_403_and_operators_may(aws):
    child_id = register(PARENT)["child_id"]
    with pytest.raises(Forbidden) as refused:
        children.get_owned_child(caller(OTHER_PARENT), child_id)
    assert refused.value.code == "forbidden"
    with pytest.raises(Forbidden):
        children.get_owned_child(caller(provider("p1")), child_id)
    assert children.get_owned_child(caller(OPERATOR), child_id).child_id == child_id
    with pytest.raises(NotFound):
        children.get_owned_child(caller(PARENT), "ch-nosuchchild")


# ------------------------------------------------------------------ the HMAC key


@pytest.fixture
def no_key_settings(monkeypatch):
    monkeypatch.delenv("SNILS_HMAC_KEY", raising=False)
    monkeypatch.delenv("SNILS_HMAC_PARAMETER", raising=False)
    reset_settings()
    yield monkeypatch
    reset_settings()


def test_given_no_configuration_then_the_development_key_is_used(no_key_settings):
    from navigator.settings import DEV_SNILS_HMAC_KEY

    assert children.snils_key() == DEV_SNILS_HMAC_KEY.encode()


def test_given_a_key_in_the_environment_then_it_wins(no_key_settings):
    no_key_settings.setenv("SNILS_HMAC_KEY", "from-env")
    no_key_settings.setenv("SNILS_HMAC_PARAMETER", "/navigator/never-read")
    reset_settings()
    assert children.snils_key() == b"from-env"


def test_given_a_parameter_name_then_the_key_is_read_from_ssm(aws, no_key_settings):
    from aws_lambda_powertools.utilities import parameters

    name = f"/navigator/test/snils-{uuid.uuid4().hex}"
    boto3.client("ssm").put_parameter(Name=name, Value="from-ssm", Type="SecureString")
    no_key_settings.setenv("SNILS_HMAC_PARAMETER", name)
    reset_settings()
    parameters.clear_caches()
    try:
        assert children.snils_key() == b"from-ssm"
        first = register()
        assert first["snils_masked"] == "***-***-*** 95"
        digest = snils_rules.snils_hash(SNILS, b"from-ssm")
        assert (snils_item_key(digest), SNILS_SK) in keys(people_items())
    finally:
        parameters.clear_caches()


def test_given_a_missing_parameter_then_the_store_is_unavailable(aws, no_key_settings):
    from aws_lambda_powertools.utilities import parameters

    no_key_settings.setenv("SNILS_HMAC_PARAMETER", f"/navigator/missing-{uuid.uuid4().hex}")
    reset_settings()
    parameters.clear_caches()
    with pytest.raises(StoreUnavailable):
        children.snils_key()
    assert people_items() == []


# ------------------------------------------------------------------ concurrency


@pytest.fixture
def served_people(monkeypatch) -> Iterator[None]:
    """The embedded DynamoDB (moto's server, in-process): real threads, real requests."""
    from infra.local.dynamodb import EmbeddedDynamoDB
    from infra.local.stack import ensure_tables

    with EmbeddedDynamoDB() as db:
        monkeypatch.setenv("DYNAMODB_ENDPOINT", db.endpoint)
        suffix = uuid.uuid4().hex[:8]
        for var in ("CATALOG", "PEOPLE", "ACCOUNTS", "OPERATIONS", "IDEMPOTENCY"):
            monkeypatch.setenv(f"{var}_TABLE", f"{var.lower()}-{suffix}")
        reset_settings()
        reset_connections()
        ensure_tables()
        yield
    reset_settings()
    reset_connections()


def test_given_eight_parents_at_once_when_registering_one_snils_then_exactly_one_wins(
    served_people,
):
    children.list_children(caller(PARENT), 20, None)  # the connection, made before the race
    start = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        start.wait()
        claims = {"sub": f"parent-{n}", "cognito:groups": "parents"}
        try:
            register(claims, full_name=f"Ребёнок {n}")
            outcome = "created"
        except Conflict as refused:
            outcome = refused.code
        except Exception as error:
            outcome = repr(error)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["child_already_registered"] * 7 + ["created"]
    items = people_items()
    assert [i["sk"]["S"] for i in items].count(CHILD_SK) == 1
    assert [i["sk"]["S"] for i in items].count(SNILS_SK) == 1


# ------------------------------------------------------------------ through the handler
# These need the routes POST /children and GET /children in enroll/app.py and template.yaml.


def test_given_a_valid_body_when_posted_then_201_with_the_masked_snils(aws):
    reply = request("POST", "/children", body=child_body(), claims=PARENT)
    assert reply.status == 201, reply.body
    assert reply.body["snils_masked"] == "***-***-*** 95"
    assert set(reply.body) == {
        "child_id",
        "full_name",
        "birth_date",
        "municipality",
        "snils_masked",
    }
    assert_no_clear_snils(json.dumps(reply.body))


def test_given_a_bad_checksum_when_posted_then_422_invalid_snils(aws):
    reply = request("POST", "/children", body=child_body(snils="112-233-445 96"), claims=PARENT)
    assert (reply.status, reply.code) == (422, "invalid_snils")
    assert reply.body["error"]["details"]["fields"][0]["field"] == "snils"


@pytest.mark.parametrize(
    "bad",
    ["11223344595", "112-233-44595", "112233445 95", "112-233-4a5 95", "112-233-445  95", ""],
)
def test_given_a_bad_format_when_posted_then_422_invalid_snils(aws, bad):
    reply = request("POST", "/children", body=child_body(snils=bad), claims=PARENT)
    assert (reply.status, reply.code) == (422, "invalid_snils")


@pytest.mark.parametrize(
    "overrides",
    [
        {"full_name": "x" * 201, "snils": "112-233-445 96"},
        {"birth_date": "2016-13-01", "snils": "11223344595"},
        {"full_name": 5, "snils": "bad"},
    ],
)
def test_given_another_bad_field_and_a_bad_snils_when_posted_then_422_validation_error(
    aws, overrides
):
    reply = request("POST", "/children", body=child_body(**overrides), claims=PARENT)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert people_items() == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"snils": 11223344595},
        {"snils": None},
        {"full_name": "x" * 201},
        {"full_name": ""},
        {"birth_date": "2016-02-30"},
        {"birth_date": 20160412},
        {"extra": True},
    ],
)
def test_given_an_invalid_field_when_posted_then_422_validation_error(aws, overrides):
    reply = request("POST", "/children", body=child_body(**overrides), claims=PARENT)
    assert (reply.status, reply.code) == (422, "validation_error")


def test_given_a_birth_date_in_the_future_when_posted_then_422(aws):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    reply = request("POST", "/children", body=child_body(birth_date=tomorrow), claims=PARENT)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert [f["field"] for f in reply.body["error"]["details"]["fields"]] == ["birth_date"]
    born_today = child_body(birth_date=today().isoformat())
    assert request("POST", "/children", body=born_today, claims=PARENT).status == 201


def test_given_a_full_name_of_201_characters_when_posted_then_422(aws):
    reply = request("POST", "/children", body=child_body(full_name="я" * 201), claims=PARENT)
    assert (reply.status, reply.code) == (422, "validation_error")
    longest = child_body(full_name="я" * 200)
    assert request("POST", "/children", body=longest, claims=PARENT).status == 201


def test_given_a_registered_snils_when_posted_by_anyone_then_409(aws):
    assert request("POST", "/children", body=child_body(), claims=PARENT).status == 201
    for claims in (OTHER_PARENT, PARENT):
        again = request("POST", "/children", body=child_body(full_name="Другой"), claims=claims)
        assert (again.status, again.code) == (409, "child_already_registered")
    assert len(people_items()) == 3  # the child, its SNILS, its place in its parent's list


def test_given_two_parents_when_listing_through_the_api_then_each_sees_their_own(aws):
    mine = request("POST", "/children", body=child_body(), claims=PARENT).body
    body = child_body(full_name="Чужой", snils=valid_snils(4))
    theirs = request("POST", "/children", body=body, claims=OTHER_PARENT).body
    listed = request("GET", "/children", claims=PARENT)
    assert listed.status == 200
    assert listed.body == {"items": [mine], "next_cursor": None}
    assert request("GET", "/children", claims=OTHER_PARENT).body["items"] == [theirs]
    assert_no_clear_snils(json.dumps(listed.body))


def test_given_another_role_or_no_token_when_calling_then_403_or_401(aws):
    for method, body in (("POST", child_body()), ("GET", None)):
        assert request(method, "/children", body=body).status == 401
        assert request(method, "/children", body=body, claims=provider("p1")).status == 403
        assert request(method, "/children", body=body, claims=OPERATOR).status == 403
    assert people_items() == []
