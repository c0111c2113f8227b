"""A parent who confirms sign-up is put into the parents group, and nothing else is."""

from __future__ import annotations

from infra.local.workers import LocalLambdaContext


class FakeCognito:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def admin_add_user_to_group(self, **kwargs) -> None:
        self.calls.append(kwargs)


def event(source: str) -> dict:
    return {
        "version": "1",
        "triggerSource": source,
        "region": "eu-central-1",
        "userPoolId": "eu-central-1_Pool",
        "userName": "a1b2c3",
        "callerContext": {"awsSdkVersion": "x", "clientId": "client"},
        "request": {"userAttributes": {"sub": "a1b2c3", "email": "parent@example.org"}},
        "response": {},
    }


def test_a_confirmed_sign_up_joins_the_parents_group(monkeypatch):
    from identity import signup

    cognito = FakeCognito()
    monkeypatch.setattr(signup, "_cognito", lambda: cognito)
    incoming = event("PostConfirmation_ConfirmSignUp")
    assert signup.handler(incoming, LocalLambdaContext("signup", "r")) == incoming
    assert cognito.calls == [
        {"UserPoolId": "eu-central-1_Pool", "Username": "a1b2c3", "GroupName": "parents"}
    ]


def test_a_forgotten_password_confirmation_changes_no_group(monkeypatch):
    from identity import signup

    cognito = FakeCognito()
    monkeypatch.setattr(signup, "_cognito", lambda: cognito)
    signup.handler(event("PostConfirmation_ConfirmForgotPassword"), LocalLambdaContext("s", "r"))
    assert cognito.calls == []
