"""Unit tests of the envelope and the event registry: no I/O."""

import uuid
from datetime import date

import pytest

from contracts.codesystems import HEALTH_CLASSIFICATION_1266, find_code_system
from contracts.enums import Action, CadreStatus, ManagementTier, Sex
from contracts.envelope import EventEnvelope
from contracts.events import ALL_EVENTS, UnknownEventType, parse_payload
from contracts.events.registry import CadreRegistered, CadreSnapshot
from contracts.scope import Grant, Principal, PrincipalKind, unit_covers
from contracts.topics import ALL_TOPICS, CADRES, topic_of


def an_event() -> CadreRegistered:
    return CadreRegistered(
        cadre=CadreSnapshot(
            id=uuid.uuid4(),
            full_name="Trần Thị Lan",
            date_of_birth=date(1958, 3, 2),
            sex=Sex.FEMALE,
            national_id="068158000001",
            tier=ManagementTier.PROVINCIAL_1,
            status=CadreStatus.RETIRED,
            status_since=date(2018, 4, 1),
            managing_unit="VN.68",
        )
    )


def test_envelope_round_trips_through_kafka_binary_mode() -> None:
    event = an_event()
    envelope = EventEnvelope.wrap(
        event,
        source="cadrecare/registry",
        subject=str(event.cadre.id),
        correlation_id="abc",
        managing_unit="VN.68",
        tier=ManagementTier.PROVINCIAL_1,
    )
    headers = envelope.to_kafka_headers()
    names = {name for name, _ in headers}
    assert {
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_time",
        "ce_subject",
        "ce_specversion",
        "ce_schemaversion",
        "ce_correlationid",
        "ce_managingunit",
        "ce_tier",
    } <= names
    parsed = EventEnvelope.from_kafka(headers, envelope.payload_bytes())
    assert parsed == envelope
    assert parse_payload(parsed) == event


def test_unknown_fields_are_ignored_so_additive_changes_stay_compatible() -> None:
    envelope = EventEnvelope.wrap(an_event(), source="s", subject="x")
    envelope.data["a_field_from_the_future"] = 1
    assert isinstance(parse_payload(envelope), CadreRegistered)


def test_malformed_messages_are_refused() -> None:
    with pytest.raises(ValueError, match=r"JSON|json|Expecting"):
        EventEnvelope.from_kafka([("ce_type", b"x")], b"{not json")
    with pytest.raises(ValueError, match="object"):
        EventEnvelope.from_kafka([], b"[1, 2]")
    envelope = EventEnvelope.wrap(an_event(), source="s", subject="x")
    with pytest.raises(UnknownEventType):
        parse_payload(envelope.model_copy(update={"type": "vn.cadrecare.nothing"}))


def test_every_event_is_on_exactly_one_topic() -> None:
    for event in ALL_EVENTS:
        assert sum(event in topic.events for topic in ALL_TOPICS) == 1, event.__name__
    assert topic_of(CadreRegistered) is CADRES
    assert len({topic.name for topic in ALL_TOPICS}) == len(ALL_TOPICS)


def test_classification_is_a_versioned_code_system() -> None:
    system = find_code_system(HEALTH_CLASSIFICATION_1266.system, "2020")
    assert system is not None
    assert system.code_values() == ["A", "B1", "B2", "C", "D"]
    assert not system.has("E")
    assert find_code_system(HEALTH_CLASSIFICATION_1266.system, "1999") is None


def test_grants_cover_a_unit_and_everything_below_it_only() -> None:
    assert unit_covers("VN.68", "VN.68")
    assert unit_covers("VN.68", "VN.68.672")
    assert not unit_covers("VN.68", "VN.680")  # a prefix of the string is not a parent
    assert not unit_covers("VN.68.672", "VN.68")
    district = Principal(
        subject="u",
        kind=PrincipalKind.STAFF,
        grants=(Grant(unit_path="VN.68.672", tiers=frozenset({ManagementTier.DISTRICT}), actions=frozenset({Action.READ})),),
    )
    assert district.may(Action.READ, "VN.68.672", ManagementTier.DISTRICT)
    assert not district.may(Action.WRITE, "VN.68.672", ManagementTier.DISTRICT)
    assert not district.may(Action.READ, "VN.68.672", ManagementTier.PROVINCIAL_2)
    assert not district.may(Action.READ, "VN.68.673", ManagementTier.DISTRICT)
