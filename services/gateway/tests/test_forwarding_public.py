"""The reporting dashboard's static files are public through the gateway; nothing else of the reporting
service is reachable without a token."""

import re

import pytest
from gateway_harness import PlatformFactory, user

from contracts import roles
from contracts.scope import PrincipalKind
from gateway.forwarding.public import upstream_path
from gateway.identity import PrincipalsFile
from servicekit.errors import NotFound

DASHBOARD = "/api/v1/reporting/dashboard/"


def principals() -> PrincipalsFile:
    return PrincipalsFile(users=[user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS)])


async def test_dashboard_files_are_served_without_a_token(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals())
    http = platform.http

    audited_before = (await platform.gateway.audit.verify()).records_checked
    page = await http.get(DASHBOARD)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="app.js">' in page.text
    for name, kind in (("index.html", "text/html"), ("app.js", "javascript"), ("app.css", "text/css")):
        answer = await http.get(DASHBOARD + name)
        assert answer.status_code == 200 and kind in answer.headers["content-type"], name
        assert "x-audit-subjects" not in answer.headers

    etag = (await http.get(DASHBOARD + "app.js")).headers["etag"]
    assert (await http.get(DASHBOARD + "app.js", headers={"if-none-match": etag})).status_code == 304

    for convenience in ("/dashboard", DASHBOARD.rstrip("/")):
        moved = await http.get(convenience)
        assert moved.status_code == 307 and moved.headers["location"] == DASHBOARD

    assert (await http.get(DASHBOARD + "no-such-file.js")).status_code == 404
    assert (await platform.gateway.audit.verify()).records_checked == audited_before  # static files: no audit


async def test_nothing_else_of_reporting_is_reachable_without_a_token(make_platform: PlatformFactory) -> None:
    platform = await make_platform(principals())
    http = platform.http
    reporting = platform.services["reporting"]

    paths = {re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path) for path in reporting.openapi()["paths"]}
    assert {"/summary", "/units"} <= paths  # the service's real API, read from its app
    for path in sorted(paths):
        for method in ("GET", "POST"):
            answer = await http.request(method, f"/api/v1/reporting{path}")
            assert answer.status_code == 401, (method, path, answer.status_code)

    escapes = (
        "%2e%2e/summary",
        "..%2fsummary",
        "%2E%2E/%2E%2E/reporting/summary",
        "..%5csummary",
    )
    for escape in escapes:
        answer = await http.get(DASHBOARD + escape)
        assert answer.status_code in (401, 404), (escape, answer.status_code)
        assert "text/html" not in answer.headers.get("content-type", "")

    for method in ("POST", "PUT", "PATCH", "DELETE"):  # only GET is public
        assert (await http.request(method, DASHBOARD + "index.html")).status_code in (401, 405), method
    assert (await http.get("/api/v1/reporting/dashboards")).status_code == 401  # a prefix, not a substring
    assert (await http.get("/api/v1/reporting/summary?x=/dashboard/")).status_code == 401


def test_a_file_name_cannot_leave_the_dashboard_prefix() -> None:
    assert upstream_path("") == "dashboard/"
    assert upstream_path("img/logo de.png") == "dashboard/img/logo%20de.png"
    for escape in ("../summary", "a/../../summary", ".", "..\\summary", "a/./b"):
        with pytest.raises(NotFound):
            upstream_path(escape)
