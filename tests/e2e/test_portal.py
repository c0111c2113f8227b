"""The portal end to end in headless Chromium: a parent, a provider, an operator and a payer at
work.

Screenshots of every step land in test-output/e2e/ at the repository root.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from infra.local.demo import (
    DEMO_OPERATOR_SUB,
    DEMO_PARENT_SUB,
    DEMO_PAYER_ID,
    DEMO_PAYER_SUB,
    DEMO_PROVIDER_SUB,
    demo_provider_id,
)
from infra.local.tokens import issue_token
from tests.support.browser import TODAY, Watched, api, need_chromium, roubles, valid_snils

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# Enrollable on TODAY (2026-12-02) in the demo catalog, both run by the demo provider:
# "Робототехника: соревновательный уровень", ages 12-17, 5 300 ₽ a month, 2026-09..2027-05:
# six months (December to May) cost more than the 30 000 ₽ nominal, so a co-payment is due.
COPAY_PROGRAM = "prg-0039"
# "Керамика и гончарное дело", ages 8-16, 2 000 ₽ a month: the certificate covers it all.
COVERED_PROGRAM = "prg-0189"
# "Мини-футбол", ages 7-12, 2 000 ₽ a month, 24 seats: the budgets' tests enroll into it.
BUDGET_PROGRAM = "prg-0092"
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
        form.locator("input[name=municipality]").fill("Красноярск")
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
    child = {
        "full_name": "Смирнова Анна",
        "birth_date": "2015-03-01",
        "municipality": "Красноярск",
        "snils": valid_snils(238),
    }
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


def _register_and_enroll(
    stack: Any,
    parent: str,
    municipality: str,
    seed: int,
    program_id: str = BUDGET_PROGRAM,
    birth_date: str = "2016-06-01",
) -> dict[str, Any]:
    """A child of `municipality` registered and first enrolled over the API."""
    child = {
        "full_name": "Кузнецов Илья",
        "birth_date": birth_date,
        "municipality": municipality,
        "snils": valid_snils(seed),
    }
    status, registered = api(stack, "POST", "/children", child, token=parent)
    assert status == 201, registered
    body = {"child_id": registered["child_id"], "program_id": program_id}
    status, enrollment = api(
        stack, "POST", "/enrollments", body, token=parent, headers={"Idempotency-Key": f"b-{seed}"}
    )
    assert status == 201, enrollment
    return dict(enrollment)


def test_a_parent_whose_payer_has_no_certificates_left_is_told_why_and_offered_free_ones(request):
    """Kansk's demo budget holds one certificate: a neighbour's child takes it, and then the
    demo parent's child of Kansk is refused in Russian and shown the free programs."""
    from playwright.sync_api import expect

    stack, browser, folder = launch(request)
    shot = Shots(folder, "no-certificates")
    neighbour = issue_token("parent", "e2e-kansk-neighbour")
    taken = _register_and_enroll(stack, neighbour, "Канск", 7_771)
    assert taken["certificate"]["payer_id"] == "kansk"
    watched = Watched(browser, stack.url, **PHONE)
    page = watched.page
    try:
        page.goto(stack.url + "/")
        page.locator("#session button[data-role=parent]").click()
        page.locator("nav a[href='#/children']").click()
        form = page.locator("#child-form")
        form.locator("input[name=full_name]").fill("Орлова Дарья")
        form.locator("input[name=birth_date]").fill("2016-02-11")
        municipality = form.locator("input[name=municipality]")
        expect(municipality).to_have_attribute("list", "krai-municipalities")
        expect(page.locator('#krai-municipalities option[value="Канск"]')).to_have_count(1)
        municipality.fill("Канск")
        form.locator("input[name=snils]").fill(valid_snils(7_772))
        with page.expect_response(
            lambda r: r.url.endswith("/children") and r.request.method == "POST"
        ) as posted:
            form.locator("button[type=submit]").click()
        assert posted.value.request.post_data_json["municipality"] == "Канск"
        child_id = posted.value.json()["child_id"]
        child_card = page.locator("#children .card").filter(has_text="Орлова Дарья")
        expect(child_card.locator('[data-field="municipality"]')).to_have_text("Канск")
        shot(page, "child-of-kansk")

        page.locator("nav a[href='#/catalog']").click()
        filters = page.locator("#catalog-filters")
        filters.locator("input[name=q]").fill("футбол")
        filters.locator("button[type=submit]").click()
        card = page.locator(f'#programs .card[data-program-id="{BUDGET_PROGRAM}"]')
        card.locator("button.enroll").click()
        dialog = page.locator("#dialog")
        dialog.locator("select[name=child_id]").select_option(value=child_id)
        with page.expect_response(lambda r: r.url.endswith("/enrollments")) as refused:
            dialog.locator("#enroll-form button[type=submit]").click()
        assert refused.value.status == 409
        assert refused.value.json()["error"]["code"] == "no_certificates_left"
        alert = dialog.locator('[data-code="no_certificates_left"]')
        expect(alert).to_contain_text("Сертификаты на этот период закончились")
        expect(dialog).to_contain_text("«Канск»")
        expect(dialog.locator("#show-free-programs")).to_be_visible()
        shot(page, "refused", full_page=False)

        with page.expect_request(lambda r: "/programs?" in r.url and "funding=free" in r.url):
            dialog.locator("#show-free-programs").click()
        expect(page.locator("#programs .card").first).to_be_visible()
        expect(page.locator("#programs .badge-certificate")).to_have_count(0)
        expect(page.locator("#catalog-filters select[name=funding]")).to_have_value("free")
        shot(page, "free-programs", full_page=False)
        watched.check()
    finally:
        watched.close()


