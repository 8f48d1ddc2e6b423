"""The dashboard in a real browser (Debian's Chromium, headless, through Playwright) against the running stack.

The page is loaded through the gateway, which forwards /api/v1/reporting/dashboard/* to the reporting
service's static files without a token; the page then signs in and calls the API through the gateway
(same origin), so everything the browser does goes through the real gateway.
"""

from contextlib import closing

import httpx
import pytest
from playwright.sync_api import Browser, Route, expect

from devstack.stack import Stack
from tests.e2e.conftest import login
from tests.e2e.helpers import eventually, new_cadre, reported_total

pytestmark = pytest.mark.e2e
# a shared 2-core machine may take more than Playwright's default 5 s to render under load
expect.set_options(timeout=20_000)

DASHBOARD = "/api/v1/reporting/dashboard/"


def test_dashboard_signs_in_filters_draws_and_switches_language(stack: Stack, admin: httpx.Client, browser: Browser) -> None:
    before = reported_total(admin, "VN.68")
    for tier in ("provincial_1", "provincial_2", "provincial_2"):
        assert admin.post("/api/v1/registry/cadres", json=new_cadre(unit="VN.68", tier=tier)).status_code == 201
    eventually(lambda: reported_total(admin, "VN.68") >= before + 3, timeout=20)
    with closing(login(stack, "lamdong")) as lamdong:
        expected = lamdong.get("/api/v1/reporting/summary", params={"unit": "VN.68"}).json()
    assert expected["cadres"]["total"] >= 3

    page = browser.new_page()
    try:
        page.goto(stack.config.gateway_url + "/dashboard")  # the convenience redirect to the page
        assert page.url == stack.config.gateway_url + DASHBOARD
        expect(page.locator("h1")).to_have_text("Bảo vệ, chăm sóc sức khỏe cán bộ – Bảng điều khiển")

        page.fill("#username", "lamdong")
        page.fill("#password", "wrong")
        page.click("#login")
        expect(page.locator("#login-error")).to_have_text("Sai tên đăng nhập hoặc mật khẩu")
        page.fill("#password", "lamdong-demo")
        page.click("#login")
        expect(page.locator("#dashboard")).to_be_visible()

        options = page.locator("#unit option").evaluate_all("options => options.map(o => o.value)")
        assert "VN.68" in options and "VN.68.672" in options and "VN" not in options  # the province and below
        page.select_option("#unit", "VN.68")
        page.click("#apply")
        expect(page.locator("#total-cadres")).to_have_text(f"{expected['cadres']['total']:,}".replace(",", "."))
        expect(page.locator("#as-of")).to_contain_text("tính đến")
        expect(page.locator("#table-cadres tbody tr")).to_have_count(len({r["tier"] for r in expected["cadres"]["rows"]}) + 1)
        expect(page.locator("#table-cadres tbody tr").last).to_contain_text("Tổng")
        expect(page.locator("#chart-classification")).to_contain_text("Không có dữ liệu")  # no exam results yet: says so
        expect(page.locator("#chart-monthly")).to_be_visible()

        page.click("#lang")
        expect(page.locator("h1")).to_have_text("Cadre health protection and care – Dashboard")
        expect(page.locator("#table-cadres thead")).to_contain_text("Retired")
        expect(page.locator("#chart-classification")).to_contain_text("No data")

        page.fill("#period-start", "2023-06-30")
        page.fill("#period-end", "2023-01-01")
        page.click("#apply")
        expect(page.locator("#message")).to_contain_text("before it starts")

        with page.expect_download() as download:
            page.fill("#period-start", "2023-01-01")
            page.fill("#period-end", "2023-06-30")
            page.click("#download-xlsx")
        assert download.value.suggested_filename.endswith(".xlsx")
    finally:
        page.close()


def test_a_district_user_sees_its_district_only(stack: Stack, admin: httpx.Client) -> None:
    with closing(login(stack, "dalat")) as dalat:
        units = [u["path"] for u in dalat.get("/api/v1/reporting/units").json()]
        assert units == ["VN.68.672"]
        assert dalat.get("/api/v1/reporting/summary", params={"unit": "VN.68.673"}).status_code == 404
        answer = dalat.get(
            "/api/v1/reporting/summary", params={"unit": "VN.68.672", "period_start": "2023-06-30", "period_end": "2023-01-01"}
        )
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_period"


def test_the_api_docs_work_in_a_browser_without_internet(stack: Stack, browser: Browser) -> None:
    """Swagger UI and ReDoc through the gateway, every request outside this machine refused."""
    page = browser.new_page()
    outside: list[str] = []

    def only_this_machine(route: Route) -> None:
        if route.request.url.startswith(stack.config.gateway_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_machine)
    try:
        page.goto(stack.config.gateway_url + "/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("CadreCare")
        expect(page.locator(".opblock-summary-path", has_text="/api/v1/registry/cadres").first).to_be_visible()
        page.goto(stack.config.gateway_url + "/redoc")
        expect(page.locator("h1").first).to_contain_text("CadreCare")
        expect(page.get_by_text("/api/v1/registry/cadres").first).to_be_attached()
    finally:
        page.close()
    # ReDoc's "API docs by Redocly" badge asks its CDN for a logo; refused, the page is whole without it
    assert [url for url in outside if not url.endswith("/redoc/logo-mini.svg")] == []
