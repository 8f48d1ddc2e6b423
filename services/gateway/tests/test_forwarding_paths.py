"""Forwarding exactly what the client sent: the raw path and query (escapes kept, what a URL may not carry
percent-encoded), a 4xx for what cannot be forwarded, never a 5xx for a client's input. Each case is one
class of server error schemathesis found against the live platform."""

import json

import pytest
from gateway_harness import PlatformFactory, client, user

from contracts import roles
from contracts.scope import PrincipalKind
from devstack.demo import demo_units
from gateway.forwarding.limits import check_batch_size
from gateway.forwarding.target import Unforwardable, upstream_target
from gateway.identity import PrincipalsFile
from servicekit.errors import DomainError

API = "/api/v1"


def scope(raw_path: bytes, query: bytes = b"") -> dict[str, object]:
    return {"type": "http", "path": raw_path.decode("latin-1"), "raw_path": raw_path, "query_string": query}


def test_the_raw_path_is_forwarded_with_its_escapes() -> None:
    assert upstream_target(scope(b"/api/v1/regis%74ry/cadres"), "registry") == ("cadres", "")  # the same prefix
    # %3F stays an escaped character of the segment: decoding it would make a query string of it
    assert upstream_target(scope(b"/api/v1/registry/cadres%3Flimit=5000"), "registry") == ("cadres%3Flimit=5000", "")
    assert upstream_target(scope(b"/api/v1/registry/cadres/a%20b"), "registry") == ("cadres/a%20b", "")
    assert upstream_target(scope(b"/api/v1/registry/cadres/%C3%A9/history"), "registry") == ("cadres/%C3%A9/history", "")
    assert upstream_target(scope(b"/api/v1/registry/", b"q=%C3%A9&limit=5"), "registry") == ("", "q=%C3%A9&limit=5")


def test_bytes_no_url_may_carry_are_percent_encoded() -> None:
    path, query = upstream_target(scope("/api/v1/registry/cadres/é x\x01".encode(), "q=Đà Lạt".encode()), "registry")
    assert path == "cadres/%C3%A9%20x%01"
    assert query == "q=%C4%90%C3%A0%20L%E1%BA%A1t"
    assert path.isascii() and query.isascii()


@pytest.mark.parametrize(
    "raw",
    [b"/api/v1/registry/cadres/%zz", b"/api/v1/registry/cadres/%4", b"/api/v1/registry%2Fcadres", b"/api/v1%2Fregistry/cadres"],
)
def test_what_cannot_be_forwarded_as_received_is_a_400(raw: bytes) -> None:
    with pytest.raises(Unforwardable) as refused:
        upstream_target(scope(raw), "registry")
    assert refused.value.status_code == 400 and refused.value.errors[0].loc == ["path"]


def test_a_body_nested_a_thousand_levels_deep_is_left_to_the_service() -> None:
    # json.loads raises RecursionError (not ValueError) on it: the batch check crashed the gateway
    for deep in (b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000, b"[" * 100_000 + b"]" * 100_000):
        check_batch_size(deep, "application/json", 1000)


def test_a_batch_or_page_over_the_cap_is_invalid_request_as_the_service_would_say() -> None:
    with pytest.raises(DomainError) as batch:
        check_batch_size(json.dumps({"items": [{}] * 3}).encode(), "application/json", 2)
    assert (batch.value.status_code, batch.value.code, batch.value.errors[0].type) == (422, "invalid_request", "too_long")


async def test_through_the_gateway_a_client_input_gets_a_4xx_never_a_5xx(make_platform: PlatformFactory) -> None:
    principals = PrincipalsFile(
        users=[user("admin", PrincipalKind.ADMIN, roles.administrator(), roles.ADMIN_PERMISSIONS)],
        clients=[client("his", roles.his_client("VN.68"), roles.HIS_PERMISSIONS)],
    )
    platform = await make_platform(principals)
    http, admin = platform.http, await platform.headers("admin")
    assert (await http.post(f"{API}/registry/units/import", json=demo_units(), headers=admin)).status_code == 200

    for path in ("cadres/%C3%A9", "cadres/a%20b", "cadres/%F0%9F%98%80/history", "cadres/%0E%1D/transfer"):
        answer = await http.get(f"{API}/registry/{path}", headers=admin)
        assert answer.status_code in (404, 405, 422), (path, answer.status_code, answer.text)
    # an escaped `?` is part of the path: no route, not a page of 5,000 past the gateway's cap
    bypass = await http.get(f"{API}/registry/cadres%3Flimit=5000", headers=admin)
    assert bypass.status_code == 404
    malformed = await http.get(f"{API}/registry/cadres/%zz", headers=admin)
    assert malformed.status_code == 400 and malformed.json()["code"] == "invalid_path"

    # integers past 64 bits in the lists' paging: bounded in the OpenAPI, a 422 naming them (SQL overflowed: a 500)
    for listing in ("gateway/audit", "gateway/break-glass", "registry/cadres", "scheduling/invitations"):
        for name in ("offset", "limit"):
            paged = await http.get(f"{API}/{listing}", params={name: str(2**64)}, headers=admin)
            assert paged.status_code == 422 and paged.json()["errors"][0]["loc"] == ["query", name], (listing, paged.text)

    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    nested = await http.post(f"{API}/registry/cadres", content=deep, headers={**admin, "content-type": "application/json"})
    assert nested.status_code == 400 and nested.json()["code"] == "malformed_request", nested.text
    # the code docs/his-integration.md documents for more than 1,000 items, whether the gateway or clinical says it
    his = {"authorization": f"Bearer {await platform.client_token('his')}"}
    too_many = await http.post(f"{API}/clinical/his/records/bulk", json={"items": [{}] * 1001}, headers=his)
    assert too_many.status_code == 422 and too_many.json()["code"] == "invalid_request", too_many.text
