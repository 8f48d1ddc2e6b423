"""Residence addresses read to today's commune on SQLite and PostgreSQL: on registration, update, import and in
bulk; the ambiguous ones listed for the board (in its scope) and settled by it. A handful of communes of the old
and the new Lâm Đồng, with their 2025 successions, are inserted by the tests themselves."""

import uuid
from datetime import date
from typing import Any

from registry_testkit import DALAT, LAMDONG, Api

from registry.tables import Unit, UnitSuccession

OLD_WARD_1 = "VN.68.672.24784"  # Phường 1, Thành phố Đà Lạt (until 2025-06-30)
XUAN_HUONG = "VN.68.24781"  # Phường Xuân Hương - Đà Lạt (since 2025-07-01), Phường 1 among its predecessors
OLD_HOA_THANG = "VN.60.596.23053"  # Xã Hòa Thắng, Huyện Bắc Bình, Bình Thuận: split in 2025 into the two below
HOA_THANG, HONG_THAI = "VN.68.23053", "VN.68.23041"
DA_TEH = "VN.68.99126"  # a code of its own: the parser has 25126, the commune is found by its name
OLD_FORM = "12 Trần Phú, Phường 1, Thành phố Đà Lạt, Lâm Đồng"
NEW_FORM = "Phường Xuân Hương - Đà Lạt, Tỉnh Lâm Đồng"
SPLIT = "Xã Hòa Thắng, Huyện Bắc Bình, Tỉnh Bình Thuận"
OLD, REFORM = date(2008, 1, 1), date(2025, 7, 1)


async def insert_communes(api: Api) -> None:
    """Old communes until 2025-06-30, new ones from 2025-07-01, and the succession between them."""
    runtime = api.http._transport.app.state.runtime  # type: ignore[attr-defined]
    old = [(OLD_WARD_1, "Phường 1", "VN.68.672"), (OLD_HOA_THANG, "Xã Hòa Thắng", "VN.60.596")]
    new = [
        (XUAN_HUONG, "Phường Xuân Hương - Đà Lạt"),
        (HOA_THANG, "Xã Hòa Thắng"),
        (HONG_THAI, "Xã Hồng Thái"),
        (DA_TEH, "Xã Đạ Tẻh"),
    ]
    reorganisation = uuid.uuid4()
    async with runtime.db.transaction() as session:
        for path, name, parent in old:
            code = path.rsplit(".", 1)[1]
            session.add(
                Unit(path=path, code=code, name=name, level="commune", parent_path=parent, valid_from=OLD, valid_to=REFORM)
            )
        for path, name in new:
            session.add(
                Unit(path=path, code=path.rsplit(".", 1)[1], name=name, level="commune", parent_path="VN.68", valid_from=REFORM)
            )
        for old_path, new_path in [(OLD_WARD_1, XUAN_HUONG), (OLD_HOA_THANG, HOA_THANG), (OLD_HOA_THANG, HONG_THAI)]:
            session.add(
                UnitSuccession(reorganisation_id=reorganisation, effective_date=REFORM, old_path=old_path, new_path=new_path)
            )


async def unresolved(api: Api, who: Any = LAMDONG) -> dict[str, dict[str, Any]]:
    answer = await api.get("/addresses/unresolved", who)
    assert answer.status_code == 200, answer.text
    return {item["cadre_id"]: item for item in answer.json()["items"]}


