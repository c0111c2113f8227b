"""Invoice runs' refusals, reading, statuses and registers (API.md, "Invoices")."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from tests.settle.helpers import by_group, debit, form, invoices, lines
from tests.support.api import OPERATOR, PARENT, provider, request
from tests.support.money import enroll, publish, register_child, set_today

PRICE = 123_456
ADVANCE = PRICE * 80 // 100  # 98,764.8 -> 98,764


@pytest.fixture
def advanced(world):
    """Two children in p1's program and one in p2's, and September's advances formed."""
    for provider_id, count in (("p1", 2), ("p2", 1)):
        program = publish(provider_id, price_per_month_kopecks=PRICE, title="=Шахматы; блиц")
        for _ in range(count):
            assert enroll(register_child(), program).status == 201
    assert form("2026-09", "advance").body["status"] == "completed"
    return {i["provider_id"]: i for i in invoices()}


def test_an_advance_for_a_month_not_begun_is_refused(world):
    reply = form("2026-10", "advance")
    assert (reply.status, reply.code) == (409, "month_not_started")


def test_a_final_invoice_needs_the_month_wholly_charged(advanced, world):
    assert form("2026-09", "final").code == "month_not_charged"  # no debit yet
    set_today(world, "2026-10-02")
    assert form("2026-09", "final").code == "month_not_charged"
    debit("2026-09")
    reply = form("2026-09", "final")
    assert (reply.status, reply.body["invoices_count"]) == (202, 2)


def test_a_run_validates_its_body(world):
    reply = form("2026-9", "advance")
    assert (reply.status, reply.code) == (422, "validation_error")
    assert form("2026-09", "monthly").status == 422
    assert request("GET", "/invoice-runs/2026-09/advance", claims=OPERATOR).status == 404
    assert request("GET", "/invoice-runs/2026-09/other", claims=OPERATOR).status == 422


def test_an_invoice_and_its_lines(advanced):
    invoice = advanced["p1"]
    assert invoice["number"] and invoice["kind"] == "advance" and invoice["month"] == "2026-09"
    assert (invoice["payer_id"], invoice["payer_name"]) == ("region", "Краевой бюджет")
    assert (invoice["provider_name"], invoice["provider_inn"]) == ("Студия p1", "7707083893")
    assert (invoice["lines_count"], invoice["amount_kopecks"]) == (2, 2 * ADVANCE)
    assert invoice["charged_total_kopecks"] is None and invoice["advance_kopecks"] is None
    assert (invoice["status"], invoice["accepted_at"], invoice["paid_on"]) == ("formed", None, None)
    one = request("GET", f"/invoices/{invoice['invoice_id']}", claims=OPERATOR)
    assert one.body == invoice
    got = lines(invoice["invoice_id"])
    assert len({line["enrollment_id"] for line in got}) == 2
    for line in got:
        assert line["certificate_kopecks"] == PRICE and line["amount_kopecks"] == ADVANCE
        assert line["completeness_percent"] is None and line["month"] == "2026-09"
        assert re.match(r"^24-202609-", line["certificate_number"])
    assert advanced["p1"]["number"] != advanced["p2"]["number"]


def test_lists_filter_and_page(advanced, world):
    set_today(world, "2026-10-02")
    debit("2026-09")
    form("2026-09", "final")
    form("2026-10", "advance")
    everything = invoices()
    assert [i["month"] for i in everything] == ["2026-10"] * 2 + ["2026-09"] * 4  # newest first
    assert len({i["invoice_id"] for i in everything}) == 6
    assert {i["kind"] for i in invoices(kind="final")} == {"final"}
    assert {i["provider_id"] for i in invoices(provider_id="p2")} == {"p2"}
    assert len(invoices(month="2026-09", payer_id="region")) == 4
    assert invoices(payer_id="kansk") == []
    assert invoices(status="paid") == []
    first = request("GET", "/invoices", claims=OPERATOR, query={"limit": "2"}).body
    moved = request(
        "GET",
        "/invoices",
        claims=OPERATOR,
        query={"limit": "2", "kind": "final", "cursor": first["next_cursor"]},
    )
    assert (moved.status, moved.code) == (400, "invalid_cursor")


def test_a_provider_reads_only_its_own_invoices(advanced):
    mine = invoices(claims=provider("p1"))
    assert {i["provider_id"] for i in mine} == {"p1"}
    assert invoices(claims=provider("p1"), provider_id="p2") == []
    other = advanced["p2"]["invoice_id"]
    for path in (f"/invoices/{other}", f"/invoices/{other}/lines", f"/invoices/{other}/register"):
        assert request("GET", path, claims=provider("p1")).status == 403
    assert request("GET", "/invoices/nope", claims=provider("p1")).status == 404
    assert request("GET", "/invoices", claims=PARENT).status == 403
    assert request("GET", "/invoices").status == 401


