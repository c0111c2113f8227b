"""Enrollment use cases: enroll (with the automatic certificate), withdraw, completeness."""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from navigator.api import observability
from navigator.api.auth import Caller
from navigator.domain import enrollment as rules
from navigator.domain.calendar import current_month, now_utc_iso
from navigator.domain.errors import Conflict, Forbidden, NotFound, StoreUnavailable
from navigator.domain.payers import REGION
from navigator.domain.periods import period_of_month
from navigator.store import accounts, budgets, catalog, money, periods
from navigator.store.accounts import (
    CertificateItem,
    ChildProgramItem,
    EnrollmentItem,
    MonthItem,
)
from navigator.store.base import Cancelled, Transaction, read_together, unavailable_on_failure
from navigator.store.money import Movement
from navigator.store.people import CHILD_SK, ChildItem, child_key

ATTEMPTS = 8
REGION_CODE = "24"  # Krasnoyarsk krai


@dataclass
class _Plan:
    """Everything an enrollment decided before its transaction."""

    enrollment_id: str
    child: Any
    program: Any
    seats: Any
    child_program: ChildProgramItem | None
    period: Any
    certificate: CertificateItem | None
    new_certificate: bool
    funding: rules.Funding
    funder: budgets.Funder | None = None


def backoff(attempt: int) -> None:
    """Jittered, growing pauses between attempts, so a crowd on the last seats spreads out."""
    if attempt:
        time.sleep(random.uniform(0, 0.01 * 2**attempt))


def certificate_id_for(child_id: str, period_id: str) -> str:
    """One certificate per child and period: concurrent first enrollments name the same one."""
    digest = hashlib.sha256(f"{child_id}|{period_id}".encode()).hexdigest()
    return f"crt-{digest[:20]}"


def certificate_view(cert: CertificateItem) -> dict[str, Any]:
    return {
        "certificate_id": cert.certificate_id,
        "number": cert.number,
        "child_id": cert.child_id,
        "period_id": cert.period_id,
        "payer_id": cert.payer_id or REGION,
        "nominal_kopecks": int(cert.nominal),
        "balance_kopecks": int(cert.balance),
        "reserved_kopecks": int(cert.reserved),
        "spent_kopecks": int(cert.spent),
        "expired_kopecks": int(cert.expired),
        "valid_from": cert.valid_from,
        "valid_to": cert.valid_to,
        "status": cert.status,
    }


def enrollment_view(head: EnrollmentItem, months: list[MonthItem]) -> dict[str, Any]:
    return {
        "enrollment_id": head.enrollment_id,
        "child_id": head.child_id,
        "program_id": head.program_id,
        "certificate_id": head.certificate_id,
        "status": head.status,
        "start_month": head.start_month,
        "end_month": head.end_month,
        "price_per_month_kopecks": int(head.price_per_month_kopecks),
        "certificate_total_kopecks": int(head.certificate_total_kopecks),
        "copay_total_kopecks": int(head.copay_total_kopecks),
        "schedule": [
            {
                "month": m.month,
                "certificate_kopecks": int(m.certificate_kopecks),
                "copay_kopecks": int(m.copay_kopecks),
                "completeness_percent": int(m.completeness_percent),
                "status": m.status,
                "charged_kopecks": int(m.charged_kopecks),
            }
            for m in sorted(months, key=lambda m: m.month)
        ],
        "created_at": head.created_at,
    }


# -------------------------------------------------------------------- enroll


def enroll(caller: Caller, child_id: str, program_id: str, accept_copay: bool) -> dict[str, Any]:
    """POST /enrollments: the checks in DESIGN.md's order, then one transaction."""
    enrollment_id = "enr-" + secrets.token_hex(8)
    for attempt in range(ATTEMPTS):
        backoff(attempt)
        try:
            plan = _plan(caller, enrollment_id, child_id, program_id, accept_copay)
        except Conflict as refusal:
            observability.refused(refusal.code)
            raise
        now = now_utc_iso()
        tx, head, months = _transaction(plan, now)
        try:
            with unavailable_on_failure():
                connection = accounts.CertificateItem._get_connection().connection
                tx.commit(connection, token=f"{enrollment_id}-{attempt}")
        except Cancelled:
            continue  # someone moved first: read again, and the checks answer in order
        view = enrollment_view(head, months)
        observability.count(observability.ENROLLMENTS_MADE)
        if plan.new_certificate:
            observability.count(observability.CERTIFICATES_ISSUED)
        # The certificate as this transaction left it (money.move updated the object).
        view["certificate"] = (
            certificate_view(plan.certificate) if plan.certificate is not None else None
        )
        return view
    raise StoreUnavailable("Too many concurrent changes; please retry.")


