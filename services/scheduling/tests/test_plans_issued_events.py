"""The set-based InvitationIssued rows of a generation take their payload from the contracts' event model."""

from contracts.events.scheduling import InvitationIssued
from scheduling.plans.issued_events import payload_columns


def test_every_field_of_the_event_comes_from_an_invitation_column() -> None:
    columns = payload_columns()
    assert list(columns) == list(InvitationIssued.model_fields)
    assert columns["invitation_id"].name == "id" and columns["appointment_date"].name == "appointment_date"
