"""Local JWTs, signed with a development secret and checked as Cognito would check them."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import jwt

from navigator.settings import DEV_JWT_SECRET

ISSUER = "navigator-local"
AUDIENCE = "navigator-local-portal"
ROLE_GROUPS = {
    "parent": "parents",
    "provider": "providers",
    "payer": "payers",
    "operator": "operators",
}
# API.md: local tokens stay valid for at least 24 hours of real time.
TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600


class InvalidToken(Exception):
    pass


def _secret() -> str:
    return os.environ.get("NAVIGATOR_JWT_SECRET") or DEV_JWT_SECRET


def issue_token(
    role: str,
    sub: str,
    provider_id: str | None = None,
    lifetime: int = TOKEN_LIFETIME_SECONDS,
    secret: str | None = None,
    payer_id: str | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "cognito:groups": [ROLE_GROUPS[role]],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "token_use": "id",
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    if provider_id:
        claims["custom:provider_id"] = provider_id
    if payer_id:
        claims["custom:payer_id"] = payer_id
    return jwt.encode(claims, secret or _secret(), algorithm="HS256")


def verify_token(header: str | None) -> dict[str, str]:
    """The claims of a valid `Authorization` header, as API Gateway passes them (strings)."""
    if not header:
        raise InvalidToken("no token")
    token = header.split(" ", 1)[1] if header.lower().startswith("bearer ") else header
    try:
        claims = jwt.decode(
            token.strip(),
            _secret(),
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    if claims.get("token_use") != "id":
        raise InvalidToken("not an id token")
    groups = claims.get("cognito:groups") or []
    out = {k: str(v) for k, v in claims.items() if k != "cognito:groups"}
    out["cognito:groups"] = ",".join(groups) if isinstance(groups, list) else str(groups)
    return out
