"""Cadres over HTTP on SQLite and PostgreSQL, called as the gateway calls it (signed internal token): registration,
scope, search, corrections and history, likely duplicates, Idempotency-Key."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import registry_testkit as kit
from sqlalchemy import func, select

from contracts.enums import Action, ManagementTier
from contracts.permissions import Permission
from contracts.scope import Grant, Principal, PrincipalKind
from registry.app import create_app
from registry.settings import RegistrySettings
from registry.tables import KIT
from servicekit import clock, migrations
from servicekit.pagination import MAX_PAGE_SIZE

Sign = Callable[[Principal], dict[str, str]]
ALL = frozenset(ManagementTier)
PERMISSIONS = frozenset(
    {
        Permission.REGISTRY_CADRES_READ,
        Permission.REGISTRY_CADRES_WRITE,
        Permission.REGISTRY_UNITS_READ,
        Permission.REGISTRY_UNITS_WRITE,
    }
)

ADMIN = Principal(
    subject="user:admin",
    kind=PrincipalKind.ADMIN,
    permissions=PERMISSIONS,
    grants=(Grant(unit_path="VN", tiers=ALL, actions=frozenset({Action.READ, Action.WRITE})),),
)
DALAT = Principal(
    subject="user:dalat",
    kind=PrincipalKind.STAFF,
    permissions=PERMISSIONS,
    grants=(
        Grant(unit_path="VN.68.672", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.READ, Action.WRITE})),
    ),
)
UNITS = [
    {"path": "VN", "code": "VN", "name": "Việt Nam", "level": "nation", "parent_path": None, "valid_from": "1976-07-02"},
    {
        "path": "VN.68",
        "code": "68",
        "name": "Tỉnh Lâm Đồng",
        "level": "province",
        "parent_path": "VN",
        "valid_from": "1976-02-20",
    },
    {
        "path": "VN.68.672",
        "code": "672",
        "name": "Thành phố Đà Lạt",
        "level": "district",
        "parent_path": "VN.68",
        "valid_from": "2004-01-01",
    },
    {
        "path": "VN.68.673",
        "code": "673",
        "name": "Thành phố Bảo Lộc",
        "level": "district",
        "parent_path": "VN.68",
        "valid_from": "2004-01-01",
    },
]


def cadre(**overrides: object) -> dict[str, object]:
    return {
        "full_name": "Nguyễn Văn Đức",
        "date_of_birth": "1962-04-05",
        "sex": "male",
        "national_id": "068062000123",
        "tier": "district",
        "managing_unit": "VN.68.672",
        "status": "retired",
        "status_since": "2022-05-01",
        **overrides,
    }


@pytest.fixture
async def client(database_url: str, internal_keys: tuple[bytes, Path], tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    migrations.upgrade("registry", database_url)
    settings = RegistrySettings(database_url=database_url, data_dir=tmp_path, internal_public_key_file=internal_keys[1])
    app = create_app(settings, run_workers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry") as http:
        yield http
    await app.state.runtime.db.dispose()


async def outbox_rows(client: httpx.AsyncClient) -> int:
    runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(KIT.outbox)) or 0


async def test_register_read_and_list_within_scope(client: httpx.AsyncClient, sign_as: Sign) -> None:
    assert (await client.post("/units/import", json=UNITS, headers=sign_as(ADMIN))).json() == {"created": 4}
    created = await client.post("/cadres", json=cadre(), headers=sign_as(DALAT))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "retired" and body["managing_unit"] == "VN.68.672"
    assert await outbox_rows(client) == 5  # four units and the cadre, written with the state
    read = await client.get(f"/cadres/{body['id']}", headers=sign_as(DALAT))
    assert read.status_code == 200
    assert read.headers["x-audit-subjects"] == body["id"]
    listed = await client.get("/cadres", headers=sign_as(DALAT))
    assert [c["id"] for c in listed.json()["items"]] == [body["id"]]
    assert listed.headers["x-audit-subjects"] == body["id"]


async def test_out_of_scope_is_invisible_and_unwritable(client: httpx.AsyncClient, sign_as: Sign) -> None:
    await client.post("/units/import", json=UNITS, headers=sign_as(ADMIN))
    baoloc = (await client.post("/cadres", json=cadre(managing_unit="VN.68.673"), headers=sign_as(ADMIN))).json()
    assert (await client.get(f"/cadres/{baoloc['id']}", headers=sign_as(DALAT))).status_code == 404
    assert (await client.get("/cadres", headers=sign_as(DALAT))).json()["total"] == 0
    before = await outbox_rows(client)
    refused = await client.post(
        "/cadres", json=cadre(managing_unit="VN.68.673", national_id="068062000999"), headers=sign_as(DALAT)
    )
    assert refused.status_code == 403
    assert await outbox_rows(client) == before


async def test_bad_input_names_the_field_and_changes_nothing(client: httpx.AsyncClient, sign_as: Sign) -> None:
    await client.post("/units/import", json=UNITS, headers=sign_as(ADMIN))
    before = await outbox_rows(client)
    wrong = await client.post("/cadres", json=cadre(national_id="12345"), headers=sign_as(ADMIN))
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["body", "national_id"]
    malformed = await client.post("/cadres", content=b"{not json", headers={**sign_as(ADMIN), "content-type": "application/json"})
    assert malformed.status_code == 422
    unknown_unit = await client.post("/cadres", json=cadre(managing_unit="VN.99"), headers=sign_as(ADMIN))
    assert unknown_unit.status_code == 422 and unknown_unit.json()["errors"][0]["loc"] == ["managing_unit"]
    wrong_tier = await client.post("/cadres", json=cadre(tier="provincial_2"), headers=sign_as(ADMIN))
    assert wrong_tier.status_code == 422 and wrong_tier.json()["errors"][0]["loc"] == ["tier"]
    assert await outbox_rows(client) == before


async def test_a_second_cadre_with_a_known_national_id_is_refused(client: httpx.AsyncClient, sign_as: Sign) -> None:
    await client.post("/units/import", json=UNITS, headers=sign_as(ADMIN))
    first = (await client.post("/cadres", json=cadre(), headers=sign_as(ADMIN))).json()
    again = await client.post("/cadres", json=cadre(full_name="Someone Else"), headers=sign_as(ADMIN))
    assert again.status_code == 409
    assert first["id"] in again.json()["detail"]


async def test_calls_without_a_valid_internal_token_are_refused(client: httpx.AsyncClient, sign_as: Sign) -> None:
    assert (await client.get("/cadres")).status_code == 401
    assert (await client.get("/cadres", headers={"authorization": "Bearer not-a-token"})).status_code == 401
    forged = sign_as(ADMIN)["authorization"][:-4] + "AAAA"
    assert (await client.get("/cadres", headers={"authorization": forged})).status_code == 401
    assert (await client.get("/healthz")).status_code == 200


async def test_a_retried_registration_with_its_idempotency_key_gets_the_first_answer(
    client: httpx.AsyncClient, sign_as: Sign
) -> None:
    """The client's first attempt timed out after the registry had done it: the retry must not answer 409."""
    await client.post("/units/import", json=UNITS, headers=sign_as(ADMIN))
    before = await outbox_rows(client)
    keyed = {**sign_as(DALAT), "idempotency-key": "register-068062000123"}
    first = await client.post("/cadres", json=cadre(), headers=keyed)
    retried = await client.post("/cadres", json=cadre(), headers=keyed)
    assert first.status_code == retried.status_code == 201
    assert retried.json() == first.json() and retried.headers["idempotent-replayed"] == "true"
    assert await outbox_rows(client) == before + 1  # one registration, one event
    other = await client.post("/cadres", json=cadre(national_id="068062000124"), headers=keyed)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    someone_else = await client.post(
        "/cadres", json=cadre(), headers={**sign_as(ADMIN), "idempotency-key": keyed["idempotency-key"]}
    )
    assert someone_else.status_code == 409 and someone_else.json()["code"] == "duplicate_national_id"  # keys are per caller
    without_key = await client.post("/cadres", json=cadre(), headers=sign_as(DALAT))
    assert without_key.status_code == 409 and without_key.json()["code"] == "duplicate_national_id"
    bad_key = await client.post("/cadres", json=cadre(), headers={**sign_as(DALAT), "idempotency-key": "\x01"})
    assert bad_key.status_code == 422 and bad_key.json()["errors"][0]["loc"] == ["header", "idempotency-key"]