def test_an_operator_sees_and_edits_payers_and_budgets(request):
    from playwright.sync_api import expect

    stack, browser, folder = launch(request)
    shot = Shots(folder, "payers")
    parent = issue_token("parent", "e2e-minusinsk-parent")
    for seed in (8_881, 8_882):
        _register_and_enroll(stack, parent, "Минусинск", seed)
    watched = Watched(browser, stack.url, **DESKTOP)
    page = watched.page
    try:
        page.goto(stack.url + "/")
        page.locator("#session button[data-role=operator]").click()
        page.locator("nav a[href='#/operator/payers']").click()
        # Every payer's budgets are read whole: on a busy machine this takes a few seconds.
        expect(page.locator('#payers tr[data-payer-id="region"]')).to_contain_text(
            "Краевой бюджет", timeout=20_000
        )
        expect(page.locator('#payers tr[data-payer-id="krasnoyarsk"]')).to_contain_text(
            "Красноярск"
        )
        budget = page.locator('#budgets tr[data-payer-id="minusinsk"][data-period-id="2026-2027"]')
        expect(budget.locator(".issued")).to_have_text("2")
        expect(budget.locator(".left")).to_have_text("5998")
        shot(page, "payers-and-budgets")

        # A limit below the certificates issued is refused in words; at the issued, none is left.
        form = page.locator("#budget-form")
        form.locator("select[name=payer_id]").select_option("minusinsk")
        form.locator("input[name=period_id]").fill("2026-2027")
        form.locator("input[name=nominal]").fill("27 000")
        form.locator("input[name=certificate_limit]").fill("1")
        form.locator("button[type=submit]").click()
        expect(form.locator(".alert-error")).to_contain_text("Лимит не может быть меньше")
        form.locator("input[name=certificate_limit]").fill("2")
        form.locator("button[type=submit]").click()
        expect(form.locator(".alert-ok")).to_contain_text("minusinsk")
        expect(budget.locator(".left")).to_have_text("0")
        form.locator("input[name=certificate_limit]").fill("6000")
        with page.expect_response(lambda r: "/budgets/" in r.url) as raised:
            form.locator("button[type=submit]").click()
        assert raised.value.status == 200, raised.value.text()
        assert raised.value.json()["certificates_left"] == 5998
        expect(budget.locator(".left")).to_have_text("5998", timeout=15_000)

        # A municipality another payer serves can't be given to a second one.
        payer = page.locator("#payer-form")
        payer.locator("input[name=payer_id]").fill("ilansky")
        payer.locator("input[name=name]").fill("Управление образования Иланского района")
        payer.locator("input[name=inn]").fill("2415012342")
        payer.locator("input[name=municipalities]").fill("Иланский район, канск")
        payer.locator("button[type=submit]").click()
        expect(payer.locator(".alert-error")).to_contain_text("уже обслуживает другой плательщик")
        payer.locator("input[name=municipalities]").fill("Иланский район")
        payer.locator("button[type=submit]").click()
        expect(page.locator('#payers tr[data-payer-id="ilansky"]')).to_contain_text(
            "Иланский район"
        )
        shot(page, "edited")
        watched.check()
    finally:
        watched.close()