def _plan(
    caller: Caller, enrollment_id: str, child_id: str, program_id: str, accept_copay: bool
) -> _Plan:
    """Everything the checks need, in two consistent batch reads (three when periods moved)."""
    program, seats, child, child_program = read_together(
        [
            (catalog.ProgramItem, catalog.program_key(program_id), catalog.PROGRAM_SK),
            (catalog.SeatsItem, catalog.program_key(program_id), catalog.SEATS_SK),
            (ChildItem, child_key(child_id), CHILD_SK),
            (ChildProgramItem, accounts.child_program_key(child_id, program_id), accounts.CP_SK),
        ]
    )
    if program is None or seats is None or program.status != "published":
        raise NotFound("No such program.")
    if child is None:
        raise NotFound("No such child.")
    if not caller.is_operator and child.parent_sub != caller.sub:
        raise Forbidden("This child is registered by another parent.")
    if child_program is not None and child_program.active_enrollment_id:
        raise Conflict("The child is already enrolled in this program.", code="already_enrolled")
    certificate_funded = program.funding == "certificate"
    first = rules.first_month(
        program.start_month,
        current_month(),
        child_program.last_month if child_program else None,
    )
    if first > program.end_month:
        raise Conflict("The program has no months left.", code="program_ended")
    period, certificate = (
        _period_and_certificate(child_id, first) if certificate_funded else (None, None)
    )
    months = rules.contract_months(
        first, program.end_month, period["ends_on"][:7] if period else None
    )
    if not rules.is_age_eligible(
        child.birth_date, first, int(program.age_min), int(program.age_max), certificate_funded
    ):
        raise Conflict("The child's age does not fit this program.", code="age_not_eligible")
    if seats.taken >= seats.capacity:
        raise Conflict("No free seat is left in this program.", code="no_seats")
    new_certificate = period is not None and certificate is None
    funder = None
    if period is not None and certificate is None:
        funder = budgets.funder_for(child.municipality, period["period_id"])
        certificate = _new_certificate(child, period, funder)
    balance = int(certificate.balance) if certificate is not None else None
    funding = rules.fund(months, int(program.price_per_month_kopecks), balance)
    rules.require_copay_accepted(funding, accept_copay)
    return _Plan(
        enrollment_id,
        child,
        program,
        seats,
        child_program,
        period,
        certificate,
        new_certificate,
        funding,
        funder,
    )


def _period_and_certificate(
    child_id: str, first: str
) -> tuple[Mapping[str, Any], CertificateItem | None]:
    """The period of the first month, read fresh together with the child's certificate in it."""
    for refresh in (False, True):
        cached = [p.view() for p in periods.known_periods(refresh)]
        guess = period_of_month(first, cached)
        if guess is None:
            continue
        period_item, certificate = read_together(
            [
                (periods.PeriodItem, periods.PERIODS_PK, guess["period_id"]),
                (
                    CertificateItem,
                    accounts.cert_key(certificate_id_for(child_id, guess["period_id"])),
                    accounts.CERT_SK,
                ),
            ]
        )
        if period_item is None:
            continue
        fresh = {**period_item.view(), "in_use": period_item.in_use}
        if period_of_month(first, [fresh]) is not None:
            return fresh, certificate
    raise Conflict("No funding period covers the first month.", code="no_active_period")


def _new_certificate(
    child: Any, period: Mapping[str, Any], funder: budgets.Funder
) -> CertificateItem:
    certificate_id = certificate_id_for(child.child_id, period["period_id"])
    nominal = funder.nominal if funder.nominal is not None else period["nominal_kopecks"]
    period_month = period["starts_on"][:7].replace("-", "")
    return CertificateItem(
        pk=accounts.cert_key(certificate_id),
        gsi1pk=f"PARENT#{child.parent_sub}",
        gsi1sk=f"CERT#{period['starts_on']}#{certificate_id}",
        perpk=accounts.period_key(period["period_id"], certificate_id),
        persk=certificate_id,
        certificate_id=certificate_id,
        number=f"{REGION_CODE}-{period_month}-{child.child_id.upper()[3:]}",
        child_id=child.child_id,
        period_id=period["period_id"],
        parent_sub=child.parent_sub,
        payer_id=funder.payer_id,
        budget_version=funder.version,
        nominal=nominal,
        balance=nominal,
        reserved=0,
        spent=0,
        expired=0,
        seq=0,
        status="active",
        valid_from=period["starts_on"],
        valid_to=period["ends_on"],
        created_at=now_utc_iso(),
    )