async def test_a_refused_request_is_not_remembered_under_its_key(client: httpx.AsyncClient, sign_as: Sign) -> None:
    keyed = {**sign_as(DALAT), "idempotency-key": "before-the-units"}
    refused = await client.post("/cadres", json=cadre(), headers=keyed)  # no units yet: refused, nothing done
    assert refused.status_code == 422
    await client.post("/units/import", json=UNITS, headers=sign_as(ADMIN))
    accepted = await client.post("/cadres", json=cadre(), headers=keyed)
    assert accepted.status_code == 201, accepted.text


async def test_every_post_declares_the_idempotency_key(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    posts = [operation for path in spec["paths"].values() for method, operation in path.items() if method == "post"]
    assert posts
    for operation in posts:
        assert "idempotency-key" in [p["name"] for p in operation.get("parameters", [])], operation["operationId"]


async def test_search_by_name_with_or_without_diacritics_cccd_card_unit_tier_status(api: kit.Api) -> None:
    duc = await api.create(full_name="Nguyễn Văn Đức")
    await api.create(full_name="Trần Thị Lan", sex="female", tier="provincial_3", status="active", status_since="2020-01-01")
    await api.create(full_name="Lê Đức Thọ", managing_unit="VN.68.672", tier="district")
    out_of_scope = await api.create(full_name="Đức Phổ", managing_unit="VN.67")

    async def names(who: Any = kit.ADMIN, **params: Any) -> list[str]:
        answer = await api.get("/cadres", who, params=params)
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-audit-subjects"] == ",".join(c["id"] for c in answer.json()["items"])
        return [c["full_name"] for c in answer.json()["items"]]

    # names that start with the words, or whose given name does; only when none, names containing them
    assert await names(q="duc") == ["Đức Phổ", "Nguyễn Văn Đức"]
    assert await names(q="Đức", unit="VN.68") == ["Nguyễn Văn Đức"]
    assert await names(q="duc nguyen") == ["Nguyễn Văn Đức"]
    assert await names(q="NGUYEN VAN") == ["Nguyễn Văn Đức"]
    assert await names(q="đức thọ") == ["Lê Đức Thọ"]
    assert await names(q=duc["national_id"]) == ["Nguyễn Văn Đức"]
    assert await names(national_id=out_of_scope["national_id"], who=kit.LAMDONG) == []
    assert await names(tier="provincial_3") == ["Trần Thị Lan"]
    assert await names(status="active") == ["Trần Thị Lan"]
    assert await names(unit="VN.68.672") == ["Lê Đức Thọ"]
    assert await names(who=kit.LAMDONG, q="le duc") == ["Lê Đức Thọ"]  # district tier: read-only for the province, still visible
    card = (await api.post(f"/cadres/{duc['id']}/cards", json={})).json()
    assert await names(card_number=card["number"]) == ["Nguyễn Văn Đức"]
    page = (await api.get("/cadres", params={"limit": 2, "offset": 2})).json()
    assert page["total"] == 4 and len(page["items"]) == 2
    assert (await api.get("/cadres", params={"limit": 500})).status_code == 422


async def test_corrections_are_kept_as_history_and_checked(api: kit.Api) -> None:
    cadre = await api.create()
    changed = await api.patch(f"/cadres/{cadre['id']}", json={"phone": "0912345678", "full_name": "Nguyễn Văn Đực"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["full_name"] == "Nguyễn Văn Đực"
    history = (await api.get(f"/cadres/{cadre['id']}/history")).json()
    lines = {(h["operation"], h["field"]): (h["old_value"], h["new_value"], h["changed_by"]) for h in history}
    assert lines[("updated", "full_name")] == ("Nguyễn Văn Đức", "Nguyễn Văn Đực", "user:admin")
    assert lines[("updated", "phone")] == (None, "0912345678", "user:admin")
    assert ("registered", "record") in lines
    before = await api.outbox()
    wrong_year = await api.patch(f"/cadres/{cadre['id']}", json={"date_of_birth": "1959-03-09"})
    assert wrong_year.status_code == 422
    assert wrong_year.json()["errors"][0]["loc"] == ["national_id"]
    assert "birth year 1959" in wrong_year.json()["errors"][0]["msg"]
    assert await api.outbox() == before
    assert (await api.patch(f"/cadres/{cadre['id']}", json={"tier": "central"})).json()[
        "tier"
    ] == "provincial_2"  # not a field here
    assert (await api.patch(f"/cadres/{cadre['id']}", kit.DALAT, json={"phone": "0900000000"})).status_code == 404


async def test_registration_checks_the_cccd_against_birth_and_sex(api: kit.Api) -> None:
    wrong = await api.post("/cadres", json=kit.cadre_body(national_id="068162000123", date_of_birth="1962-04-05", sex="male"))
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"loc": ["national_id"], "msg": "digit 4 (1) encodes sex female, sex is male", "type": "value_error"}
    ]
    dead = await api.post("/cadres", json=kit.cadre_body(status="deceased"))
    assert dead.status_code == 422 and dead.json()["errors"][0]["loc"] == ["status"]


async def test_duplicates_are_refused_with_a_pointer_only_for_those_who_may_see(api: kit.Api) -> None:
    first = await api.create(managing_unit="VN.67")
    again = await api.post("/cadres", json=kit.cadre_body(national_id=first["national_id"]))
    assert again.status_code == 409 and first["id"] in again.json()["detail"]
    hidden = await api.post("/cadres", kit.LAMDONG, json=kit.cadre_body(national_id=first["national_id"]))
    assert hidden.status_code == 409 and first["id"] not in hidden.json()["detail"]
    twin = await api.create(full_name="NGUYỄN văn Đức", managing_unit="VN.67")  # same person typed again, another CCCD
    groups = (await api.get("/cadre-duplicates")).json()
    assert len(groups) == 1 and {c["id"] for c in groups[0]["cadres"]} == {first["id"], twin["id"]}
    assert (await api.get("/cadre-duplicates", kit.LAMDONG)).json() == []


# 01:30 on 28 November in Vietnam, while the UTC date is still the 27th: the board's "today" is Vietnam's.
VIETNAM_NIGHT = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)


async def test_a_registration_without_a_date_holds_from_vietnams_today(api: kit.Api) -> None:
    body = kit.cadre_body(status="active", date_of_birth="1970-02-02")
    del body["status_since"]
    with clock.frozen_at(VIETNAM_NIGHT):
        created = await api.post("/cadres", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["status_since"] == "2026-11-28"
    history = (await api.get(f"/cadres/{created.json()['id']}/history")).json()
    assert [h["effective_date"] for h in history] == ["2026-11-28"]


async def test_lists_page_up_to_the_one_cap(api: kit.Api) -> None:
    await api.create()
    for url in ("/cadres", "/cadre-duplicates"):
        assert (await api.get(url, params={"limit": MAX_PAGE_SIZE})).status_code == 200
        assert (await api.get(url, params={"limit": MAX_PAGE_SIZE + 1})).status_code == 422
    page = (await api.get("/cadres", params={"limit": MAX_PAGE_SIZE})).json()
    assert page["limit"] == MAX_PAGE_SIZE and page["total"] == 1
