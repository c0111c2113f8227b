"""Enrollment function: children, enrollments, certificates and their ledger."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from enroll.children_models import ChildIn
from enroll.models import CompletenessIn, EnrollmentIn
from navigator.api import idempotency
from navigator.api.app import Api
from navigator.api.types import Limit, Month
from navigator.service import certificates, children, enrollments

api = Api()
PARENTS = {"parents"}
PROVIDERS = {"providers"}
ANYONE_SIGNED_IN = {"parents", "providers", "operators"}
PROVIDERS_AND_OPERATORS = {"providers", "operators"}
Cursor = Annotated[str | None, Query(max_length=2048)]


@api.post("/children", PARENTS)
def register_child(body: ChildIn) -> tuple[dict[str, Any], int]:
    return children.register_child(api.caller(), body.full_name, body.birth_date, body.snils), 201


@api.get("/children", PARENTS)
def list_children() -> dict[str, Any]:
    return children.list_children(api.caller())


@api.post("/enrollments", PARENTS)
def enroll(body: EnrollmentIn) -> tuple[dict[str, Any], int]:
    caller = api.caller()

    def work() -> tuple[dict[str, Any], int]:
        view = enrollments.enroll(caller, body.child_id, body.program_id, body.accept_copay)
        return view, 201

    key = api.header(idempotency.HEADER)
    return idempotency.run_once(key, caller.sub, body.model_dump(), api.context, work)


@api.get("/enrollments", PARENTS)
def list_enrollments(
    child_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[Limit, Query()] = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return certificates.enrollments_of_parent(api.caller(), child_id, limit, cursor)


@api.get("/enrollments/<enrollment_id>", ANYONE_SIGNED_IN)
def get_enrollment(enrollment_id: str) -> dict[str, Any]:
    return enrollments.get_enrollment(api.caller(), enrollment_id)


@api.post("/enrollments/<enrollment_id>/withdraw", PARENTS)
def withdraw(enrollment_id: str) -> dict[str, Any]:
    return enrollments.withdraw(api.caller(), enrollment_id)


@api.put("/enrollments/<enrollment_id>/completeness/<month>", PROVIDERS)
def report_completeness(
    enrollment_id: str, month: Annotated[Month, Path()], body: CompletenessIn
) -> dict[str, Any]:
    return enrollments.report_completeness(api.caller(), enrollment_id, month, body.percent)


@api.get("/programs/<program_id>/enrollments", PROVIDERS_AND_OPERATORS)
def roster(
    program_id: str, limit: Annotated[Limit, Query()] = 20, cursor: Cursor = None
) -> dict[str, Any]:
    return certificates.roster(api.caller(), program_id, limit, cursor)


@api.get("/certificates", PARENTS)
def list_certificates() -> dict[str, Any]:
    return certificates.certificates_of_parent(api.caller())


@api.get("/certificates/<certificate_id>", PARENTS)
def get_certificate(certificate_id: str) -> dict[str, Any]:
    return certificates.get_certificate(api.caller(), certificate_id)


@api.get("/certificates/<certificate_id>/ledger", PARENTS)
def ledger(certificate_id: str, limit: Annotated[Limit, Query()] = 20, cursor: Cursor = None):
    return certificates.ledger(api.caller(), certificate_id, limit, cursor)


handler = api.lambda_handler()