def _transaction(plan: _Plan, now: str) -> tuple[Transaction, EnrollmentItem, list[MonthItem]]:
    tx = Transaction()
    program, funding = plan.program, plan.funding
    enrollment_id = plan.enrollment_id
    key = accounts.enrollment_key(enrollment_id)
    certificate_id = plan.certificate.certificate_id if plan.certificate is not None else None
    head = EnrollmentItem(
        pk=key,
        gsi1pk=f"PARENT#{plan.child.parent_sub}",
        gsi1sk=f"ENR#{plan.child.child_id}#{now}#{enrollment_id}",
        gsi2pk=f"PROGRAM#{program.program_id}",
        gsi2sk=f"ENR#{now}#{enrollment_id}",
        duepk=accounts.end_key(funding.months[-1], enrollment_id),
        duesk=enrollment_id,
        enrollment_id=enrollment_id,
        child_id=plan.child.child_id,
        program_id=program.program_id,
        provider_id=program.provider_id,
        parent_sub=plan.child.parent_sub,
        certificate_id=certificate_id,
        status="active",
        start_month=funding.months[0],
        end_month=funding.months[-1],
        price_per_month_kopecks=funding.price,
        certificate_total_kopecks=funding.certificate_total,
        copay_total_kopecks=funding.copay_total,
        created_at=now,
    )
    tx.put("enrollment", head, EnrollmentItem.pk.does_not_exist())
    months = []
    for entry in funding.schedule():
        funded = certificate_id is not None
        month = MonthItem(
            pk=key,
            sk=accounts.month_sk(entry["month"]),
            duepk=accounts.due_key(entry["month"], enrollment_id) if funded else None,
            duesk=enrollment_id if funded else None,
            enrollment_id=enrollment_id,
            certificate_id=certificate_id,
            **entry,
        )
        tx.put("month", month, MonthItem.pk.does_not_exist())
        months.append(month)
    _hold_child_program(tx, plan, enrollment_id)
    catalog.take_seat(tx, plan.seats, int(program.version))
    if plan.certificate is not None:
        reserve = [Movement("reserve", funding.certificate_total, enrollment_id)]
        if plan.new_certificate:
            money.issue_with(tx, plan.certificate, reserve, now)
            assert plan.funder is not None  # a new certificate has its funder
            budgets.take_certificate(tx, plan.funder)
            if not plan.period["in_use"]:
                periods.mark_in_use(tx, plan.period)
        else:
            money.move(tx, plan.certificate, reserve, now)
    return tx, head, months


def _hold_child_program(tx: Transaction, plan: _Plan, enrollment_id: str) -> None:
    """One active enrollment per child and program; the last month read stays as it was."""
    item = ChildProgramItem(
        pk=accounts.child_program_key(plan.child.child_id, plan.program.program_id)
    )
    seen = plan.child_program
    if seen is None:
        condition = ChildProgramItem.pk.does_not_exist()
    else:
        condition = ChildProgramItem.active_enrollment_id.does_not_exist()
        condition &= (
            ChildProgramItem.last_month == seen.last_month
            if seen.last_month
            else ChildProgramItem.last_month.does_not_exist()
        )
    tx.update(
        "child_program", item, [ChildProgramItem.active_enrollment_id.set(enrollment_id)], condition
    )


# ------------------------------------------------------------------- reading


def _may_read(caller: Caller, head: EnrollmentItem) -> bool:
    if caller.is_operator:
        return True
    if caller.is_parent and head.parent_sub == caller.sub:
        return True
    return caller.is_provider and caller.provider_id == head.provider_id


def get_enrollment(caller: Caller, enrollment_id: str) -> dict[str, Any]:
    head, months = accounts.get_enrollment(enrollment_id)
    if not _may_read(caller, head):
        raise Forbidden("This enrollment is not yours.")
    return enrollment_view(head, months)


# ----------------------------------------------------------------- withdraw


