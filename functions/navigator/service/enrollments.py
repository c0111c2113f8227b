"""Enrollment use cases: enroll (with the automatic certificate), withdraw, completeness."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from navigator import metrics
from navigator.domain import enrollment as rules
from navigator.domain.calendar import current_month, now_utc_iso
from navigator.domain.errors import Conflict, Forbidden, NotFound
from navigator.domain.periods import period_of_month
from navigator.identity import Caller
from navigator.service.views import certificate_view, enrollment_view, period_view
from navigator.store import accounts, catalog, money, periods
from navigator.store.accounts import CertificateItem, ChildProgramItem, EnrollmentItem, MonthItem
from navigator.store.base import Cancelled, Transaction, retrying
from navigator.store.money import Movement

# A snapshot holds the periods a contract could still start in: the current one and the next.
SNAPSHOT_PERIODS = 4


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


# -------------------------------------------------------------------- enroll


def enroll(caller: Caller, child_id: str, program_id: str, accept_copay: bool) -> dict[str, Any]:
    """POST /enrollments: the checks in DESIGN.md's order, then one transaction."""
    enrollment_id = "enr-" + secrets.token_hex(8)
    tries = iter(range(1_000))

    def attempt() -> dict[str, Any]:
        try:
            plan = _plan(caller, enrollment_id, child_id, program_id, accept_copay)
        except Conflict as refusal:
            metrics.refused(refusal.code)
            raise
        tx, head, months = _transaction(plan, now_utc_iso())
        # Someone moved first: Cancelled, and the next attempt reads again, so the checks
        # answer in order. The token makes a retried commit whose answer was lost succeed.
        tx.commit(token=f"{enrollment_id}-{next(tries)}")
        metrics.count(metrics.ENROLLMENTS_MADE)
        if plan.new_certificate:
            metrics.count(metrics.CERTIFICATES_ISSUED)
        view = enrollment_view(head, months)
        # The certificate as this transaction left it (money.move updated the object).
        view["certificate"] = (
            certificate_view(plan.certificate) if plan.certificate is not None else None
        )
        return view

    return retrying(attempt, what="The program")


@dataclass
class _Seen:
    """What the checks decide from: the program, its seats, the child, the child's standing
    in the program, and how to find the period of a first month with the child's certificate
    in it."""

    program: Any
    seats: Any
    child: Any
    child_program: ChildProgramItem | None
    period_for: Callable[[str], tuple[Mapping[str, Any], CertificateItem | None]]


def _plan(
    caller: Caller, enrollment_id: str, child_id: str, program_id: str, accept_copay: bool
) -> _Plan:
    """Decide from two consistent batch reads; confirm any refusal on one snapshot.

    A plan that goes ahead needs no snapshot: its transaction is conditioned on everything it
    read, so it commits only if all of it still holds. A refusal commits nothing, so it is
    decided again from items that all stood at one moment: then it is the answer that a
    serial order would give there (a double click finds the first click's enrollment, never
    its balance without its lock)."""
    try:
        return _decide(caller, enrollment_id, _batch_read(child_id, program_id), accept_copay)
    except Conflict:
        return _decide(caller, enrollment_id, _snapshot(child_id, program_id), accept_copay)


def _batch_read(child_id: str, program_id: str) -> _Seen:
    program, seats, child, child_program = accounts.enrollment_inputs(child_id, program_id)
    return _Seen(
        program,
        seats,
        child,
        child_program,
        lambda first: _period_and_certificate(child_id, first),
    )


def _snapshot(child_id: str, program_id: str) -> _Seen:
    """Everything a decision reads, in one TransactGetItems: the periods that a contract could
    still start in, with the child's certificate in each, under the registry's version."""
    version, known = periods.read_periods()
    now = current_month()
    open_ids = [p.period_id for p in known if p.ends_on[:7] >= now][:SNAPSHOT_PERIODS]
    program, seats, child, child_program, seen_version, pairs = accounts.enrollment_snapshot(
        child_id, program_id, open_ids
    )
    if seen_version != version:
        raise Cancelled(set(), conflicted=True)  # a period was written meanwhile: read again
    found = {
        item.period_id: ({**period_view(item), "in_use": item.in_use}, certificate)
        for item, certificate in pairs
        if item is not None
    }

    def period_for(first: str) -> tuple[Mapping[str, Any], CertificateItem | None]:
        period = period_of_month(first, [fresh for fresh, _ in found.values()])
        if period is None:
            raise Conflict("No funding period covers the first month.", code="no_active_period")
        return found[period["period_id"]]

    return _Seen(program, seats, child, child_program, period_for)


