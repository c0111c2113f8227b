"""The dashboard, alarms and metrics in template.yaml agree with the code that emits them."""

from __future__ import annotations

import json
import re

from infra.template import load_template
from navigator import metrics


def _resources(kind: str) -> dict:
    return {k: v for k, v in load_template()["Resources"].items() if v["Type"] == kind}


def _dashboard() -> dict:
    (dashboard,) = _resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(re.sub(r"\$\{[^}]+\}", "x", body))


def test_the_dashboard_is_valid_json_and_shows_every_business_metric():
    names = json.dumps(_dashboard())
    for metric in (
        metrics.ENROLLMENTS_MADE,
        metrics.ENROLLMENTS_REFUSED,
        metrics.CERTIFICATES_ISSUED,
        metrics.ITEMS_CHARGED,
        metrics.KOPECKS_CHARGED,
        metrics.KOPECKS_RELEASED,
        metrics.DEBIT_RUN_SECONDS,
        "ApproximateNumberOfMessagesVisible",
        "5XXError",
        "Latency",
    ):
        assert metric in names, metric


def test_alarms_cover_what_the_ops_engineer_is_woken_for():
    alarms = _resources("AWS::CloudWatch::Alarm")
    by_metric = {a["Properties"].get("MetricName"): a for a in alarms.values()}
    assert "5XXError" in by_metric and "Latency" in by_metric
    assert by_metric["Latency"]["Properties"]["ExtendedStatistic"] == "p99"
    assert by_metric[metrics.DEBIT_RUN_INCOMPLETE]["Properties"]["Namespace"] == "Navigator"
    dlq = by_metric["ApproximateNumberOfMessagesVisible"]["Properties"]["Dimensions"][0]
    assert dlq["Value"] == {"Fn::GetAtt": ["DebitDeadLetterQueue", "QueueName"]}
    throttles = [a for a in alarms.values() if "Metrics" in a["Properties"]]
    watched = {
        m["MetricStat"]["Metric"]["MetricName"]
        for a in throttles
        for m in a["Properties"]["Metrics"]
        if "MetricStat" in m
    }
    assert {"Throttles", "ReadThrottleEvents", "WriteThrottleEvents"} <= watched
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_function_has_an_errors_alarm_and_a_log_group():
    functions = set(_resources("AWS::Serverless::Function"))
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in _resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "Errors"
    }
    assert functions == alarmed
    logged = {
        g["Properties"]["LogGroupName"]["Fn::Sub"].rsplit("${", 1)[1].rstrip("}")
        for g in _resources("AWS::Logs::LogGroup").values()
    }
    assert functions == logged


def test_the_watch_reports_an_incomplete_run(aws, monkeypatch):
    import debit.watch
    from debit.watch import handler
    from infra.local.workers import LocalLambdaContext

    emitted = []
    monkeypatch.setattr(
        debit.watch, "count", lambda name, value=1, *a: emitted.append((name, value))
    )
    result = handler({"scheduled_time": "2026-10-02T02:00:00Z"}, LocalLambdaContext("w", "r"))
    assert result == {"month": "2026-09", "completed": False}
    assert emitted == [(metrics.DEBIT_RUN_INCOMPLETE, 1)]


def test_refusal_metrics_follow_the_disabled_switch(monkeypatch, capsys):
    from navigator.metrics import ENROLLMENTS_REFUSED, refused

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    refused("no_seats")
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    refused("no_seats")
    emf = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert emf["reason"] == "no_seats" and emf[ENROLLMENTS_REFUSED] == [1.0]
