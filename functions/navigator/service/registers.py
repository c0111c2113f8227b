"""An invoice's register for the payer's accountants: CSV that Excel opens as is, or XLSX.

Both stream the lines page by page into a file under the temporary folder, so memory holds
one page whatever the invoice's size (xlsxwriter's constant-memory mode writes each row as
it comes). A line names the certificate's number, never the child.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from navigator.domain.settlement import roubles
from navigator.settings import get_settings
from navigator.store import invoices as store
from navigator.store.invoices import InvoiceItem, LineItem

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 500
# Lambda answers at most 6 MB (6,291,456 bytes) and a binary body travels in base64 (4/3):
# a larger file is stored in the registers bucket and fetched from there.
INLINE_BYTES = 4_500_000
LINK_SECONDS = 15 * 60
HEADER = [
    "№",
    "Номер сертификата",
    "Договор",
    "Программа",
    "Название программы",
    "Месяц",
    "Сумма по сертификату, руб.",
    "Выполнение, %",
    "Сумма, руб.",
]
# A text cell that Excel would read as a formula gets a leading apostrophe (CSV injection).
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def all_lines(invoice: InvoiceItem) -> Iterator[LineItem]:
    after = None
    while True:
        page, after = store.lines_page(invoice, PAGE, after)
        yield from page
        if after is None:
            return


def file_name(invoice: InvoiceItem, extension: str) -> str:
    kind = "avans" if invoice.kind == "advance" else "final"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in invoice.provider_id)
    return f"register-{invoice.month}-{kind}-{safe}.{extension}"


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_LEAD) else value


def _cells(number: int, line: LineItem) -> list[Any]:
    percent = line.completeness_percent
    return [
        number,
        _text(line.certificate_number),
        _text(line.enrollment_id),
        _text(line.program_id),
        _text(line.program_title),
        line.month,
        int(line.certificate_kopecks),
        int(percent) if percent is not None else None,
        int(line.amount_kopecks),
    ]


def write_csv(invoice: InvoiceItem, path: str) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        total = count = 0
        for count, line in enumerate(all_lines(invoice), start=1):
            cells = _cells(count, line)
            cells[6], cells[8] = roubles(cells[6]), roubles(cells[8])
            writer.writerow(["" if c is None else c for c in cells])
            total += int(line.amount_kopecks)
        writer.writerow(["Итого", "", "", "", "", "", "", str(count), roubles(total)])


def write_xlsx(invoice: InvoiceItem, path: str) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path,
        {"constant_memory": True, "tmpdir": os.path.dirname(path), "strings_to_numbers": False},
    )
    sheet = workbook.add_worksheet("Реестр")
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    money_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True})
    sheet.set_column(0, 0, 7)
    sheet.set_column(1, 4, 22)
    sheet.set_column(5, 8, 14)
    sheet.write_row(0, 0, HEADER, bold)
    row = 1
    total = 0
    for count, line in enumerate(all_lines(invoice), start=1):
        cells = _cells(count, line)
        sheet.write_number(row, 0, count)
        for column in range(1, 6):
            sheet.write_string(row, column, str(cells[column]))
        sheet.write_number(row, 6, cells[6] / 100, money)
        if cells[7] is not None:
            sheet.write_number(row, 7, cells[7])
        sheet.write_number(row, 8, cells[8] / 100, money)
        total += cells[8]
        row += 1
    sheet.write_string(row, 0, "Итого", bold)
    sheet.write_number(row, 7, row - 1, bold)
    sheet.write_number(row, 8, total / 100, money_bold)
    workbook.close()


@dataclass(frozen=True)
class Register:
    """A register answered inline (`body`), or the presigned address of its stored copy."""

    media: str
    name: str
    body: bytes = b""
    url: str | None = None


def register(invoice: InvoiceItem, fmt: str) -> Register:
    """The register's file: inline up to INLINE_BYTES; beyond that, when the deployment has a
    registers bucket, stored once (an invoice never changes once formed) and presigned."""
    media = XLSX_TYPE if fmt == "xlsx" else CSV_TYPE
    name = file_name(invoice, fmt)
    bucket = get_settings().registers_bucket
    key = f"registers/{invoice.invoice_id}.{fmt}"
    if bucket and _stored(bucket, key):
        return Register(media, name, url=_presigned(bucket, key))
    with tempfile.TemporaryDirectory(prefix="register-") as folder:
        path = os.path.join(folder, f"register.{fmt}")
        if fmt == "xlsx":
            write_xlsx(invoice, path)
        else:
            write_csv(invoice, path)
        if bucket and os.path.getsize(path) > INLINE_BYTES:
            _s3().upload_file(
                path,
                bucket,
                key,
                ExtraArgs={
                    "ContentType": media,
                    "ContentDisposition": f'attachment; filename="{name}"',
                },
            )
            return Register(media, name, url=_presigned(bucket, key))
        with open(path, "rb") as handle:
            return Register(media, name, body=handle.read())


def _s3() -> Any:
    import boto3

    return boto3.client("s3")


def _stored(bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        _s3().head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def _presigned(bucket: str, key: str) -> str:
    return str(
        _s3().generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=LINK_SECONDS
        )
    )