def test_a_payer_signs_in_and_sees_their_budgets(request):
    from playwright.sync_api import expect

    stack, browser, folder = launch(request)
    shot = Shots(folder, "payer")
    payer = issue_token("payer", DEMO_PAYER_SUB, payer_id=DEMO_PAYER_ID)
    status, budget = api(stack, "GET", f"/payers/{DEMO_PAYER_ID}/budgets/2026-2027", token=payer)
    assert status == 200, budget
    watched = Watched(browser, stack.url, **PHONE)
    page = watched.page
    try:
        page.goto(stack.url + "/")
        page.locator("#session button[data-role=payer]").click()
        expect(page.locator("#session .who[data-role=payer]")).to_contain_text("Плательщик")
        expect(page.locator("#payer-card")).to_contain_text("Главное управление образования")
        row = page.locator(f'#budgets tr[data-payer-id="{DEMO_PAYER_ID}"]')
        expect(row).to_have_count(1)
        expect(row).to_contain_text(roubles(budget["nominal_kopecks"]))
        expect(row.locator(".left")).to_have_text(str(budget["certificates_left"]))
        expect(page.locator("nav a[href='#/operator/payers']")).to_have_count(0)
        shot(page, "budgets")
        watched.check()
    finally:
        watched.close()


# Two of the demo provider's programs in Krasnoyarsk, 11-16 and 9-14 years, 3 100 ₽ and 4 200 ₽
# a month from September to May: a child of 13 enrolled on TODAY has December pending.
INVOICED_PROGRAMS = ("prg-0155", "prg-0273")


def _register(stack: Any, path: str, token: str) -> tuple[int, dict[str, str], bytes]:
    """The raw register file, as a client other than the portal downloads it."""
    request = urllib.request.Request(stack.url + path)
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


def _csv_amount(kopecks: int) -> str:
    """A register's amount: roubles as "1234,56", no thousands separator."""
    sign = "-" if kopecks < 0 else ""
    whole, rest = divmod(abs(kopecks), 100)
    return f"{sign}{whole},{rest:02d}"