def test_statuses_go_forward_one_step_at_a_time(advanced, world):
    invoice_id = advanced["p1"]["invoice_id"]
    path = f"/invoices/{invoice_id}"
    paid = {"paid_on": "2026-09-15", "payment_order": "ПП-117"}
    early = request("POST", f"{path}/pay", body=paid, claims=OPERATOR)
    assert (early.status, early.code) == (409, "invalid_invoice_status")
    accepted = request("POST", f"{path}/accept", claims=OPERATOR)
    assert accepted.status == 200 and accepted.body["status"] == "accepted"
    assert accepted.body["accepted_at"]
    assert request("POST", f"{path}/accept", claims=OPERATOR).body == accepted.body  # harmless
    future = request("POST", f"{path}/pay", body={**paid, "paid_on": "2026-09-16"}, claims=OPERATOR)
    assert (future.status, future.code) == (422, "validation_error")
    assert (
        request("POST", f"{path}/pay", body={**paid, "payment_order": ""}, claims=OPERATOR).status
        == 422
    )
    done = request("POST", f"{path}/pay", body=paid, claims=OPERATOR)
    assert done.status == 200
    assert (done.body["status"], done.body["paid_on"], done.body["payment_order"]) == (
        "paid",
        "2026-09-15",
        "ПП-117",
    )
    assert request("POST", f"{path}/pay", body=paid, claims=OPERATOR).body == done.body
    other = request(
        "POST", f"{path}/pay", body={**paid, "payment_order": "ПП-118"}, claims=OPERATOR
    )
    assert other.code == "invalid_invoice_status"
    assert request("POST", f"{path}/accept", claims=OPERATOR).code == "invalid_invoice_status"
    assert request("GET", path, claims=OPERATOR).body == done.body
    # Amounts and lines never move with the status.
    assert (done.body["amount_kopecks"], done.body["lines_count"]) == (2 * ADVANCE, 2)


def test_a_provider_can_not_accept_or_pay(advanced):
    path = f"/invoices/{advanced['p1']['invoice_id']}"
    assert request("POST", f"{path}/accept", claims=provider("p1")).status == 403
    paid = {"paid_on": "2026-09-15", "payment_order": "1"}
    assert request("POST", f"{path}/pay", body=paid, claims=provider("p1")).status == 403
    assert request("POST", "/invoices/nope/accept", claims=OPERATOR).status == 404


def test_the_csv_register_opens_in_excel_as_is(advanced):
    invoice = advanced["p1"]
    reply = _register(invoice["invoice_id"], "csv")
    assert reply["statusCode"] == 200
    headers = reply["headers"]
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(
        r'attachment; filename="register-2026-09-avans-p1\.csv"', headers["Content-Disposition"]
    )
    text = reply["body"]
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert header[1] == "Номер сертификата" and len(body) == 2
    for row in body:
        assert row[4] == "'=Шахматы; блиц"  # a formula's lead is neutralised
        assert (row[6], row[8]) == ("1234,56", "987,64")
        assert row[7] == ""  # an advance has no completeness
    assert (total[0], total[-2], total[-1]) == ("Итого", "2", "1975,28")
    numbers = {line["certificate_number"] for line in lines(invoice["invoice_id"])}
    assert {row[1] for row in body} == numbers
    assert "Иванов" not in text  # the child is never named


def test_the_xlsx_register_is_a_workbook_with_typed_numbers_and_a_total(advanced):
    import base64

    reply = _register(advanced["p1"]["invoice_id"], "xlsx")
    assert reply["isBase64Encoded"] is True
    assert reply["headers"]["Content-Type"].startswith("application/vnd.openxmlformats")
    book = zipfile.ZipFile(io.BytesIO(base64.b64decode(reply["body"])))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == 1 + 2 + 1  # the header, two lines, the total
    assert '<c r="G2" s="2"><v>1234.56</v></c>' in sheet  # a number, not text
    assert "<v>1975.28</v>" in sheet


def _register(invoice_id: str, fmt: str) -> dict:
    from infra.local.events import rest_event
    from infra.local.workers import LocalLambdaContext
    from settle.app import handler

    event = rest_event(
        "GET",
        "/invoices/{invoice_id}/register",
        f"/invoices/{invoice_id}/register",
        query={"format": [fmt]},
        path_parameters={"invoice_id": invoice_id},
        claims=OPERATOR,
    )
    result = handler(event, LocalLambdaContext("settle", "r"))
    headers = {k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()}
    return {**result, "headers": {**headers, **(result.get("headers") or {})}}


