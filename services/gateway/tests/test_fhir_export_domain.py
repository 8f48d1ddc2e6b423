"""The rules of a Bulk Data export, without I/O: the kick-off's parameters and the grants a Group export runs with."""

from datetime import UTC, datetime

import pytest

from contracts import roles
from contracts.enums import Action, ManagementTier
from gateway.fhir.export.domain import check_kick_off, narrowed_to, read_only, requested_types, since_of
from servicekit.fhir import FhirError


def test_a_group_export_reads_only_the_group_and_only_what_the_caller_reads() -> None:
    board = roles.provincial_board("VN.68")
    narrowed = narrowed_to(board, "VN.68.672")
    assert {g.unit_path for g in narrowed} == {"VN.68.672"} and all(g.actions == {Action.READ} for g in narrowed)
    assert {t for g in narrowed for t in g.tiers} == {t for g in board for t in g.tiers}
    assert narrowed_to(board, "VN.01") == ()  # not the board's: no Group for it
    assert narrowed_to(roles.his_client("VN.68"), "VN.68") == ()  # a HIS writes, it does not read
    district = roles.district_board("VN.68.672")
    assert narrowed_to(district, "VN.68") == read_only(district)  # a unit above: the caller's own reads, no more
    central = narrowed_to(roles.central_board(), "VN.68")
    assert [(g.tiers, g.central_tier_health_records) for g in central] == [(frozenset({ManagementTier.CENTRAL}), True)]


def test_the_kick_off_parameters() -> None:
    assert requested_types(None) is None and requested_types("Patient, Encounter,Patient") == ("Patient", "Encounter")
    assert since_of("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    check_kick_off("respond-async", "application/fhir+ndjson")
    for bad in (lambda: requested_types("Organization"), lambda: since_of("2026-01-01"), lambda: check_kick_off(None, None)):
        with pytest.raises(FhirError) as refused:
            bad()
        assert refused.value.status == 400
    with pytest.raises(FhirError):
        check_kick_off("respond-async", "text/csv")