def _all_lines(stack: Any, invoice_id: str, token: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    cursor = ""
    while True:
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        status, page = api(stack, "GET", f"/invoices/{invoice_id}/lines{query}", token=token)
        assert status == 200, page
        lines.extend(page["items"])
        if not page["next_cursor"]:
            return lines
        cursor = page["next_cursor"]


def test_invoices_are_formed_read_as_a_register_accepted_and_paid(request):
    """The operator forms the demo month's advances; the demo provider opens theirs and
    downloads its register; the demo payer accepts and pays it."""
    from playwright.sync_api import expect

    stack, browser, folder = launch(request)
    shot = Shots(folder, "invoices")
    month = TODAY[:7]  # begun on TODAY: its advance may be formed
    operator = issue_token("operator", DEMO_OPERATOR_SUB)
    provider = issue_token("provider", DEMO_PROVIDER_SUB, demo_provider_id())
    parent = issue_token("parent", "e2e-invoices-parent")
    enrollments = [
        _register_and_enroll(stack, parent, "Красноярск", seed, program, "2013-04-01")
        for seed, program in zip((5_551, 5_552), INVOICED_PROGRAMS, strict=True)
    ]
    assert all(e["certificate"]["payer_id"] == DEMO_PAYER_ID for e in enrollments)

    # The operator: a month not begun is refused in words; the demo month is formed.
    watched = Watched(browser, stack.url, **DESKTOP)
    page = watched.page
    try:
        page.goto(stack.url + "/")
        page.locator("#session button[data-role=operator]").click()
        page.locator("nav a[href='#/invoices']").click()
        form = page.locator("#invoice-run-form")
        form.locator("input[name=month]").fill("2027-01")
        form.locator("select[name=kind]").select_option("advance")
        form.locator("button[type=submit]").click()
        refused = form.locator("..").locator('.alert-error[data-code="month_not_started"]')
        expect(refused).to_contain_text("Месяц ещё не начался")

        form.locator("input[name=month]").fill(month)
        with page.expect_response(lambda r: r.url.endswith("/invoice-runs")) as posted:
            form.locator("button[type=submit]").click()
        assert posted.value.status == 202, posted.value.text()
        assert posted.value.request.post_data_json == {"month": month, "kind": "advance"}
        report = page.locator(f'#invoice-run .report[data-month="{month}"][data-kind="advance"]')
        expect(report).to_have_attribute("data-status", "completed", timeout=30_000)
        status, run = api(stack, "GET", f"/invoice-runs/{month}/advance", token=operator)
        assert status == 200 and run["status"] == "completed", run
        assert run["lines_count"] >= len(enrollments)
        for name in ("invoices_count", "lines_count"):
            expect(report.locator(f'[data-field="{name}"]')).to_have_text(str(run[name]))
        expect(report.locator('[data-field="amount_kopecks"]')).to_have_text(
            roubles(run["amount_kopecks"])
        )
        status, listed = api(
            stack, "GET", f"/invoices?month={month}&kind=advance&limit=100", token=operator
        )
        assert status == 200 and len(listed["items"]) == run["invoices_count"] <= 20, listed
        expect(page.locator("#run-invoices tr")).to_have_count(run["invoices_count"])
        assert sum(i["amount_kopecks"] for i in listed["items"]) == run["amount_kopecks"]
        ours = [
            i
            for i in listed["items"]
            if i["payer_id"] == DEMO_PAYER_ID and i["provider_id"] == demo_provider_id()
        ]
        assert len(ours) == 1, listed
        invoice = ours[0]
        row = page.locator(f'#run-invoices tr[data-invoice-id="{invoice["invoice_id"]}"]')
        expect(row).to_contain_text(roubles(invoice["amount_kopecks"]))
        expect(row).to_contain_text("сформирован")
        # The list of all invoices below shows the new ones too.
        expect(
            page.locator(f'#invoices tr[data-invoice-id="{invoice["invoice_id"]}"]')
        ).to_be_visible()
        shot(page, "operator-run")
        watched.check()
    finally:
        watched.close()
    invoice_id = invoice["invoice_id"]
    lines = _all_lines(stack, invoice_id, provider)
    assert len(lines) == invoice["lines_count"] <= 20
    mine = {e["enrollment_id"] for e in enrollments}
    assert mine <= {line["enrollment_id"] for line in lines}
    for line in lines:  # an advance: the payer's 80 % of the month's certificate amount
        assert line["amount_kopecks"] == line["certificate_kopecks"] * 80 // 100
    assert sum(line["amount_kopecks"] for line in lines) == invoice["amount_kopecks"]

    # The provider: their invoice, its lines, and its register as CSV and XLSX.
    watched = Watched(browser, stack.url, **DESKTOP)
    page = watched.page
    try:
        page.goto(stack.url + "/")
        page.locator("#session button[data-role=provider]").click()
        page.locator("nav a[href='#/invoices']").click()
        row = page.locator(f'#invoices tr[data-invoice-id="{invoice_id}"]')
        expect(row).to_contain_text("аванс")
        expect(row).to_contain_text("декабрь 2026")
        expect(row).to_contain_text(invoice["payer_name"])
        expect(row.locator(".amount")).to_have_text(roubles(invoice["amount_kopecks"]))
        expect(row).to_contain_text("сформирован")
        shot(page, "provider-list")
        row.locator("a.open").click()
        expect(page).to_have_url(re.compile(f"#/invoices/{invoice_id}$"))
        head = page.locator("#invoice")
        expect(head.locator("#invoice-title")).to_contain_text(invoice["number"])
        expect(head.locator('[data-field="amount_kopecks"]')).to_have_text(
            roubles(invoice["amount_kopecks"])
        )
        table = page.locator("#invoice-lines tr")
        expect(table).to_have_count(len(lines))
        for line in lines:
            shown = page.locator(f'#invoice-lines tr[data-enrollment-id="{line["enrollment_id"]}"]')
            expect(shown.locator(".certificate")).to_have_text(line["certificate_number"])
            expect(shown.locator(".amount")).to_have_text(roubles(line["amount_kopecks"]))
        expect(page.locator("#accept-invoice")).to_have_count(0)  # a provider only reads
        with page.expect_download() as saved:
            page.locator("button.register[data-format=csv]").click()
        path = f"/invoices/{invoice_id}/register?format=csv"
        _, headers, direct = _register(stack, path, provider)
        disposition = {k.lower(): v for k, v in headers.items()}["content-disposition"]
        assert saved.value.suggested_filename in disposition
        assert saved.value.suggested_filename.endswith(".csv")
        raw = Path(saved.value.path()).read_bytes()
        assert raw == direct
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        header, body, total = rows[0], rows[1:-1], rows[-1]
        assert header[1] == "Номер сертификата" and header[-1] == "Сумма, руб."
        assert len(body) == len(lines)
        by_enrollment = {line["enrollment_id"]: line for line in lines}
        for number, cells in enumerate(body, start=1):
            line = by_enrollment[cells[2]]
            assert cells[0] == str(number)
            assert cells[1] == line["certificate_number"]
            assert cells[5] == line["month"] == month
            assert cells[6] == _csv_amount(line["certificate_kopecks"])
            assert cells[7] == ""  # an advance has no completeness
            assert re.fullmatch(r"-?\d+,\d{2}", cells[8]), cells[8]
            assert cells[8] == _csv_amount(line["amount_kopecks"])
        assert {cells[2] for cells in body} == set(by_enrollment)
        assert total[0] == "Итого"
        assert total[7] == str(len(lines))
        assert total[8] == _csv_amount(invoice["amount_kopecks"])
        expect(page.locator("#invoice-actions .alert-ok")).to_contain_text(
            saved.value.suggested_filename
        )
        with page.expect_download() as workbook:
            page.locator("button.register[data-format=xlsx]").click()
        assert workbook.value.suggested_filename.endswith(".xlsx")
        assert Path(workbook.value.path()).read_bytes()[:2] == b"PK"  # a zip, as XLSX is
        shot(page, "provider-invoice")
        watched.check()
    finally:
        watched.close()

    # The payer: accepts, is refused a payment dated after today, pays; a repeat is harmless.
    payer = issue_token("payer", DEMO_PAYER_SUB, payer_id=DEMO_PAYER_ID)
    watched = Watched(browser, stack.url, **PHONE)
    page = watched.page
    try:
        page.goto(stack.url + "/")
        page.locator("#session button[data-role=payer]").click()
        page.locator("nav a[href='#/invoices']").click()
        row = page.locator(f'#invoices tr[data-invoice-id="{invoice_id}"]')
        expect(row).to_contain_text(invoice["provider_name"])
        expect(row).to_contain_text("сформирован")
        row.locator("a.open").click()
        status_badge = page.locator('#invoice [data-field="status"]')
        expect(status_badge).to_have_text("сформирован")
        expect(page.locator("#pay-form")).to_have_count(0)  # paid only once accepted
        with page.expect_response(lambda r: r.url.endswith("/accept")) as accepted:
            page.locator("#accept-invoice").click()
        assert accepted.value.status == 200, accepted.value.text()
        expect(status_badge).to_have_text("принят")
        expect(page.locator("#invoice-actions .alert-ok")).to_contain_text("Счёт принят")
        status, again = api(stack, "POST", f"/invoices/{invoice_id}/accept", token=payer)
        assert status == 200 and again["status"] == "accepted", again
        shot(page, "payer-accepted")

        pay = page.locator("#pay-form")
        pay.locator("input[name=paid_on]").fill("2026-12-31")
        pay.locator("input[name=payment_order]").fill("ПП-4711")
        pay.locator("button[type=submit]").click()
        error = page.locator("#invoice-actions .alert-error")
        expect(error).to_contain_text("Дата оплаты")
        expect(error).to_contain_text("не может быть позже сегодняшнего дня")
        expect(pay.locator("input[name=paid_on]")).to_have_attribute("aria-invalid", "true")
        pay.locator("input[name=paid_on]").fill(TODAY)
        with page.expect_response(lambda r: r.url.endswith("/pay")) as paid:
            pay.locator("button[type=submit]").click()
        assert paid.value.status == 200, paid.value.text()
        assert paid.value.request.post_data_json == {"paid_on": TODAY, "payment_order": "ПП-4711"}
        expect(status_badge).to_have_text("оплачен")
        expect(page.locator('#invoice [data-field="paid_on"]')).to_have_text("02.12.2026")
        expect(page.locator('#invoice [data-field="payment_order"]')).to_have_text("ПП-4711")
        expect(page.locator("#pay-form")).to_have_count(0)
        body = {"paid_on": TODAY, "payment_order": "ПП-4711"}
        status, again = api(stack, "POST", f"/invoices/{invoice_id}/pay", body, token=payer)
        assert status == 200 and again["status"] == "paid", again
        other_body = {**body, "payment_order": "2"}
        status, other = api(stack, "POST", f"/invoices/{invoice_id}/pay", other_body, token=payer)
        assert status == 409 and other["error"]["code"] == "invalid_invoice_status", other
        shot(page, "payer-paid")

        # The list, filtered by status, shows it paid.
        page.locator("a.back").click()
        filters = page.locator("#invoice-filters")
        filters.locator("select[name=status]").select_option("paid")
        filters.locator("button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"#/invoices\?status=paid$"))
        row = page.locator(f'#invoices tr[data-invoice-id="{invoice_id}"]')
        expect(row).to_contain_text("оплачен")
        expect(page.locator('#invoices tr:not([data-status="paid"])')).to_have_count(0)
        shot(page, "payer-list-paid")
        watched.check()
    finally:
        watched.close()