def test_a_register_too_large_for_lambda_is_stored_once_and_fetched_by_a_presigned_address(
    advanced, monkeypatch
):
    import boto3

    from navigator.service import registers
    from navigator.settings import reset_settings

    s3 = boto3.client("s3", region_name="eu-central-1")
    s3.create_bucket(
        Bucket="registers", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    monkeypatch.setenv("REGISTERS_BUCKET", "registers")
    reset_settings()
    invoice_id = advanced["p1"]["invoice_id"]
    small = _register(invoice_id, "csv")
    assert small["statusCode"] == 200  # under the limit: inline, nothing stored
    assert s3.list_objects_v2(Bucket="registers").get("KeyCount") == 0

    monkeypatch.setattr(registers, "INLINE_BYTES", 100)  # as if it had 100,000 lines
    reply = _register(invoice_id, "csv")
    assert reply["statusCode"] == 303
    location = reply["headers"]["Location"]
    key = f"registers/{invoice_id}.csv"
    assert f"/{key}?" in location and "Signature" in location
    stored = s3.get_object(Bucket="registers", Key=key)
    assert stored["ContentType"] == "text/csv; charset=utf-8"
    assert stored["ContentDisposition"].startswith('attachment; filename="register-2026-09-')
    text = stored["Body"].read().decode("utf-8-sig")
    assert text.splitlines()[0].split(";")[1] == "Номер сертификата"
    assert text.splitlines()[-1].startswith("Итого")

    written = []
    monkeypatch.setattr(registers, "write_csv", lambda *a: written.append(a))
    again = _register(invoice_id, "csv")  # an invoice never changes: the stored copy serves
    assert again["statusCode"] == 303 and written == []


def test_a_register_format_is_csv_or_xlsx(advanced):
    invoice_id = advanced["p1"]["invoice_id"]
    reply = request(
        "GET", f"/invoices/{invoice_id}/register", claims=OPERATOR, query={"format": "pdf"}
    )
    assert reply.status == 422


def test_by_group_keys_each_invoice(advanced):
    assert set(by_group(invoices())) == {("advance", "region", "p1"), ("advance", "region", "p2")}


def test_the_xlsx_register_reaches_the_client_as_bytes_through_the_local_gateway(advanced):
    from infra.local.gateway import GatewayApp
    from infra.local.tokens import issue_token
    from infra.local.workers import LocalLambdaContext
    from infra.template import api_routes, binary_media_types
    from navigator.service.registers import XLSX_TYPE
    from tests.api.test_authorization_matrix import InProcessPool

    assert binary_media_types() == [XLSX_TYPE]  # the template's, as API Gateway reads them
    app = GatewayApp(api_routes(), InProcessPool())  # type: ignore[arg-type]
    invoice_id = advanced["p1"]["invoice_id"]
    results = {}
    for fmt in ("csv", "xlsx"):
        event = {
            "requestContext": {
                "httpMethod": "GET",
                "resourcePath": "/invoices/{invoice_id}/register",
                "path": f"/invoices/{invoice_id}/register",
            },
            "headers": {"authorization": "Bearer " + issue_token("operator", OPERATOR["sub"])},
            "pathParameters": {"invoice_id": invoice_id},
            "multiValueQueryStringParameters": {"format": [fmt]},
            "body": None,
        }
        results[fmt] = app(event, LocalLambdaContext("gateway", "g"))
    # Chalice's server decodes a base64 body before it writes it: the XLSX leaves as bytes.
    assert results["xlsx"]["isBase64Encoded"] is True
    assert results["csv"]["isBase64Encoded"] is False
    assert results["csv"]["body"].startswith("\ufeff№;")


def test_the_invoice_check_is_clean_and_finds_a_tampered_line(advanced, world):
    from navigator.service.settlement import invoice_mismatches
    from navigator.store.invoices import LineItem, get_invoice, lines_of

    set_today(world, "2026-10-02")
    debit("2026-09")
    form("2026-09", "final")
    assert invoice_mismatches("2026-09") == []
    invoice = get_invoice("final~2026-09~region~p1")
    line = next(iter(lines_of(invoice.invoice_id, invoice.pass_id)))
    line.update(actions=[LineItem.amount_kopecks.set(1)])
    problems = invoice_mismatches("2026-09")
    assert {p.get("invoice_id") for p in problems} == {invoice.invoice_id}
    assert any("add up to" in text for p in problems for text in p["problems"])
