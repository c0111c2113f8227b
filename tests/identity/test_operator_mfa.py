"""An operator's token carries the operators group only when the account has MFA enabled."""

from __future__ import annotations

import pytest

from infra.local.workers import LocalLambdaContext


class FakeCognito:
    def __init__(self, mfa: list[str] | None) -> None:
        self.mfa = mfa
        self.calls: list[dict] = []

    def admin_get_user(self, **kwargs) -> dict:
        self.calls.append(kwargs)
        return {"Username": kwargs["Username"]} | (
            {} if self.mfa is None else {"UserMFASettingList": self.mfa}
        )


def event(groups: list[str], source: str = "TokenGeneration_Authentication") -> dict:
    return {
        "version": "1",
        "triggerSource": source,
        "region": "eu-central-1",
        "userPoolId": "eu-central-1_Pool",
        "userName": "op-1",
        "callerContext": {"awsSdkVersion": "x", "clientId": "client"},
        "request": {
            "userAttributes": {"sub": "op-1", "email": "operator@example.org"},
            "groupConfiguration": {
                "groupsToOverride": groups,
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
        },
        "response": {"claimsOverrideDetails": None},
    }


@pytest.fixture
def cognito(monkeypatch):
    from identity import operator_mfa

    def use(mfa: list[str] | None) -> FakeCognito:
        fake = FakeCognito(mfa)
        monkeypatch.setattr(operator_mfa, "_cognito", lambda: fake)
        return fake

    return use


def run(incoming: dict) -> dict:
    from identity import operator_mfa

    return operator_mfa.handler(incoming, LocalLambdaContext("operator-mfa", "r"))


@pytest.mark.parametrize("mfa", [None, [], ["SMS_MFA"]])
def test_an_operator_without_totp_gets_a_token_without_the_operators_group(cognito, mfa):
    fake = cognito(mfa)
    answer = run(event(["operators", "providers"]))
    assert answer["response"]["claimsOverrideDetails"] == {
        "groupOverrideDetails": {"groupsToOverride": ["providers"]}
    }
    assert fake.calls == [{"UserPoolId": "eu-central-1_Pool", "Username": "op-1"}]


@pytest.mark.parametrize(
    "source", ["TokenGeneration_Authentication", "TokenGeneration_RefreshTokens"]
)
def test_an_operator_with_totp_keeps_the_group_at_sign_in_and_refresh(cognito, source):
    cognito(["SOFTWARE_TOKEN_MFA"])
    answer = run(event(["operators"], source))
    assert answer["response"]["claimsOverrideDetails"] is None


def test_other_users_are_not_looked_up(cognito):
    fake = cognito(None)
    answer = run(event(["parents"]))
    assert answer["response"]["claimsOverrideDetails"] is None
    assert fake.calls == []
