"""The caller, from the Cognito claims that API Gateway (or the local gateway) passes in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLES = ("parents", "providers", "operators")


@dataclass(frozen=True)
class Caller:
    sub: str
    groups: frozenset[str]
    provider_id: str | None

    @property
    def is_parent(self) -> bool:
        return "parents" in self.groups

    @property
    def is_provider(self) -> bool:
        return "providers" in self.groups

    @property
    def is_operator(self) -> bool:
        return "operators" in self.groups


def parse_groups(raw: Any) -> frozenset[str]:
    """cognito:groups arrives as a list, or as API Gateway's string ("a,b" or "[a b]")."""
    if raw is None:
        return frozenset()
    if isinstance(raw, (list, tuple)):
        return frozenset(str(g) for g in raw)
    text = str(raw).strip().strip("[]")
    return frozenset(part for part in text.replace(",", " ").split() if part)


def caller_from_event(event: dict[str, Any]) -> Caller | None:
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    claims = authorizer.get("claims") if isinstance(authorizer, dict) else None
    if not isinstance(claims, dict) or not claims.get("sub"):
        return None
    return Caller(
        sub=str(claims["sub"]),
        groups=parse_groups(claims.get("cognito:groups")),
        provider_id=claims.get("custom:provider_id") or None,
    )