def withdraw(caller: Caller, enrollment_id: str) -> dict[str, Any]:
    """Cancels the months after the current one, releases their reserve and frees the seat."""
    for attempt in range(ATTEMPTS):
        backoff(attempt)
        head, months = accounts.get_enrollment(enrollment_id)
        if head.parent_sub != caller.sub:
            raise Forbidden("This enrollment is not yours.")
        if head.status != "active":
            return enrollment_view(head, months)
        tx = Transaction()
        cancelled = set(rules.months_to_cancel([m.data() for m in months], current_month()))
        _withdraw_transaction(tx, head, months, cancelled)
        try:
            with unavailable_on_failure():
                tx.commit(accounts.CertificateItem._get_connection().connection)
        except Cancelled:
            continue
        head, months = accounts.get_enrollment(enrollment_id)
        return enrollment_view(head, months)
    raise StoreUnavailable("Too many concurrent changes; please retry.")


def _withdraw_transaction(
    tx: Transaction, head: EnrollmentItem, months: list[MonthItem], cancelled: set[str]
) -> None:
    now = now_utc_iso()
    released = 0
    for month in months:
        if month.month in cancelled:
            released += int(month.certificate_kopecks)
            tx.update(
                "month",
                month,
                [
                    MonthItem.status.set("cancelled"),
                    MonthItem.duepk.remove(),
                    MonthItem.duesk.remove(),
                ],
                MonthItem.status == "pending",
            )
    kept = [m.month for m in months if m.month not in cancelled and m.status != "cancelled"]
    end_enrollment(tx, head, "withdrawn", kept[-1] if kept else None)
    if head.certificate_id and released:
        certificate = accounts.get_certificate(head.certificate_id)
        movements = [Movement("release", released, head.enrollment_id)]
        if certificate.status == "expired":
            movements.append(Movement("expire", released, head.enrollment_id))
        money.move(tx, certificate, movements, now)


def end_enrollment(
    tx: Transaction, head: EnrollmentItem, status: str, last_month: str | None
) -> None:
    """Withdrawn or completed: no longer active, the seat freed, the child free to re-enroll."""
    tx.update(
        "enrollment",
        head,
        [
            EnrollmentItem.status.set(status),
            EnrollmentItem.duepk.remove(),
            EnrollmentItem.duesk.remove(),
        ],
        EnrollmentItem.status == "active",
    )
    release_child_program(tx, head, last_month)
    catalog.free_seat(tx, head.program_id)


def release_child_program(tx: Transaction, head: EnrollmentItem, last_month: str | None) -> None:
    """The child may enroll again; a new contract starts after `last_month`."""
    item = ChildProgramItem(pk=accounts.child_program_key(head.child_id, head.program_id))
    actions: list[Any] = [ChildProgramItem.active_enrollment_id.remove()]
    if last_month:
        actions.append(ChildProgramItem.last_month.set(last_month))
    tx.update(
        "child_program",
        item,
        actions,
        ChildProgramItem.active_enrollment_id == head.enrollment_id,
    )


# -------------------------------------------------------------- completeness


def report_completeness(
    caller: Caller, enrollment_id: str, month: str, percent: int
) -> dict[str, Any]:
    head, months = accounts.get_enrollment(enrollment_id)
    if not (caller.is_provider and caller.provider_id == head.provider_id):
        raise Forbidden("Only the program's provider reports completeness.")
    target = next((m for m in months if m.month == month), None)
    if target is None:
        raise NotFound("This month is not in the enrollment's schedule.")
    for _ in range(ATTEMPTS):
        _refuse_closed(target)
        tx = Transaction()
        tx.update(
            "month",
            target,
            [MonthItem.completeness_percent.set(percent)],
            MonthItem.status == "pending",
        )
        try:
            with unavailable_on_failure():
                tx.commit(accounts.CertificateItem._get_connection().connection)
        except Cancelled:
            _, months = accounts.get_enrollment(enrollment_id)
            target = next(m for m in months if m.month == month)
            continue
        head, months = accounts.get_enrollment(enrollment_id)
        return enrollment_view(head, months)
    raise StoreUnavailable("Too many concurrent changes; please retry.")


def _refuse_closed(month: MonthItem) -> None:
    if month.status == "charged":
        raise Conflict("This month has already been debited.", code="month_already_debited")
    if month.status == "cancelled":
        raise Conflict("This month was cancelled.", code="month_cancelled")