def _decide(caller: Caller, enrollment_id: str, seen: _Seen, accept_copay: bool) -> _Plan:
    """DESIGN.md's checks, in their order, on what was read."""
    program, seats, child, child_program = seen.program, seen.seats, seen.child, seen.child_program
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
    period, certificate = seen.period_for(first) if certificate_funded else (None, None)
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
    if period is not None and certificate is None:
        certificate = accounts.new_certificate(
            child.child_id, child.parent_sub, period, now_utc_iso()
        )
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
    )


def _period_and_certificate(
    child_id: str, first: str
) -> tuple[Mapping[str, Any], CertificateItem | None]:
    """The period of the first month, read fresh together with the child's certificate in it."""
    for refresh in (False, True):
        cached = [period_view(p) for p in periods.known_periods(refresh)]
        guess = period_of_month(first, cached)
        if guess is None:
            continue
        period_item, certificate = accounts.period_and_certificate(guess["period_id"], child_id)
        if period_item is None:
            continue
        fresh = {**period_view(period_item), "in_use": period_item.in_use}
        if period_of_month(first, [fresh]) is not None:
            return fresh, certificate
    raise Conflict("No funding period covers the first month.", code="no_active_period")


def _transaction(plan: _Plan, now: str) -> tuple[Transaction, EnrollmentItem, list[MonthItem]]:
    tx = Transaction()
    program, funding, child = plan.program, plan.funding, plan.child
    head, months = accounts.new_enrollment(
        plan.enrollment_id,
        child_id=child.child_id,
        parent_sub=child.parent_sub,
        program_id=program.program_id,
        provider_id=program.provider_id,
        certificate_id=plan.certificate.certificate_id if plan.certificate is not None else None,
        price=funding.price,
        schedule=funding.schedule(),
        certificate_total=funding.certificate_total,
        copay_total=funding.copay_total,
        created_at=now,
    )
    accounts.put_enrollment(tx, head, months)
    accounts.hold_child_program(
        tx, child.child_id, program.program_id, plan.child_program, plan.enrollment_id
    )
    catalog.take_seat(tx, plan.seats, int(program.version))
    if plan.certificate is not None:
        reserve = [Movement("reserve", funding.certificate_total, plan.enrollment_id)]
        if plan.new_certificate:
            money.issue_with(tx, plan.certificate, reserve, now)
            if not plan.period["in_use"]:
                periods.mark_in_use(tx, plan.period)
        else:
            money.move(tx, plan.certificate, reserve, now)
    return tx, head, months


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

    def attempt() -> dict[str, Any]:
        head, months = accounts.get_enrollment(enrollment_id)
        if head.parent_sub != caller.sub:
            raise Forbidden("This enrollment is not yours.")
        if head.status == "active":
            cancelled = set(rules.months_to_cancel([m.data() for m in months], current_month()))
            _withdraw_transaction(head, months, cancelled).commit()
            head, months = accounts.get_enrollment(enrollment_id)
        return enrollment_view(head, months)

    return retrying(attempt, what="The enrollment")


def _withdraw_transaction(
    head: EnrollmentItem, months: list[MonthItem], cancelled: set[str]
) -> Transaction:
    tx = Transaction()
    released = 0
    for month in months:
        if month.month in cancelled:
            released += int(month.certificate_kopecks)
            accounts.cancel_month(tx, month)
    kept = [m.month for m in months if m.month not in cancelled and m.status != "cancelled"]
    accounts.end_enrollment(tx, head, "withdrawn", kept[-1] if kept else None)
    if head.certificate_id and released:
        certificate = accounts.get_certificate(head.certificate_id)
        movements = [Movement("release", released, head.enrollment_id)]
        if certificate.status == "expired":
            movements.append(Movement("expire", released, head.enrollment_id))
        money.move(tx, certificate, movements, now_utc_iso())
    return tx


# -------------------------------------------------------------- completeness


def report_completeness(
    caller: Caller, enrollment_id: str, month: str, percent: int
) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        head, months = accounts.get_enrollment(enrollment_id)
        if not (caller.is_provider and caller.provider_id == head.provider_id):
            raise Forbidden("Only the program's provider reports completeness.")
        target = next((m for m in months if m.month == month), None)
        if target is None:
            raise NotFound("This month is not in the enrollment's schedule.")
        _refuse_closed(target)
        tx = Transaction()
        accounts.report_completeness(tx, target, percent)
        tx.commit()
        return enrollment_view(*accounts.get_enrollment(enrollment_id))

    return retrying(attempt, what="The enrollment")


def _refuse_closed(month: MonthItem) -> None:
    if month.status == "charged":
        raise Conflict("This month has already been debited.", code="month_already_debited")
    if month.status == "cancelled":
        raise Conflict("This month was cancelled.", code="month_cancelled")