async def test_registration_and_update_read_the_address_and_the_board_settles_the_ambiguous(api: Api) -> None:
    await insert_communes(api)
    old_form = await api.create(LAMDONG, residence_address=OLD_FORM)
    new_form = await api.create(LAMDONG, residence_address=NEW_FORM)
    explicit = await api.create(LAMDONG, residence_address=OLD_FORM, residence_unit=HONG_THAI)
    split = await api.create(LAMDONG, residence_address=SPLIT)
    garbage = await api.create(LAMDONG, residence_address="không rõ")
    by_name = await api.create(LAMDONG, residence_address="Thôn 3, Xã Đạ Tẻh, Lâm Đồng")
    assert by_name["residence_unit"] == DA_TEH
    assert old_form["residence_unit"] == new_form["residence_unit"] == XUAN_HUONG
    assert explicit["residence_unit"] == HONG_THAI  # given explicitly: it wins
    assert split["residence_unit"] is None and garbage["residence_unit"] is None

    listed = await unresolved(api)
    assert set(listed) == {split["id"], garbage["id"]}
    assert listed[split["id"]]["status"] == "ambiguous"
    assert listed[split["id"]]["candidates"] == [HONG_THAI, HOA_THANG]
    assert listed[garbage["id"]]["status"] == "unresolved"
    assert await unresolved(api, DALAT) == {}  # provincial cadres: not the district board's to see

    hidden = await api.post(f"/addresses/{split['id']}/settle", DALAT, json={"commune": HOA_THANG})
    assert hidden.status_code == 404
    wrong = await api.post(f"/addresses/{split['id']}/settle", LAMDONG, json={"commune": "VN.68"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"] == ["commune"]
    old_unit = await api.post(f"/addresses/{split['id']}/settle", LAMDONG, json={"commune": OLD_HOA_THANG})
    assert old_unit.status_code == 422  # no longer a commune of today
    before = len(await api.outbox())
    settled = await api.post(f"/addresses/{split['id']}/settle", LAMDONG, json={"commune": HOA_THANG})
    assert settled.status_code == 200, settled.text
    assert (settled.json()["status"], settled.json()["settled_by"]) == ("settled", "user:lamdong")
    assert (await api.get(f"/cadres/{split['id']}")).json()["residence_unit"] == HOA_THANG
    assert [t for _, t in (await api.outbox())[before:]] == ["vn.cadrecare.registry.cadre.updated"]
    history = (await api.get(f"/cadres/{split['id']}/history")).json()
    assert {"field": "residence_unit", "new_value": HOA_THANG} in [{k: h[k] for k in ("field", "new_value")} for h in history]
    assert set(await unresolved(api)) == {garbage["id"]}

    moved = await api.patch(f"/cadres/{garbage['id']}", LAMDONG, json={"residence_address": NEW_FORM})
    assert moved.status_code == 200 and moved.json()["residence_unit"] == XUAN_HUONG
    assert await unresolved(api) == {}
    moved_away = await api.patch(f"/cadres/{old_form['id']}", LAMDONG, json={"residence_address": SPLIT})
    assert moved_away.json()["residence_unit"] is None  # the old commune no longer holds: to settle
    chosen = await api.patch(f"/cadres/{old_form['id']}", LAMDONG, json={"residence_unit": HONG_THAI})
    assert chosen.json()["residence_unit"] == HONG_THAI
    assert await unresolved(api) == {}  # a residence unit set by hand settles it


async def test_bulk_reading_fills_what_resolves_and_lists_the_rest(api: Api) -> None:
    before_units = [await api.create(residence_address=a) for a in (OLD_FORM, NEW_FORM, SPLIT, OLD_FORM)]
    assert all(c["residence_unit"] is None for c in before_units)  # no commune loaded yet: nothing resolves
    stale = await api.create(residence_address=NEW_FORM, residence_unit="VN.68.999")  # no unit of today
    await insert_communes(api)

    refused = await api.post("/addresses/resolve", DALAT, json={})
    assert refused.status_code == 200 and refused.json()["examined"] == 0  # nothing of the district board's
    answer = await api.post("/addresses/resolve", LAMDONG, json={"unit": "VN.68"})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert {k: result[k] for k in ("examined", "resolved", "ambiguous", "unresolved")} == {
        "examined": 5,
        "resolved": 4,
        "ambiguous": 1,
        "unresolved": 0,
    }
    units = [(await api.get(f"/cadres/{c['id']}")).json()["residence_unit"] for c in [*before_units, stale]]
    assert units == [XUAN_HUONG, XUAN_HUONG, None, XUAN_HUONG, XUAN_HUONG]
    assert list(await unresolved(api)) == [before_units[2]["id"]]

    events = len(await api.outbox())
    again = (await api.post("/addresses/resolve", LAMDONG, json={})).json()
    assert (again["resolved"], again["ambiguous"]) == (0, 1)
    assert len(await api.outbox()) == events  # nothing changed, nothing announced

    split = before_units[2]["id"]
    assert (await api.post(f"/addresses/{split}/settle", LAMDONG, json={"commune": HONG_THAI})).status_code == 200
    reread = (await api.post("/addresses/resolve", LAMDONG, json={"reread": True})).json()
    assert (reread["examined"], reread["resolved"], reread["ambiguous"]) == (5, 0, 0)  # the board's choice stands
    assert (await api.get(f"/cadres/{split}")).json()["residence_unit"] == HONG_THAI
    assert await unresolved(api) == {}


async def test_an_import_reads_the_addresses_and_warns_of_those_to_settle(api: Api) -> None:
    await insert_communes(api)
    header = "full_name,date_of_birth,sex,national_id,tier,managing_unit,status,status_since,residence_address\n"
    rows = [
        f'Nguyễn Văn An,1960-01-15,male,068060000201,provincial_2,VN.68,retired,2020-01-01,"{OLD_FORM}"',
        f'Trần Thị Bình,1961-02-01,female,068161000202,provincial_3,VN.68,active,2020-01-01,"{SPLIT}"',
    ]
    content = (header + "\n".join(rows) + "\n").encode()
    kwargs: dict[str, Any] = {"content": content, "headers": {"content-type": "text/csv"}}
    dry = await api.post("/cadres/import", params={"dry_run": True}, **kwargs)
    assert dry.status_code == 200, dry.text
    warnings = {r["row"]: r["warnings"] for r in dry.json()["rows"]}
    assert list(warnings) == [3] and "to settle" in warnings[3][0]
    done = await api.post("/cadres/import", params={"dry_run": False}, **kwargs)
    assert done.status_code == 200 and done.json()["imported"] == 2, done.text
    found = (await api.get("/cadres", params={"unit": "VN.68", "limit": 10})).json()["items"]
    assert sorted(str(c["residence_unit"]) for c in found) == ["None", XUAN_HUONG]
    assert len(await unresolved(api)) == 1
