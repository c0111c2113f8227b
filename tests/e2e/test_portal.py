"""The portal end to end in headless Chromium: a parent, a provider and an operator at work.

Screenshots of every step land in test-output/e2e/ at the repository root.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from infra.local.demo import DEMO_OPERATOR_SUB, DEMO_PARENT_SUB, DEMO_PROVIDER_SUB, demo_provider_id
from infra.local.tokens import issue_token
from tests.support.browser import TODAY, Watched, api, need_chromium, roubles, valid_snils

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# Enrollable on TODAY (2026-12-02) in the demo catalog, both run by the demo provider:
# "Робототехника: соревновательный уровень", ages 12-17, 5 300 ₽ a month, 2026-09..2027-05:
# six months (December to May) cost more than the 30 000 ₽ nominal, so a co-payment is due.
COPAY_PROGRAM = "prg-0039"
# "Керамика и гончарное дело", ages 8-16, 2 000 ₽ a month: the certificate covers it all.
COVERED_PROGRAM = "prg-0189"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def launch(request: pytest.FixtureRequest) -> tuple[Any, Any, Path]:
    """The stack, the browser and the screenshot folder; a clear failure without Chromium."""
    need_chromium()
    return (
        request.getfixturevalue("stack"),
        request.getfixturevalue("browser"),
        request.getfixturevalue("screenshots"),
    )


class Shots:
    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder, self.prefix, self.count = folder, prefix, 0

    def __call__(self, page: Any, name: str, full_page: bool = True) -> None:
        """A screenshot; the catalog's long lists are taken as the screen shows them."""
        self.count += 1
        path = self.folder / f"{self.prefix}-{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)


