"""FHIR search values, without I/O: date prefixes at each precision (Vietnam's days), tokens, references."""

from datetime import UTC, date, datetime

import pytest

from servicekit.fhir import FhirError
from servicekit.fhir_search import Token, date_search, reference_ids, tokens


def test_a_date_is_vietnams_day_and_an_instant_is_exact() -> None:
    day = date_search("date", "2026-03-02")
    assert (day.prefix, day.start, day.end) == (
        "eq",
        datetime(2026, 3, 1, 17, tzinfo=UTC),  # 00:00 in Vietnam
        datetime(2026, 3, 2, 17, tzinfo=UTC),
    )
    assert day.dates() == (date(2026, 3, 2), date(2026, 3, 3))
    month = date_search("date", "ge2026-12")
    assert (month.prefix, month.dates()) == ("ge", (date(2026, 12, 1), date(2027, 1, 1)))
    year = date_search("date", "lt2026")
    assert year.dates() == (date(2026, 1, 1), date(2027, 1, 1))
    moment = date_search("_lastUpdated", "gt2026-03-02T10:00:00Z")
    assert (moment.start, (moment.end - moment.start).total_seconds()) == (datetime(2026, 3, 2, 10, tzinfo=UTC), 1.0)


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01", "2026-03-02T10:00:00", "xx2026"])
def test_a_value_that_is_no_date_is_a_400_naming_the_parameter(raw: str) -> None:
    with pytest.raises(FhirError) as refused:
        date_search("date", raw)
    assert refused.value.status == 400 and refused.value.issues[0].expression == ("date",)


def test_tokens_and_references() -> None:
    assert tokens("identifier", "http://a|1,2") == [Token("http://a", "1"), Token(None, "2")]
    with pytest.raises(FhirError):
        tokens("identifier", "http://a|")
    assert reference_ids("patient", "Patient/7,8,http://x/fhir/R4/Patient/9", "Patient") == ["7", "8", "9"]
    with pytest.raises(FhirError):
        reference_ids("patient", "Group/7", "Patient")
