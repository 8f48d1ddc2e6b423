"""The people page in a real browser (Debian's Chromium, headless, through Playwright) against the running stack:
a provincial board's administrator, created through the API by the platform's administrator, signs in on the
page, sees only its province's people and hospitals, creates a user, registers a hospital and sees its
secret once, and disables the user; each effect is checked through the gateway as a client would meet it."""

import httpx
import pytest
from playwright.sync_api import Browser, expect

from devstack.stack import Stack

pytestmark = pytest.mark.e2e
expect.set_options(timeout=20_000)  # a shared 2-core machine may take more than Playwright's default 5 s

PAGE = "/api/v1/reporting/dashboard/people.html"
ADMIN_PASSWORD = "Lâm Đồng quản trị 2026"
STAFF_PASSWORD = "Bảo Lộc chè xanh 2026"


def token_status(stack: Stack, **form: str) -> int:
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as client:
        return client.post("/api/v1/auth/token", data=form).status_code


def test_a_board_administrator_manages_its_people_on_the_page(stack: Stack, admin: httpx.Client, browser: Browser) -> None:
    body = {"username": "lamdong-quantri", "password": ADMIN_PASSWORD, "role": "provincial_board_admin", "unit": "VN.68"}
    assert admin.post("/api/v1/gateway/users", json=body).status_code == 201

    page = browser.new_page()
    try:
        page.goto(stack.config.gateway_url + "/api/v1/reporting/dashboard/")
        page.click("#people-link")  # linked from the dashboard
        assert page.url == stack.config.gateway_url + PAGE
        page.fill("#username", "lamdong-quantri")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("#login")
        users = page.locator("#users tbody tr")
        expect(users.filter(has_text="dalat")).to_have_count(1)
        names = users.evaluate_all("rows => rows.map(r => r.dataset.name)")
        assert {"lamdong", "dalat", "lamdong-quantri"} <= set(names) and not {"admin", "central"} & set(names)
        expect(page.locator("#clients tbody tr")).to_have_count(1)
        expect(page.locator("#clients tbody tr").first).to_contain_text("68-BVDK")

        page.fill("#new-username", "baoloc-canbo")
        page.fill("#new-password", "short")
        page.select_option("#new-role", "district_board")
        page.fill("#new-unit", "VN.68.673")
        page.click("#create-user")
        expect(page.locator("#message")).to_contain_text("password")  # the policy's structured refusal, shown
        expect(users.filter(has_text="baoloc-canbo")).to_have_count(0)
        page.fill("#new-password", STAFF_PASSWORD)
        page.click("#create-user")
        expect(users.filter(has_text="baoloc-canbo")).to_have_count(1)
        assert token_status(stack, grant_type="password", username="baoloc-canbo", password=STAFF_PASSWORD) == 200

        page.fill("#new-client-id", "his-bv-baoloc")
        page.fill("#new-client-name", "Bệnh viện II Lâm Đồng")
        page.fill("#new-facility", "68-BVBL")
        page.fill("#new-client-unit", "VN.68")
        page.click("#create-client")
        expect(page.locator("#secret-box")).to_be_visible()
        secret = page.locator("#secret").inner_text()
        assert len(secret) >= 40
        form = {"grant_type": "client_credentials", "client_id": "his-bv-baoloc", "client_secret": secret}
        assert token_status(stack, **form) == 200
        page.click("#secret-done")
        expect(page.locator("#secret-box")).to_be_hidden()
        page.reload()
        expect(page.locator("#clients tbody tr")).to_have_count(2)
        assert secret not in page.content()  # shown once: never again

        page.fill("#reason", "chuyển công tác")
        users.filter(has_text="baoloc-canbo").locator("button[data-action=disable]").click()
        expect(users.filter(has_text="baoloc-canbo")).to_contain_text("Đã khóa")
        assert token_status(stack, grant_type="password", username="baoloc-canbo", password=STAFF_PASSWORD) == 400
    finally:
        page.close()


def test_someone_who_administers_nobody_is_told_so(stack: Stack, browser: Browser) -> None:
    page = browser.new_page()
    try:
        page.goto(stack.config.gateway_url + PAGE)
        page.fill("#username", "dalat")
        page.fill("#password", "dalat-demo")
        page.click("#login")
        expect(page.locator("#message")).to_contain_text("Tài khoản này không quản trị người dùng")
        expect(page.locator("#users tbody tr")).to_have_count(0)
    finally:
        page.close()
