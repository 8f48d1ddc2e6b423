"""Searching cadres by a part of the name, on SQLite and PostgreSQL: the fallback to names containing the words
(one statement gives the page and its total), its paging, totals and scope."""

from typing import Any

import registry_testkit as kit


async def search(api: kit.Api, who: Any = kit.ADMIN, **params: Any) -> dict[str, Any]:
    answer = await api.get("/cadres", who, params=params)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    assert answer.headers["x-audit-subjects"] == ",".join(c["id"] for c in page["items"])
    return page


async def test_words_inside_a_name_are_found_in_name_order_with_their_total(api: kit.Api) -> None:
    for name in ("Võ Văn Đức Anh", "Nguyễn Văn Đức", "Lê Văn Đức", "Trần Văn Đực", "Phạm Đức Văn"):
        await api.create(full_name=name)
    await api.create(full_name="Hồ Văn Đức", managing_unit="VN.67")  # another province: out of Lâm Đồng's sight

    # no name starts with 'van duc' (nor does a given name): names containing it, diacritics ignored
    found = await search(api, q="Văn Đức")
    assert [c["full_name"] for c in found["items"]] == [
        "Hồ Văn Đức",
        "Lê Văn Đức",
        "Nguyễn Văn Đức",
        "Trần Văn Đực",
        "Võ Văn Đức Anh",
    ]
    assert found["total"] == 5
    second = await search(api, q="van duc", limit=2, offset=2)
    assert [c["full_name"] for c in second["items"]] == ["Nguyễn Văn Đức", "Trần Văn Đực"]
    assert second["total"] == 5
    past_the_end = await search(api, q="van duc", limit=2, offset=10)
    assert past_the_end["items"] == [] and past_the_end["total"] == 5

    in_lam_dong = await search(api, kit.LAMDONG, q="van duc")
    assert "Hồ Văn Đức" not in [c["full_name"] for c in in_lam_dong["items"]]
    assert in_lam_dong["total"] == 4
    assert (await search(api, q="van duc", unit="VN.67"))["total"] == 1


async def test_a_name_start_wins_over_a_name_containing_the_words(api: kit.Api) -> None:
    await api.create(full_name="Đức Phúc")
    await api.create(full_name="Nguyễn Minh Đức")  # given name Đức: a start too, by its name key
    await api.create(full_name="Lê Đức Thọ")  # contains 'duc' but neither starts with it
    starting = await search(api, q="duc")
    assert [c["full_name"] for c in starting["items"]] == ["Đức Phúc", "Nguyễn Minh Đức"]
    assert starting["total"] == 2
    assert (await search(api, q="duc", limit=1, offset=1))["total"] == 2
    nothing = await search(api, q="khong ai co ten nay")
    assert nothing == {**nothing, "items": [], "total": 0}
