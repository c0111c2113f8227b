"""Whatever the functions log during a full scenario holds no SNILS, no token, and no
child's name next to an id."""

from __future__ import annotations

import logging

import pytest

from infra.local.tokens import issue_token
from tests.support.api import OPERATOR, PARENT, request
from tests.support.money import (
    enroll,
    new_snils,
    open_period,
    publish,
    register_provider,
    set_today,
)

NAME = "Скрытова Алиса"


@pytest.fixture
def chatty_loggers():
    """Every logger of ours at DEBUG for the scenario (Powertools' too)."""
    from navigator.api.app import logger as api_logger

    levels = {}
    for name in ("navigator-test", "navigator", "navigator.gateway", api_logger.name):
        log = logging.getLogger(name)
        levels[name] = log.level
        log.setLevel(logging.DEBUG)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_a_full_scenario_logs_no_personal_data(aws, monkeypatch, capsys, caplog, chatty_loggers):
    caplog.set_level(logging.DEBUG)
    set_today(monkeypatch, "2026-09-15")
    open_period()
    register_provider("p1")
    snils = new_snils()
    token = issue_token("parent", PARENT["sub"])
    child = request(
        "POST",
        "/children",
        body={"full_name": NAME, "birth_date": "2016-02-02", "snils": snils},
        claims=PARENT,
        headers={"Authorization": f"Bearer {token}"},
    ).body["child_id"]
    # Refusals and failures log too: a duplicate, a bad checksum, a bug.
    request(
        "POST",
        "/children",
        body={"full_name": NAME, "birth_date": "2016-02-02", "snils": snils},
        claims=PARENT,
    )
    request(
        "POST",
        "/children",
        body={"full_name": NAME, "birth_date": "2016-02-02", "snils": snils[:-2] + "00"},
        claims=PARENT,
    )
    program = publish(price_per_month_kopecks=900_000)
    enroll(child, program)
    enroll(child, program, accept_copay=True, key="log-key")
    set_today(monkeypatch, "2026-10-02")
    request("POST", "/debit-runs", body={"month": "2026-09"}, claims=OPERATOR)

    from navigator.service import children

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(children, "list_children", broken)
    assert request("GET", "/children", claims=PARENT).status == 500

    captured = capsys.readouterr()
    # Formatted records carry their tracebacks; stdout holds Powertools' JSON lines (when its
    # handler writes to the stream this test captures).
    formatter = logging.Formatter()
    logs = captured.out + captured.err + "\n".join(formatter.format(r) for r in caplog.records)
    assert "boom" in logs  # the capture does see what the functions log
    digits = snils.replace("-", "").replace(" ", "")
    assert snils not in logs and digits not in logs and snils[:11] not in logs
    assert token not in logs and token.split(".")[1] not in logs
    assert NAME not in logs
