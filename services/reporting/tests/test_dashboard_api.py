"""The dashboard's API on SQLite and PostgreSQL, fed with events through the consumer kit, called as the
gateway calls it: a unit's figures over a period, in the caller's scope, and the units it may pick."""

from reporting_testkit import ADMIN, CENTRAL, DALAT, LAMDONG, NOBODY, World, summary


async def test_dashboard_figures_for_a_province(world: World) -> None:
    answer = await summary(world, ADMIN, "VN.68")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    cadres = body["cadres"]
    assert (cadres["as_of"], cadres["total"], cadres["active"], cadres["retired"]) == ("2023-06-30", 19, 12, 7)
    assert (cadres["compared_with"], cadres["total_then"], cadres["change"]) == ("2022-12-31", 18, 1)
    p2_rows = {r["status"]: r["count"] for r in cadres["rows"] if r["tier"] == "provincial_2"}
    assert p2_rows == {"active": 9, "retired": 3}
    coverage = body["coverage"]
    assert [(r["invited"], r["examined"], r["rate"]) for r in coverage["by_plan"]] == [
        (11, 9, 81.81)
    ]  # 9/11 = 81.818...: cut, as the boards write it
    groups = {(r["tier"], r["status"]): (r["invited"], r["examined"]) for r in coverage["by_group"]}
    assert groups == {("provincial_2", "active"): (8, 6), ("provincial_2", "retired"): (3, 3)}
    classes = {r["code"]: r["count"] for r in body["classification"]["rows"]}
    assert classes == {"A": 3, "B1": 3, "B2": 1, "C": 2, "D": 0}  # amended B1 -> B2; the withdrawn exam counts nowhere
    assert body["classification"]["total"] == 9
    activity = body["activity"]
    assert (activity["outpatient_visits"], activity["admissions"], activity["home_visits"]) == (5, 2, 1)
    assert (activity["referrals_higher_level"], activity["referrals_in_province"], activity["referrals_total"]) == (1, 2, 3)
    months = {p["month"]: p["outpatient_visits"] for p in body["monthly"]}
    assert months == {"2023-01": 0, "2023-02": 2, "2023-03": 3, "2023-04": 0, "2023-05": 0, "2023-06": 0}
    chronic = {r["group"]: r["cadres"] for r in body["chronic"]["rows"]}
    assert (chronic["hypertension"], chronic["diabetes"], chronic["cancer"]) == (3, 2, 0)
    assert {r["conditions"]: r["cadres"] for r in body["chronic"]["comorbidity"]} == {"1": 3, "2": 1, "3+": 0}
    assert body["has_data"] is True and body["aggregate_only"] is False

    as_of_march = (await summary(world, ADMIN, "VN.68", period_start="2023-01-01", period_end="2023-02-28")).json()
    assert as_of_march["cadres"]["retired"] == 4  # the three retirements hold from 1 March


async def test_redelivered_events_change_nothing(world: World) -> None:
    before = (await summary(world, ADMIN, "VN.68")).json()
    await world.feed.redeliver_all()
    after = (await summary(world, ADMIN, "VN.68")).json()
    before.pop("generated_at"), after.pop("generated_at")
    assert after == before


async def test_scope_a_district_sees_its_district_and_the_centre_sees_suppressed_aggregates(world: World) -> None:
    dalat = (await summary(world, DALAT, "VN.68.672")).json()
    assert dalat["cadres"]["total"] == 5 and dalat["activity"]["home_visits"] == 1
    wider = (await summary(world, DALAT, "VN.68")).json()
    assert wider["cadres"]["total"] == 5 and wider["activity"]["outpatient_visits"] == 0  # only its district's rows
    assert (await summary(world, DALAT, "VN.52")).status_code == 404
    assert (await summary(world, LAMDONG, "VN.52")).status_code == 404
    lamdong = (await summary(world, LAMDONG, "VN.68")).json()
    assert lamdong["cadres"]["total"] == 19 and lamdong["aggregate_only"] is False

    central = (await summary(world, CENTRAL, "VN.52")).json()
    assert central["aggregate_only"] is True and central["cadres"]["total"] == 12
    by_tier = central["classification"]["by_tier"]
    assert [r["count"] for r in by_tier["central"] if r["code"] == "C"] == [None]  # one cadre: suppressed
    # complementary: with the total (12) shown, A = 11 of group 3 would give the central cadre's C = 12 - 11 away
    assert [r["count"] for r in by_tier["provincial_3"] if r["code"] == "A"] == [None]
    assert central["classification"]["total"] == 12 and central["cadres"]["rows"][0]["suppressed"] == ["count"]
    assert (await world.http.get("/summary", params={"unit": "VN.68"}, headers=world.sign(NOBODY))).status_code == 403
    assert (await world.http.get("/summary", params={"unit": "VN.68"})).status_code == 401


async def test_bad_input_gets_clear_errors_and_empty_periods_say_so(world: World) -> None:
    unknown = await summary(world, ADMIN, "VN.99")
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["loc"] == ["query", "unit"]
    reversed_period = await summary(world, ADMIN, "VN.68", period_start="2023-06-30", period_end="2023-01-01")
    assert reversed_period.status_code == 422 and reversed_period.json()["code"] == "invalid_period"
    assert reversed_period.json()["errors"][0]["loc"] == ["query", "period_end"]
    future = await world.http.get("/summary", params={"unit": "VN.68", "as_of": "2999-01-01"}, headers=world.sign(ADMIN))
    assert future.status_code == 422 and future.json()["errors"][0]["loc"] == ["query", "as_of"]
    malformed = await summary(world, ADMIN, "VN.68", period_start="yesterday")
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["loc"] == ["query", "period_start"]
    empty = (await summary(world, ADMIN, "VN.68", period_start="2010-01-01", period_end="2010-06-30")).json()
    assert empty["has_data"] is False and "No data" in empty["message"]
    assert empty["classification"]["has_data"] is False and empty["activity"]["has_data"] is False
    report = (
        await world.http.get(
            "/reports/board",
            params={"unit": "VN.68", "period_start": "2010-01-01", "period_end": "2010-06-30"},
            headers=world.sign(ADMIN),
        )
    ).json()
    assert report["has_data"] is False and "Không có dữ liệu" in report["message"]


async def test_units_for_the_filter_follow_scope(world: World) -> None:
    dalat = (await world.http.get("/units", headers=world.sign(DALAT))).json()
    assert [u["path"] for u in dalat] == ["VN.68.672"]
    everything = (await world.http.get("/units", headers=world.sign(ADMIN))).json()
    assert [u["path"] for u in everything][:2] == ["VN", "VN.52"]
    counts = (await world.http.get("/cadre-counts", params={"unit": "VN.68"}, headers=world.sign(LAMDONG))).json()
    assert counts["total"] == 19
