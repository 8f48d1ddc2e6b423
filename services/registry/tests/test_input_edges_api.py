"""Inputs that used to answer 500, on SQLite and PostgreSQL: each now gets a 4xx naming what is wrong (or is
read as what it means) and changes nothing it should not."""

from registry_testkit import Api

HEADER = "full_name,date_of_birth,sex,national_id,tier,managing_unit,status,status_since\n"
ROW = "Nguyễn Văn An,1960-01-15,male,068060000101,provincial_2,VN.68,retired,2020-01-01"


async def test_a_null_eligibility_is_refused_and_an_empty_list_clears_it(api: Api) -> None:
    cadre = await api.create(eligibility=["professor"])
    before = await api.outbox()
    nulled = await api.patch(f"/cadres/{cadre['id']}", json={"eligibility": None})
    assert nulled.status_code == 422, nulled.text
    assert nulled.json()["errors"][0]["loc"] == ["eligibility"]
    assert await api.outbox() == before
    cleared = await api.patch(f"/cadres/{cadre['id']}", json={"eligibility": []})
    assert cleared.status_code == 200 and cleared.json()["eligibility"] == []


async def test_a_stray_carriage_return_in_a_csv_is_read_as_a_line_end(api: Api) -> None:
    headers = {"content-type": "text/csv"}
    for content in (HEADER + ROW.replace(",male", "\r,male") + "\n", "full_name\rx,y\n1,2\n", HEADER + ROW + "\r"):
        report = await api.post("/cadres/import", content=content.encode(), headers=headers)
        assert report.status_code in (200, 422), report.text  # a report of the rows (or an unreadable file), no 500
    quoted = await api.post(
        "/cadres/import", content=(HEADER + ROW.replace("Nguyễn Văn An", '"Nguyễn\rVăn An"')).encode(), headers=headers
    )
    assert quoted.status_code == 200 and quoted.json()["total_rows"] == 1, quoted.text
