"""Integer filters are bounded in the OpenAPI and refused with 422 beyond it: an integer past 64 bits used to
reach SQL and overflow (a 500). On SQLite and PostgreSQL."""

from typing import Any

import httpx
import pytest

HUGE = str(2**64)
FILTERS = [
    ("/cadence-rules", "year"),
    ("/plans", "year"),
    ("/convalescence/trips", "year"),
    ("/coverage", "year"),
    ("/coverage", "round"),
    ("/invitations", "round"),
]


@pytest.mark.parametrize(("path", "name"), FILTERS)
async def test_an_integer_filter_beyond_its_bounds_is_a_422_naming_it(
    path: str, name: str, k: Any, client: httpx.AsyncClient, sign_as: Any
) -> None:
    for value in (HUGE, f"-{HUGE}"):
        answer = await client.get(path, params={name: value}, headers=sign_as(k.LAMDONG))
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["loc"] == ["query", name]
    within = await client.get(path, params={name: "2"} if name == "round" else {name: k.YEAR}, headers=sign_as(k.LAMDONG))
    assert within.status_code == 200, within.text


async def test_the_bounds_are_in_the_openapi(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    for path, name in FILTERS:
        parameter = next(p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name)
        bounded = next(s for s in parameter["schema"]["anyOf"] if s.get("type") == "integer")
        assert "minimum" in bounded and "maximum" in bounded, (path, name)
