"""What a cadre event says about when its change took effect."""

from datetime import date

from contracts import examples
from contracts.events.registry import CadreRegistered, CadreRetired, CadreUpdated


def test_the_kinds_that_state_an_effective_date_give_it_and_the_others_none() -> None:
    retired = CadreRetired(cadre=examples.cadre(), effective_date=date(2025, 7, 1))
    assert retired.stated_effective_date == date(2025, 7, 1)
    assert CadreUpdated(cadre=examples.cadre(), changed_fields=["phone"]).stated_effective_date is None
    assert CadreRegistered(cadre=examples.cadre()).stated_effective_date is None