def test_a_parent_finds_enrolls_pays_attention_to_money_and_withdraws(request):
    from playwright.sync_api import expect

    stack, browser, folder = launch(request)
    shot = Shots(folder, "parent")
    token = issue_token("parent", DEMO_PARENT_SUB)
    watched = Watched(browser, stack.url, **PHONE)
    page = watched.page
    try:
        # The catalog is public.
        page.goto(stack.url + "/")
        expect(page.locator("#programs .card").first).to_be_visible()
        shot(page, "catalog", full_page=False)

        # Sign in as the demo parent.
        page.locator("#session button[data-role=parent]").click()
        expect(page.locator("#session .who[data-role=parent]")).to_contain_text("Родитель")

        # Search: words, age, funding and free seats.
        filters = page.locator("#catalog-filters")
        filters.locator("input[name=q]").fill("робототехника")
        filters.locator("input[name=age]").fill("13")
        filters.locator("select[name=funding]").select_option("certificate")
        filters.locator("input[name=has_seats]").check()
        with page.expect_request(lambda r: "/programs?" in r.url) as searched:
            filters.locator("button[type=submit]").click()
        query = searched.value.url
        for part in ("age=13", "funding=certificate", "has_seats=true", "q="):
            assert part in query, query
        card = page.locator(f'#programs .card[data-program-id="{COPAY_PROGRAM}"]')
        expect(card).to_be_visible()
        expect(card.locator('[data-field="price_per_month_kopecks"]')).to_have_text(
            f"{roubles(530_000)} в месяц"
        )
        for badge in page.locator("#programs .badge-certificate").all():
            expect(badge).to_have_text("По сертификату")
        expect(page.locator("#programs .badge-free")).to_have_count(0)
        card.scroll_into_view_if_needed()
        shot(page, "search", full_page=False)

        # Register a child; a wrong checksum is refused in words first.
        page.locator("nav a[href='#/children']").click()
        form = page.locator("#child-form")
        form.locator("input[name=full_name]").fill("Петров Иван Сергеевич")
        form.locator("input[name=birth_date]").fill("2013-05-10")
        good = valid_snils(461_237_905)
        wrong_control = (int(good[-2:]) + 1) % 100
        form.locator("input[name=snils]").fill(f"{good[:-2]}{wrong_control:02d}")
        form.locator("button[type=submit]").click()
        refusal = form.locator(".alert-error")
        expect(refusal).to_contain_text("СНИЛС указан неверно")
        expect(refusal).to_contain_text("invalid_snils")
        expect(form.locator("input[name=snils]")).to_have_attribute("aria-invalid", "true")
        shot(page, "invalid-snils")
        form.locator("input[name=snils]").fill(good.replace("-", "").replace(" ", ""))
        form.locator("button[type=submit]").click()
        expect(form.locator(".alert-ok")).to_contain_text("Петров Иван Сергеевич")
        child_card = page.locator("#children .card").filter(has_text="Петров Иван Сергеевич")
        expect(child_card.locator('[data-field="snils_masked"]')).to_have_text(
            f"***-***-*** {good[-2:]}"
        )
        shot(page, "child")

        # Enroll: the co-payment is shown and confirmed, each attempt under its own key.
        page.locator("nav a[href='#/catalog']").click()
        card = page.locator(f'#programs .card[data-program-id="{COPAY_PROGRAM}"]')
        card.locator("button.enroll").click()
        dialog = page.locator("#dialog")
        expect(dialog.locator("select[name=child_id]")).to_contain_text("Петров Иван Сергеевич")
        with page.expect_response(lambda r: r.url.endswith("/enrollments")) as first:
            dialog.locator("#enroll-form button[type=submit]").click()
        assert first.value.status == 409
        details = first.value.json()["error"]["details"]
        first_key = first.value.request.headers["idempotency-key"]
        expect(dialog.locator('[data-field="certificate_total_kopecks"]')).to_have_text(
            roubles(details["certificate_total_kopecks"])
        )
        expect(dialog.locator('[data-field="copay_total_kopecks"]')).to_have_text(
            roubles(details["copay_total_kopecks"])
        )
        assert details == {"certificate_total_kopecks": 3_000_000, "copay_total_kopecks": 180_000}
        shot(page, "copay", full_page=False)
        with page.expect_response(lambda r: r.url.endswith("/enrollments")) as second:
            dialog.locator("#accept-copay").click()
        assert second.value.status == 201
        assert second.value.request.post_data_json["accept_copay"] is True
        assert second.value.request.headers["idempotency-key"] not in ("", first_key)
        enrollment = second.value.json()
        certificate = enrollment["certificate"]
        expect(dialog).to_contain_text("Ребёнок записан")
        expect(dialog.locator('[data-field="reserved_kopecks"]')).to_have_text(
            roubles(certificate["reserved_kopecks"])
        )
        shot(page, "enrolled", full_page=False)

        # The certificate: balance, reserve and the ledger, as the API tells them.
        dialog.get_by_text("Открыть сертификат").click()
        expect(page).to_have_url(re.compile(f"#/certificates/{certificate['certificate_id']}$"))
        status, fresh = api(
            stack, "GET", f"/certificates/{certificate['certificate_id']}", token=token
        )
        assert status == 200 and fresh["reserved_kopecks"] == 3_000_000
        expect_certificate(page, fresh)
        ledger = page.locator("#ledger tr")
        expect(ledger).to_have_count(2)
        expect(ledger.nth(0)).to_contain_text("Начисление номинала")
        expect(ledger.nth(1)).to_contain_text("Резервирование")
        expect(ledger.nth(1)).to_contain_text(roubles(3_000_000))
        shot(page, "certificate")

        # Withdraw: December stays due, January to May are cancelled and released.
        page.locator("nav a[href='#/enrollments']").click()
        enrolled = page.locator(f'[data-enrollment-id="{enrollment["enrollment_id"]}"]')
        expect(enrolled).to_have_attribute("data-status", "active")
        enrolled.locator("button.withdraw").click()
        page.locator("#dialog button.confirm").click()
        expect(enrolled).to_have_attribute("data-status", "withdrawn")
        expect(enrolled.locator(".badge-withdrawn")).to_have_text("Расторгнута")
        expect(enrolled.locator('tr[data-status="cancelled"]')).to_have_count(5)
        expect(enrolled.locator('tr[data-status="pending"]')).to_have_count(1)
        expect(enrolled.locator(".alert-ok")).to_contain_text("Ребёнок отчислен")
        enrolled.locator("details.schedule summary").click()
        shot(page, "withdrawn")

        enrolled.get_by_role("link", name="Сертификат", exact=True).click()
        status, after = api(
            stack, "GET", f"/certificates/{certificate['certificate_id']}", token=token
        )
        assert status == 200 and after["reserved_kopecks"] == 500_000
        expect_certificate(page, after)
        expect(ledger).to_have_count(3)
        expect(ledger.nth(2)).to_contain_text("Возврат резерва в остаток")
        expect(ledger.nth(2)).to_contain_text(roubles(2_500_000))
        shot(page, "certificate-after-withdrawal")
        watched.check()
    finally:
        watched.close()


