"""The scheduling demo through the gateway against a running stack: the base demo's 475 cadres of Lâm Đồng reach
scheduling by the registry's events; the demo seeds the 2023 cadence rule, a two-round plan with its facilities,
the invitations, home visits, a convalescence trip and clinic days; seeding twice adds nothing."""

import csv
import io
from contextlib import closing
from datetime import UTC, datetime

import httpx
import pytest

from contracts.envelope import EventEnvelope
from contracts.events import parse_payload
from contracts.topics import ALL_TOPICS
from devstack import demo, demo_clinical, demo_scheduling, events
from devstack.stack import Stack
from tests.e2e.conftest import login
from tests.e2e.helpers import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]

API = "/api/v1/scheduling"
# the base demo: 13 central-tier (once, at Thống Nhất), 14 group 1 (twice), 134 group 2 and 194 group 3 (once)
ROUND_1 = 13 + 14 + 134 + 194
ROUND_2 = 14


def test_the_scheduling_demo_seeds_a_plan_for_the_base_demo(stack: Stack, admin: httpx.Client) -> None:
    cadres = demo.demo_cadres()
    assert len(cadres) == 475
    sheet = io.StringIO()  # the base demo's cadres in one import rather than 475 requests
    writer = csv.DictWriter(sheet, fieldnames=list(cadres[0]))
    writer.writeheader()
    writer.writerows(cadres)
    imported = admin.post(
        "/api/v1/registry/cadres/import",
        params={"dry_run": "false"},
        content=sheet.getvalue().encode(),
        headers={"content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text

    summary = demo_scheduling.seed(admin)
    year = datetime.now(UTC).year
    assert summary.startswith(f"scheduling: plan {year} in 2 rounds, {ROUND_1 + ROUND_2} invitations for 475 cadres"), summary
    assert "13 home-visit schedules" in summary and "6 of 16 registered" in summary, summary

    [plan] = admin.get(f"{API}/plans", params={"year": year}).json()
    assert {f["code"]: f["name"] for f in plan["facilities"]} == {
        "68-BVDK": "Bệnh viện Đa khoa tỉnh Lâm Đồng",
        "BV-THONGNHAT": "Bệnh viện Thống Nhất",
    }
    assert [r["number"] for r in plan["rounds"]] == [1, 2]
    [rules] = admin.get(f"{API}/cadence-rules", params={"board_unit": "VN.68", "year": year}).json()
    assert {(r["tier"], r["exams_per_year"]) for r in rules["rules"]} == {
        ("central", 1),
        ("provincial_1", 2),
        ("provincial_2", 1),
        ("provincial_3", 1),
    }
    with closing(login(stack, "lamdong")) as board:  # the provincial board sees its plan as the administrator made it
        central = board.get(f"{API}/invitations", params={"plan_id": plan["id"], "facility": "BV-THONGNHAT", "limit": 1})
        assert central.json()["total"] == 13
        coverage = board.get(f"{API}/coverage", params={"plan_id": plan["id"], "by": ["round"]}).json()
        assert [(row["round"], row["invited"]) for row in coverage["rows"]] == [(1, ROUND_1), (2, ROUND_2)]
        [trip] = board.get(f"{API}/convalescence/trips", params={"board_unit": "VN.68"}).json()
        assert (trip["registered"], trip["eligible"], trip["quota"]) == (6, 16, 14)
        assert len(board.get(f"{API}/clinic-sessions", params={"board_unit": "VN.68"}).json()) == 6

    assert demo_scheduling.seed(admin) == summary  # seeding twice adds nothing


def test_every_topic_reads_with_an_independent_librdkafka_client(stack: Stack, admin: httpx.Client) -> None:
    """README promises that any Kafka client can read the events: librdkafka (the confluent-kafka wheel, not
    aiokafka) reads every topic, and every envelope on it parses as a CloudEvent of that topic's events."""
    assert demo_clinical.seed(admin).startswith("clinical:")
    with closing(login(stack, "lamdong")) as lamdong:
        issued = lamdong.post("/api/v1/reporting/reports/board/issued", params={"unit": "VN.68"})
        assert issued.status_code == 201, issued.text

    def read_all() -> dict[str, list[EventEnvelope]] | None:
        found: dict[str, list[EventEnvelope]] = {topic.name: [] for topic in ALL_TOPICS}
        for message in events.messages(stack.config.kafka_bootstrap, list(found)):
            found[str(message.topic())].append(events.envelope_of(message))
        return found if all(found.values()) else None

    envelopes = eventually(read_all, timeout=60, interval=1)
    for topic in ALL_TOPICS:
        types = {(event.event_type, event.schema_version) for event in topic.events}
        for envelope in envelopes[topic.name]:
            assert (envelope.type, envelope.schema_version) in types, (topic.name, envelope.type)
            parse_payload(envelope)  # the payload is a valid event of its type
            assert envelope.source.startswith("cadrecare/") and envelope.correlation_id
