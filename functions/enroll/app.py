"""Enrollment function: children, enrollments, certificates and their ledger."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from enroll.children_models import Child, ChildIn, ChildList
from enroll.models import (
    Certificate,
    CertificateList,
    CompletenessIn,
    Enrollment,
    EnrollmentIn,
    EnrollmentList,
    EnrollmentMade,
    LedgerPage,
)
from navigator.api import idempotency
from navigator.api.app import Api
from navigator.api.types import Month, PageCursor, PageLimit
from navigator.service import certificates, children, enrollments

api = Api()
PARENTS = {"parents"}
PROVIDERS = {"providers"}
ANYONE_SIGNED_IN = {"parents", "providers", "operators"}
PROVIDERS_AND_OPERATORS = {"providers", "operators"}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        min_length=1,
        max_length=idempotency.MAX_KEY_LENGTH,
        description="Retries with the same key and body replay the first answer (24 hours)",
    ),
]
ENROLLMENT_CONFLICTS = [
    "no_seats",
    "already_enrolled",
    "age_not_eligible",
    "program_ended",
    "no_active_period",
    "no_certificates_left",
    "copay_required",
    "idempotency_key_reused",
    "request_in_progress",
]


@api.post(
    "/children",
    PARENTS,
    returns=Child,
    status=201,
    refusals={409: ["child_already_registered"], 422: ["invalid_snils"]},
    summary="Register a child",
)
def register_child(body: ChildIn) -> tuple[dict[str, Any], int]:
    caller = api.caller()
    child = children.register_child(
        caller, body.full_name, body.birth_date, body.snils, body.municipality
    )
    return child, 201


@api.get(
    "/children",
    PARENTS,
    returns=ChildList,
    refusals={400: ["invalid_cursor"]},
    summary="The caller's children",
)
def list_children(limit: PageLimit = 20, cursor: PageCursor = None) -> dict[str, Any]:
    return children.list_children(api.caller(), limit, cursor)


@api.post(
    "/enrollments",
    PARENTS,
    returns=EnrollmentMade,
    status=201,
    refusals={404: ["not_found"], 409: ENROLLMENT_CONFLICTS},
    summary="Enroll a child in a program",
)
def enroll(
    body: EnrollmentIn, idempotency_key: IdempotencyKey = None
) -> tuple[dict[str, Any], int]:
    caller = api.caller()

    def work() -> tuple[dict[str, Any], int]:
        view = enrollments.enroll(caller, body.child_id, body.program_id, body.accept_copay)
        return view, 201

    return idempotency.run_once(idempotency_key, caller.sub, body.model_dump(), api.context, work)


@api.get(
    "/enrollments",
    PARENTS,
    returns=EnrollmentList,
    refusals={400: ["invalid_cursor"]},
    summary="The caller's enrollments",
)
def list_enrollments(
    child_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: PageLimit = 20,
    cursor: PageCursor = None,
) -> dict[str, Any]:
    return certificates.enrollments_of_parent(api.caller(), child_id, limit, cursor)


@api.get(
    "/enrollments/<enrollment_id>",
    ANYONE_SIGNED_IN,
    returns=Enrollment,
    refusals={404: ["not_found"]},
    summary="One enrollment: for its parent, its program's provider and operators",
)
def get_enrollment(enrollment_id: str) -> dict[str, Any]:
    return enrollments.get_enrollment(api.caller(), enrollment_id)


@api.post(
    "/enrollments/<enrollment_id>/withdraw",
    PARENTS,
    returns=Enrollment,
    refusals={404: ["not_found"]},
    summary="Withdraw from the next month on; repeating it is harmless",
)
def withdraw(enrollment_id: str) -> dict[str, Any]:
    return enrollments.withdraw(api.caller(), enrollment_id)


@api.put(
    "/enrollments/<enrollment_id>/completeness/<month>",
    PROVIDERS,
    returns=Enrollment,
    refusals={404: ["not_found"], 409: ["month_already_debited", "month_cancelled"]},
    summary="Report a month's completeness, in percent",
)
def report_completeness(
    enrollment_id: str, month: Annotated[Month, Path()], body: CompletenessIn
) -> dict[str, Any]:
    return enrollments.report_completeness(api.caller(), enrollment_id, month, body.percent)


@api.get(
    "/programs/<program_id>/enrollments",
    PROVIDERS_AND_OPERATORS,
    returns=EnrollmentList,
    refusals={400: ["invalid_cursor"], 404: ["not_found"]},
    summary="A program's roster",
)
def roster(program_id: str, limit: PageLimit = 20, cursor: PageCursor = None) -> dict[str, Any]:
    return certificates.roster(api.caller(), program_id, limit, cursor)


@api.get(
    "/certificates",
    PARENTS,
    returns=CertificateList,
    refusals={400: ["invalid_cursor"]},
    summary="The certificates of the caller's children",
)
def list_certificates(limit: PageLimit = 20, cursor: PageCursor = None) -> dict[str, Any]:
    return certificates.certificates_of_parent(api.caller(), limit, cursor)


@api.get(
    "/certificates/<certificate_id>",
    PARENTS,
    returns=Certificate,
    refusals={404: ["not_found"]},
    summary="One certificate",
)
def get_certificate(certificate_id: str) -> dict[str, Any]:
    return certificates.get_certificate(api.caller(), certificate_id)


@api.get(
    "/certificates/<certificate_id>/ledger",
    PARENTS,
    returns=LedgerPage,
    refusals={400: ["invalid_cursor"], 404: ["not_found"]},
    summary="A certificate's ledger, oldest first",
)
def ledger(certificate_id: str, limit: PageLimit = 20, cursor: PageCursor = None) -> dict[str, Any]:
    return certificates.ledger(api.caller(), certificate_id, limit, cursor)


handler = api.lambda_handler()
