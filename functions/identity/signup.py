"""Cognito post-confirmation trigger: a parent who signs up joins the `parents` group.

Providers' clerks and operators are created by operators (docs/runbook.md), never by sign-up.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger()
PARENTS = "parents"


def _cognito() -> Any:
    import boto3

    return boto3.client("cognito-idp")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("triggerSource") == "PostConfirmation_ConfirmSignUp":
        _cognito().admin_add_user_to_group(
            UserPoolId=event["userPoolId"], Username=event["userName"], GroupName=PARENTS
        )
        logger.info("parent signed up")  # no name, e-mail or sub in the log
    return event
