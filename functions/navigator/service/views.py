"""Every aggregate as API.md shows it: the one place that turns store items into answers."""

from __future__ import annotations

from typing import Any

from navigator.store.accounts import CertificateItem, EnrollmentItem, LedgerItem, MonthItem
from navigator.store.catalog import ProviderItem
from navigator.store.people import ChildItem
from navigator.store.periods import PeriodItem
from navigator.store.runs import RunItem


def certificate_view(cert: CertificateItem) -> dict[str, Any]:
    return {
        "certificate_id": cert.certificate_id,
        "number": cert.number,
        "child_id": cert.child_id,
        "period_id": cert.period_id,
        "nominal_kopecks": int(cert.nominal),
        "balance_kopecks": int(cert.balance),
        "reserved_kopecks": int(cert.reserved),
        "spent_kopecks": int(cert.spent),
        "expired_kopecks": int(cert.expired),
        "valid_from": cert.valid_from,
        "valid_to": cert.valid_to,
        "status": cert.status,
    }


def ledger_entry_view(entry: LedgerItem) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "certificate_id": entry.certificate_id,
        "seq": int(entry.seq),
        "type": entry.type,
        "amount_kopecks": int(entry.amount_kopecks),
        "enrollment_id": entry.enrollment_id,
        "month": entry.month,
        "created_at": entry.created_at,
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


def child_view(item: ChildItem) -> dict[str, Any]:
    return {
        "child_id": item.child_id,
        "full_name": item.full_name,
        "birth_date": item.birth_date,
        "snils_masked": item.snils_masked,
    }


def period_view(period: PeriodItem) -> dict[str, Any]:
    return {
        "period_id": period.period_id,
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
        "nominal_kopecks": int(period.nominal_kopecks),
    }


def provider_view(provider: ProviderItem) -> dict[str, Any]:
    return {
        "provider_id": provider.provider_id,
        "name": provider.name,
        "inn": provider.inn,
        "municipality": provider.municipality,
    }


def run_view(run: RunItem) -> dict[str, Any]:
    return {
        "month": run.month,
        "status": run.status,
        "due_count": int(run.due_count),
        "charged_count": int(run.charged_count),
        "already_charged_count": int(run.already_charged_count),
        "failed_count": int(run.failed_count),
        "charged_kopecks": int(run.charged_kopecks),
        "released_kopecks": int(run.released_kopecks),
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }
