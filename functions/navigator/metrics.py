"""Business metrics, as CloudWatch EMF through Powertools Metrics (namespace: Navigator).

One shared Metrics object per process: Powertools flushes it when the handler returns
(`log_metrics`). Names are listed here once; the dashboard and alarms in template.yaml use
the same names (tests/test_observability.py checks they agree).
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

ENROLLMENTS_MADE = "EnrollmentsMade"
ENROLLMENTS_REFUSED = "EnrollmentsRefused"
CERTIFICATES_ISSUED = "CertificatesIssued"
ITEMS_CHARGED = "ItemsCharged"
ITEMS_FAILED = "ItemsFailed"
KOPECKS_CHARGED = "KopecksCharged"
KOPECKS_RELEASED = "KopecksReleased"
DEBIT_RUN_SECONDS = "DebitRunSeconds"
DEBIT_RUN_INCOMPLETE = "DebitRunIncomplete"

# The namespace is fixed here too: a process that flushes without the template's environment
# (the `navigator debit` command) must not fail on it.
metrics = Metrics(namespace="Navigator")


def count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    metrics.add_metric(name=name, unit=unit, value=value)


def refused(reason: str) -> None:
    """A refused enrollment, by its refusal code (a dimension of its own metric)."""
    # single_metric flushes on exit and, unlike Metrics, ignores POWERTOOLS_METRICS_DISABLED
    # (the local stack sets it; each refusal printed an EMF line there): ask as Metrics does.
    if is_metrics_disabled():
        return
    with single_metric(
        name=ENROLLMENTS_REFUSED,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace or "Navigator",
    ) as metric:
        metric.add_dimension(name="reason", value=reason)
