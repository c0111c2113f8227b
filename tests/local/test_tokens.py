"""Local tokens are checked as Cognito would check them."""

from __future__ import annotations

import time

import jwt
import pytest

from infra.local.tokens import InvalidToken, issue_token, verify_token


def test_a_local_token_lives_at_least_a_day():
    claims = jwt.decode(issue_token("parent", "p"), options={"verify_signature": False})
    assert claims["exp"] - time.time() >= 24 * 3600


def test_claims_arrive_as_api_gateway_passes_them():
    claims = verify_token("Bearer " + issue_token("provider", "clerk", "p1"))
    assert claims["sub"] == "clerk"
    assert claims["cognito:groups"] == "providers"
    assert claims["custom:provider_id"] == "p1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer not.a.jwt",
        "Bearer " + issue_token("parent", "p", lifetime=-1),
        "Bearer " + issue_token("parent", "p", secret="x" * 40),
    ],
)
def test_bad_tokens_are_refused(header):
    with pytest.raises(InvalidToken):
        verify_token(header)


def test_a_payer_token_carries_the_payer_id():
    claims = verify_token("Bearer " + issue_token("payer", "clerk", payer_id="krasnoyarsk"))
    assert claims["cognito:groups"] == "payers"
    assert claims["custom:payer_id"] == "krasnoyarsk"