def expect_certificate(page: Any, certificate: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    for name in ("nominal_kopecks", "balance_kopecks", "reserved_kopecks", "spent_kopecks"):
        field = page.locator(f'#view [data-field="{name}"]')
        expect(field).to_have_text(roubles(certificate[name]))


def test_a_provider_sees_the_roster_and_reports_completeness(request):
    from playwright.sync_api import expect

    stack, browser, folder = launch(request)
    shot = Shots(folder, "provider")
    parent = issue_token("parent", "e2e-roster-parent")
    provider = issue_token("provider", DEMO_PROVIDER_SUB, demo_provider_id())
    child = {"full_name": "Смирнова Анна", "birth_date": "2015-03-01", "snils": valid_snils(238)}
    status, registered = api(stack, "POST", "/children", child, token=parent)
    assert status == 201, registered
    body = {"child_id": registered["child_id"], "program_id": COVERED_PROGRAM}
    status, enrollment = api(
        stack, "POST", "/enrollments", body, token=parent, headers={"Idempotency-Key": "e2e-1"}
    )
    assert status == 201, enrollment

    watched = Watched(browser, stack.url, **DESKTOP)
    page = watched.page
    try:
        page.goto(stack.url + "/")
        page.locator("#session button[data-role=provider]").click()
        expect(page.locator("#provider-name")).to_contain_text("дворец пионеров")
        row = page.locator(f'#provider-programs tr[data-program-id="{COVERED_PROGRAM}"]')
        more = page.locator(".pager .more")
        while not row.count() and more.is_visible():
            more.click()
            page.wait_for_timeout(300)
        expect(row).to_contain_text("1 из 8")
        shot(page, "programs")

        row.locator("a.roster").click()
        card = page.locator(f'#roster [data-enrollment-id="{enrollment["enrollment_id"]}"]')
        expect(card.locator("h3")).to_have_text(f"Ребёнок {registered['child_id']}")
        december = card.locator('tr[data-month="2026-12"]')
        december.locator("input[name=percent]").fill("80")
        december.locator("button[type=submit]").click()
        card = page.locator(f'#roster [data-enrollment-id="{enrollment["enrollment_id"]}"]')
        expect(card.locator(".alert-ok")).to_contain_text("сохранено: 80\u00a0%")
        expect(card.locator('tr[data-month="2026-12"] input[name=percent]')).to_have_value("80")
        shot(page, "roster")
        status, stored = api(
            stack, "GET", f"/enrollments/{enrollment['enrollment_id']}", token=provider
        )
        assert status == 200 and stored["schedule"][0]["completeness_percent"] == 80

        # A refusal from the API reaches the provider in words.
        december = card.locator('tr[data-month="2026-12"]')
        december.locator("input[name=percent]").fill("150")
        december.locator("input[name=percent]").evaluate("input => input.removeAttribute('max')")
        december.locator("button[type=submit]").click()
        expect(card.locator(".alert-error")).to_contain_text("Проверьте правильность заполнения")
        expect(card.locator(".alert-error")).to_contain_text("Процент выполнения")
        expect(card.locator(".alert-error")).to_contain_text("должно быть не больше 100")
        shot(page, "validation-error")
        watched.check()
    finally:
        watched.close()


def test_an_operator_runs_a_debit_and_checks_reconciliation(request):
    from playwright.sync_api import expect

    stack, browser, folder = launch(request)
    shot = Shots(folder, "operator")
    operator = issue_token("operator", DEMO_OPERATOR_SUB)
    watched = Watched(browser, stack.url, **DESKTOP)
    page = watched.page
    try:
        page.goto(stack.url + "/")
        page.locator("#session button[data-role=operator]").click()
        period = page.locator('#periods tr[data-period-id="2026-2027"]')
        expect(period).to_contain_text(roubles(3_000_000))
        expect(period).to_contain_text("01.09.2026")

        debit = page.locator("#debit-form")
        month = TODAY[:7]  # the current month has not ended
        debit.locator("input[name=month]").fill(month)
        debit.locator("button[type=submit]").click()
        expect(page.locator(".alert-error")).to_contain_text("Месяц ещё не закончился")
        shot(page, "month-not-closed")

        debit.locator("input[name=month]").fill("2026-11")
        debit.locator("button[type=submit]").click()
        report = page.locator('#debit-report .report[data-month="2026-11"]')
        expect(report).to_have_attribute("data-status", "completed", timeout=30_000)
        status, run = api(stack, "GET", "/debit-runs/2026-11", token=operator)
        assert status == 200 and run["status"] == "completed"
        expect(report.locator('[data-field="due_count"]')).to_have_text(str(run["due_count"]))
        expect(report.locator('[data-field="charged_kopecks"]')).to_have_text(
            roubles(run["charged_kopecks"])
        )

        page.locator("#reconciliation").locator("..").get_by_role(
            "button", name="Проверить"
        ).click()
        checked = page.locator('#reconciliation [data-field="certificates_checked"]')
        expect(checked).to_be_visible()
        status, reconciliation = api(stack, "GET", "/reconciliation", token=operator)
        assert status == 200 and reconciliation["mismatches"] == []
        expect(checked).to_have_text(str(reconciliation["certificates_checked"]))
        expect(page.locator("#reconciliation")).to_contain_text("Расхождений нет")
        shot(page, "debit-and-reconciliation")
        watched.check()
    finally:
        watched.close()


def test_the_api_docs_render_from_local_assets(request):
    from playwright.sync_api import expect

    stack, browser, folder = launch(request)
    watched = Watched(browser, stack.url, **DESKTOP)
    page = watched.page
    try:
        page.goto(stack.url + "/docs")
        status, document = api(stack, "GET", "/openapi.json")
        if status == 404:
            pytest.skip("docs/openapi.json has not been generated")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text(document["info"]["title"])
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
        page.screenshot(path=str(folder / "docs-01-swagger-ui.png"))
        watched.check()
    finally:
        watched.close()
