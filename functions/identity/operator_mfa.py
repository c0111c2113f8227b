"""Cognito pre-token-generation trigger: the operators' role only for an account with MFA.

The pool's MFA is optional (parents sign in with a password), and Cognito asks every user
who has enabled an MFA method for it at each sign-in. So a token carries the `operators`
group only when the operator's account has TOTP enabled; without it the operator's token
has no `operators` group (the API refuses the operator routes with 403), and the operator
can still sign in to set up TOTP (docs/runbook.md). The check runs at every token issue,
refreshes included, so disabling MFA takes the role away at the next refresh.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger()
OPERATORS = "operators"
MFA_METHODS = ("SOFTWARE_TOKEN_MFA",)


def _cognito() -> Any:
    import boto3

    return boto3.client("cognito-idp")


def has_mfa(user_pool_id: str, username: str) -> bool:
    user = _cognito().admin_get_user(UserPoolId=user_pool_id, Username=username)
    return any(method in MFA_METHODS for method in user.get("UserMFASettingList") or [])


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    groups = list(
        ((event.get("request") or {}).get("groupConfiguration") or {}).get("groupsToOverride") or []
    )
    if OPERATORS in groups and not has_mfa(event["userPoolId"], event["userName"]):
        kept = [group for group in groups if group != OPERATORS]
        event.setdefault("response", {})["claimsOverrideDetails"] = {
            "groupOverrideDetails": {"groupsToOverride": kept}
        }
        # No name, e-mail or sub in the log: the trigger's source says which flow it was.
        logger.warning(
            "operator token without MFA: operators group withheld",
            extra={"trigger": event.get("triggerSource")},
        )
    return event
